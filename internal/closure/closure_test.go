package closure

import (
	"go/token"
	"maps"
	"os"
	"path/filepath"
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
		{"zsyscall_aix_ppc64_gccgo.go", "// +build aix,ppc64,gccgo\n\npackage a\n", false},
		{"a.go", "// +build aix,ppc64,gccgo\n\npackage a\n", false},
		{"a.go", "// +build aix windows\n\npackage a\n", false},
		{"a.go", "// +build aix linux\n\npackage a\n", true},
		{"a.go", "// +build linux\n// +build aix\n\npackage a\n", false},
		{"a.go", "// Copyright\n\n// +build !windows\n\npackage a\n", true},
		{"a.go", "//go:build linux\n// +build aix\n\npackage a\n", true},
	} {
		if got := BuildsForPlugins(tt.name, []byte(tt.src)); got != tt.want {
			t.Errorf("BuildsForPlugins(%q, %q) = %v, want %v", tt.name, tt.src, got, tt.want)
		}
	}
}

func TestSurface(t *testing.T) {
	sdk := &Module{Path: "example.com/sdk"}
	w := &Module{Path: "example.com/widget"}
	u := &Module{Path: "example.com/util"}
	pkg := func(m *Module, path string, byModule bool, imports ...string) *Package {
		return &Package{Path: path, Mod: m, Kept: byModule || path == "example.com/sdk/typed" || path == "example.com/sdk/inline", KeptByModule: byModule, BuildImports: imports}
	}
	for _, tt := range []struct {
		name      string
		pkgs      []*Package
		shared    map[string]string
		notShared map[string]string
	}{{
		name: "module kept: the package with a private dependency is left out",
		pkgs: []*Package{
			pkg(sdk, "example.com/sdk/api", true),
			pkg(sdk, "example.com/sdk", true, "example.com/sdk/api", "example.com/widget"),
			pkg(w, "example.com/widget", false, "example.com/util"),
			pkg(u, "example.com/util", false),
		},
		shared:    map[string]string{"example.com/sdk/api": ""},
		notShared: map[string]string{"example.com/sdk": "example.com/widget"},
	}, {
		name: "module kept: its only package is its contract",
		pkgs: []*Package{
			pkg(sdk, "example.com/sdk", true, "example.com/widget"),
			pkg(w, "example.com/widget", false),
		},
		shared: map[string]string{"example.com/sdk": "", "example.com/widget": "example.com/sdk"},
	}, {
		name: "package kept: what it imports, transitively, is shared",
		pkgs: []*Package{
			pkg(sdk, "example.com/sdk/typed", false, "example.com/widget"),
			pkg(w, "example.com/widget", false, "example.com/util"),
			pkg(u, "example.com/util", false),
		},
		shared: map[string]string{"example.com/sdk/typed": "", "example.com/widget": "example.com/sdk/typed", "example.com/util": "example.com/widget"},
	}, {
		name: "left out, but a shared package imports it",
		pkgs: []*Package{
			pkg(sdk, "example.com/sdk/inline", false, "example.com/sdk"),
			pkg(sdk, "example.com/sdk", true, "example.com/widget"),
			pkg(w, "example.com/widget", false),
		},
		shared: map[string]string{"example.com/sdk/inline": "", "example.com/sdk": "example.com/sdk/inline", "example.com/widget": "example.com/sdk"},
	}, {
		name: "left out, until its private dependency is shared anyway",
		pkgs: []*Package{
			pkg(sdk, "example.com/sdk", true, "example.com/widget"),
			pkg(sdk, "example.com/sdk/typed", false, "example.com/widget"),
			pkg(w, "example.com/widget", false),
		},
		shared: map[string]string{"example.com/sdk": "", "example.com/sdk/typed": "", "example.com/widget": "example.com/sdk"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Closure{Forked: map[string]*Package{}, Pinned: map[string]*Package{}}
			for _, p := range tt.pkgs {
				c.Forked[p.Path] = p
			}
			shared, notShared := c.Surface()
			if !maps.Equal(shared, tt.shared) {
				t.Errorf("shared %v, want %v", shared, tt.shared)
			}
			if tt.notShared == nil {
				tt.notShared = map[string]string{}
			}
			if !maps.Equal(notShared, tt.notShared) {
				t.Errorf("not shared %v, want %v", notShared, tt.notShared)
			}
		})
	}
}

// TestPackageName: a package's name is its files', a generator's package
// main beside them (otto/underscore's download.go, //go:build generate,
// first by name) left out; a directory of package main files is main.
func TestPackageName(t *testing.T) {
	for _, tt := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{
			"download.go":   "//go:build generate\n\npackage main\n",
			"underscore.go": "package underscore\n",
		}, "underscore"},
		{map[string]string{"a.go": "package lib\n", "z_gen.go": "//go:build ignore\n\npackage main\n"}, "lib"},
		{map[string]string{"main.go": "package main\n", "tool.go": "package main\n"}, "main"},
	} {
		dir := t.TempDir()
		for name, src := range tt.files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		w := &walker{fset: token.NewFileSet()}
		p, err := w.loadPackage("example.com/p", dir, false)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != tt.want {
			t.Errorf("%v: Name = %q, want %q", tt.files, p.Name, tt.want)
		}
	}
}

// TestClosureValue: Split and ForkToo return new closures and leave the
// one they are called on as it was.
func TestClosureValue(t *testing.T) {
	mod := &Module{Path: "example.com/m", Version: "v1.0.0"}
	pkg := func(path string) *Package { return &Package{Path: path, Mod: mod} }
	c := &Closure{
		Forked: map[string]*Package{"example.com/m/a": pkg("example.com/m/a")},
		Pinned: map[string]*Package{"example.com/m/internal/x": pkg("example.com/m/internal/x"), "example.com/m/api": pkg("example.com/m/api")},
	}
	forked, pinned := maps.Clone(c.Forked), maps.Clone(c.Pinned)
	same := func(what string) {
		t.Helper()
		if !maps.Equal(c.Forked, forked) || !maps.Equal(c.Pinned, pinned) {
			t.Errorf("%s changed the closure it was called on: forked %v, pinned %v", what, c.Forked, c.Pinned)
		}
	}
	s := c.Split(map[string]bool{"example.com/m/api": true})
	same("Split")
	if len(s.Pinned) != 1 || s.Pinned["example.com/m/api"] == nil || len(s.Forked) != 2 {
		t.Errorf("Split: forked %v, pinned %v", s.Forked, s.Pinned)
	}
	f := c.ForkToo([]string{"example.com/m/internal/x", "example.com/m/nowhere"})
	same("ForkToo")
	if len(f.Forked) != 2 || f.Forked["example.com/m/internal/x"] == nil || !maps.Equal(f.Pinned, pinned) {
		t.Errorf("ForkToo: forked %v, pinned %v", f.Forked, f.Pinned)
	}
}
