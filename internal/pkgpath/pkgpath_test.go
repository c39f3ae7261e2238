package pkgpath

import "testing"

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
