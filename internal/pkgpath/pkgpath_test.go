package pkgpath

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"example.com/api", "example.com/api", true},
		{"example.com/api", "example.com/api/v2", false},
		{"example.com/api/...", "example.com/api", true},
		{"example.com/api/...", "example.com/api/v2/x", true},
		{"example.com/api/...", "example.com/apis", false},
		{"example.com/.../x", "example.com/a/b/x", true},
		{"example.com/.../x", "example.com/a/b/y", false},
		{"...", "anything/at/all", true},
		// "..." may match the empty string and spans slashes; the last
		// literal must match where the path ends, not at its first
		// occurrence.
		{"example.com/...api", "example.com/api/b/api", true},
		{"example.com/...api", "example.com/api/b", false},
		{"example.com/...", "example.com/", true},
		{"example.com/...", "example.comx", false},
		{"example.com/a...", "example.com/a", true},
		{"example.com/a...", "example.com/ab/c", true},
		{"...api...", "x/api/y", true},
		{"x/.../y/...", "x/a/y", true},
		{"x/.../y/...", "x/a/y/z", true},
		{"x/.../y/...", "x/a/yz", false},
		// Regexp metacharacters are literal.
		{"example.com/a+b/...", "example.com/a+b/c", true},
		{"example.com/a+b/...", "example.com/aab/c", false},
		{"example.com/a.b", "example.com/axb", false},
		// "..." does not reach into vendor directories.
		{"example.com/...", "example.com/vendor/x", false},
		{"example.com/.../x", "example.com/vendor/x", false},
		{"example.com/vendor/...", "example.com/vendor/x", true},
		{"example.com/vendor/...", "example.com/vendor", true},
		{"vendor/...", "vendor/x", true},
		{"example.com/...", "example.com/a/vendor", true}, // a last element is no vendor directory
		{"example.com/\x00/...", "example.com/\x00/x", false},
		{"example.com/...", "example.com/\x00", false},
	} {
		if got := Match(tt.pattern, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tt := range []struct {
		path, prefix string
		want         bool
	}{
		{"foo/bar", "foo/bar", true},
		{"foo/bar/x", "foo/bar", true},
		{"foo/barbaz", "foo/bar", false},
		{"foo", "foo/bar", false},
	} {
		if got := Within(tt.path, tt.prefix); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.path, tt.prefix, got, tt.want)
		}
	}
}

// TestMatchLinear: matching is a regexp, not a backtracking search, so a
// pattern with many "..." and a long path do not blow up.
func TestMatchLinear(t *testing.T) {
	pat := Compile(strings.Repeat("a/...", 50) + "b")
	path := strings.Repeat("a/", 5000) + "c"
	if pat.Match(path) {
		t.Fatal("matched")
	}
}
