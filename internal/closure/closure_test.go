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
