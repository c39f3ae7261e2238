package fork

import (
	"go/token"
	"slices"
	"testing"
)

func TestWithModFlag(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{nil, "GOFLAGS=-mod=readonly"},
		{[]string{"GOFLAGS=-mod=vendor -tags=netgo"}, "GOFLAGS=-tags=netgo -mod=readonly"},
		{[]string{"HOME=/h", "GOFLAGS=-tags=a --mod=mod -trimpath"}, "GOFLAGS=-tags=a -trimpath -mod=readonly"},
	} {
		got := withModFlag(tt.env, "readonly")
		if got[len(got)-1] != tt.want || slices.ContainsFunc(got[:len(got)-1], func(kv string) bool { return len(kv) > 8 && kv[:8] == "GOFLAGS=" }) {
			t.Errorf("withModFlag(%q) = %q, want last %q and no other GOFLAGS", tt.env, got, tt.want)
		}
	}
}

func TestMatchPattern(t *testing.T) {
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
		if got := matchPattern(tt.pattern, tt.path); got != tt.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestAnyTags(t *testing.T) {
	for _, tt := range []struct {
		src     string
		ignored bool
	}{
		{"//go:build ignore\n\npackage p\n", true},
		{"//go:build !ignore\n\npackage p\n", false},
		{"//go:build windows && arm64\n\npackage p\n", false},
		{"//go:build linux && !linux\n\npackage p\n", false}, // any tags: a file some build may use is kept, as go mod vendor keeps it
		{"// +build ignore\n\npackage p\n", true},
		{"package p\n", false},
	} {
		info, err := readGoFile(token.NewFileSet(), "x.go", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if info.Ignored != tt.ignored {
			t.Errorf("%q: ignored = %v, want %v", tt.src, info.Ignored, tt.ignored)
		}
	}
}
