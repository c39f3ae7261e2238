package fork

import (
	"go/build/constraint"
	"strings"
	"testing"
)

func TestWithFileVersion(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"none", "package a\n", "//go:build go1.21\n\npackage a\n"},
		{"doc comment", "// Copyright.\n\n// Package a.\npackage a\n", "//go:build go1.21\n\n// Copyright.\n\n// Package a.\npackage a\n"},
		{"go:build", "// Copyright.\n\n//go:build linux\n\npackage a\n", "// Copyright.\n\n//go:build linux && go1.21\n\npackage a\n"},
		{"or", "//go:build linux || darwin\n\npackage a\n", "//go:build (linux || darwin) && go1.21\n\npackage a\n"},
		{"go:build and +build", "//go:build linux\n// +build linux\n\npackage a\n", "//go:build linux && go1.21\n\npackage a\n"},
		{"+build only", "// +build linux darwin\n// +build amd64\n\npackage a\n", "//go:build (linux || darwin) && amd64 && go1.21\n\npackage a\n"},
		{"older go term", "//go:build go1.18\n\npackage a\n", "//go:build go1.18 && go1.21\n\npackage a\n"},
		{"newer go term", "//go:build go1.23\n\npackage a\n", "//go:build go1.23\n\npackage a\n"},
		{"after package", "package a\n\n//go:build linux\n", "//go:build go1.21\n\npackage a\n\n//go:build linux\n"},
		{"cgo", "//go:build cgo\n\npackage a\n\n// #include <stdio.h>\nimport \"C\"\n", "//go:build cgo && go1.21\n\npackage a\n\n// #include <stdio.h>\nimport \"C\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := withFileVersion([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			// The file's version as the go command reads it back.
			line := firstLine(got)
			e, err := constraint.Parse(line)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			if v := constraint.GoVersion(e); v != "go1.21" && v != "go1.23" {
				t.Errorf("GoVersion(%q) = %q", line, v)
			}
		})
	}
}

// firstLine returns the //go:build line of src, or "".
func firstLine(src []byte) string {
	for line := range strings.Lines(string(src)) {
		if line = strings.TrimSpace(line); constraint.IsGoBuild(line) {
			return line
		}
	}
	return ""
}

func TestPinsVersion(t *testing.T) {
	for _, tc := range []struct {
		fork, host string
		want       bool
	}{
		{"go1.16", "go1.26", true},
		{"go1.21", "go1.26", true},
		{"go1.21.5", "go1.22", true},
		{"go1.22", "go1.26", false},
		{"go1.25", "go1.26", false},
		{"go1.16", "go1.21", false},
	} {
		if got := pinsVersion(tc.fork, tc.host); got != tc.want {
			t.Errorf("pinsVersion(%s, %s) = %v, want %v", tc.fork, tc.host, got, tc.want)
		}
	}
}
