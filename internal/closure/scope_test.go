package closure

import (
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/lockfile"
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
		{linux, "a.go", "//go:build !go1.27\n\npackage a\n", true},
		{linux, "a.go", "//go:build !(go1.27 && !http2legacy)\n\npackage a\n", true},
		{linux, "a.go", "//go:build go1.27 && !http2legacy\n\npackage a\n", true},
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

// TestReachedFrom: the chain to a package goes through as few constrained
// files as there are, so a constrained step means only builds that set it
// reach the package.
func TestReachedFrom(t *testing.T) {
	pkg := func(path string, sites map[string]Site) *Package {
		p := &Package{Path: path, Sites: sites}
		for imp := range sites {
			p.Imports = append(p.Imports, imp)
		}
		slices.Sort(p.Imports)
		return p
	}
	tagged := Site{File: "extra.go", Constraint: "x_extra"}
	plain := Site{File: "main.go"}
	c := &Closure{
		Host: []*Package{pkg("h", map[string]Site{"a": tagged, "b": plain})},
		Forked: map[string]*Package{
			"a":   pkg("a", map[string]Site{"lib": plain}),
			"b":   pkg("b", map[string]Site{"c": plain}),
			"c":   pkg("c", map[string]Site{"lib": plain}),
			"lib": pkg("lib", nil),
		},
	}
	if s := chainString(c.ReachedFrom("lib")); s != "h main.go  > b main.go  > c main.go  > lib  " {
		t.Errorf("ReachedFrom(lib) = %s, want the unconstrained chain through b and c", s)
	}
	c.Forked["c"] = pkg("c", nil) // now only a reaches lib
	if s := chainString(c.ReachedFrom("lib")); s != "h extra.go x_extra > a main.go  > lib  " {
		t.Errorf("ReachedFrom(lib) = %s, want the chain through extra.go", s)
	}
	if got := c.ReachedFrom("nowhere"); got != nil {
		t.Errorf("ReachedFrom(nowhere) = %v", got)
	}
}

func chainString(chain []lockfile.Step) string {
	var parts []string
	for _, s := range chain {
		parts = append(parts, s.Package+" "+s.File+" "+s.Constraint)
	}
	return strings.Join(parts, " > ")
}

func TestSiteConstraint(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"a.go", "package a\n", ""},
		{"a_windows.go", "package a\n", "windows"},
		{"a_linux_arm64.go", "//go:build cgo || x\n\npackage a\n", "linux && arm64 && (cgo || x)"},
		{"a.go", "//go:build x_extra\n\npackage a\n", "x_extra"},
		{"a_linux_amd64.go", "//go:build !x && linux && amd64\n\npackage a\n", "!x && linux && amd64"},
	} {
		if got := siteConstraint(tt.name, []byte(tt.src)); got != tt.want {
			t.Errorf("siteConstraint(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestScopeOutside(t *testing.T) {
	linux := Scope{Platforms: []string{"linux/amd64", "linux/arm64"}, Tags: []string{"goplugin"}}
	for _, tt := range []struct {
		scope        Scope
		goos, goarch string
		tags         []string
		want         string
	}{
		{Scope{}, "windows", "386", []string{"x"}, ""},
		{linux, "linux", "arm64", nil, ""},
		{linux, "linux", "amd64", []string{"goplugin", "cgo", "netgo", "go1.21", "amd64.v3"}, "it sets the build tag netgo, outside the scope"},
		{linux, "linux", "amd64", []string{"goplugin", "cgo", "go1.21", "amd64.v3", "linux"}, ""},
		{linux, "darwin", "arm64", nil, "it builds for darwin/arm64, a platform outside the scope"},
		{Scope{Tags: []string{"x"}}, "darwin", "arm64", []string{"y"}, "it sets the build tag y, outside the scope"},
	} {
		if got := tt.scope.Outside(tt.goos, tt.goarch, tt.tags); got != tt.want {
			t.Errorf("%+v.Outside(%s, %s, %q) = %q, want %q", tt.scope, tt.goos, tt.goarch, tt.tags, got, tt.want)
		}
	}
}
