package closure

import (
	"slices"
	"testing"
)

func TestScopeBuilds(t *testing.T) {
	linux := Scope{Platforms: []string{"linux/amd64"}}
	tagged := Scope{Platforms: []string{"linux/amd64"}, Tags: []string{"x_extra"}}
	anyOS := Scope{Tags: []string{"goplugin"}}
	tests := []struct {
		scope Scope
		name  string
		src   string
		want  bool
	}{
		{Scope{}, "a.go", "//go:build x_extra\n\npackage a\n", true},
		{Scope{}, "a.go", "//go:build ignore\n\npackage a\n", false},
		{linux, "a.go", "package a\n", true},
		{linux, "a.go", "//go:build x_extra\n\npackage a\n", false},
		{tagged, "a.go", "//go:build x_extra\n\npackage a\n", true},
		{linux, "a.go", "//go:build !x_extra\n\npackage a\n", true},
		{linux, "a_windows.go", "package a\n", false},
		{linux, "a_linux_arm64.go", "package a\n", false},
		{linux, "a_linux_amd64_test.go", "package a\n", true},
		{linux, "a_arm64.go", "package a\n", false},
		{linux, "linux.go", "package a\n", true},
		{linux, "a.go", "//go:build darwin || windows\n\npackage a\n", false},
		{linux, "a.go", "//go:build unix && !darwin\n\npackage a\n", true},
		{linux, "a.go", "// +build linux\n// +build 386\n\npackage a\n", false},
		{linux, "a.go", "//go:build cgo\n\npackage a\n", true},
		{linux, "a.go", "//go:build !cgo\n\npackage a\n", true},
		{linux, "a.go", "//go:build go1.21 && gc && !gccgo\n\npackage a\n", true},
		{linux, "a.go", "//go:build ignore\n\npackage a\n", false},
		{anyOS, "a_windows.go", "package a\n", true},
		{anyOS, "a.go", "//go:build windows && !goplugin\n\npackage a\n", false},
		{anyOS, "a.go", "//go:build windows && goplugin\n\npackage a\n", true},
		{Scope{Platforms: []string{"android/arm64"}}, "a_linux.go", "package a\n", true},
	}
	for _, tt := range tests {
		if got := tt.scope.Builds(tt.name, []byte(tt.src)); got != tt.want {
			t.Errorf("%+v: Builds(%s, %q) = %v, want %v", tt.scope, tt.name, tt.src, got, tt.want)
		}
	}
}

func TestNewScope(t *testing.T) {
	s, err := NewScope([]string{"linux/amd64", "darwin/arm64", "linux/amd64"}, []string{"b", "a"})
	if err != nil || !slices.Equal(s.Platforms, []string{"darwin/arm64", "linux/amd64"}) || !slices.Equal(s.Tags, []string{"a", "b"}) {
		t.Errorf("NewScope = %v, %v", s, err)
	}
	for _, bad := range [][2][]string{{{"linux"}, nil}, {{"linux/z80"}, nil}, {nil, {"a b"}}, {nil, {"ignore"}}} {
		if _, err := NewScope(bad[0], bad[1]); err == nil {
			t.Errorf("NewScope(%q, %q): no error", bad[0], bad[1])
		}
	}
}
