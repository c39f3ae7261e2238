package closure

import (
	"go/token"
	"testing"
)

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

func TestBuildsForPlugins(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      bool
	}{
		{"a.go", "package a\n", true},
		{"a_linux.go", "package a\n", true},
		{"a_aix.go", "package a\n", false},
		{"a_hurd_amd64.go", "package a\n", false},
		{"a_windows.go", "package a\n", false},
		{"a_amd64.go", "package a\n", true},
		{"a.go", "//go:build aix\n\npackage a\n", false},
		{"a.go", "//go:build aix || freebsd\n\npackage a\n", true},
		{"a.go", "//go:build unix && !linux && !darwin && !freebsd\n\npackage a\n", false},
		{"a.go", "//go:build cgo && arm64\n\npackage a\n", true},
		{"a.go", "//go:build ignore\n\npackage a\n", false},
		{"a_linux.go", "//go:build !linux\n\npackage a\n", false},
	} {
		if got := BuildsForPlugins(tt.name, []byte(tt.src)); got != tt.want {
			t.Errorf("BuildsForPlugins(%q, %q) = %v, want %v", tt.name, tt.src, got, tt.want)
		}
	}
}
