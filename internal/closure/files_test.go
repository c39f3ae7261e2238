package closure

import (
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFilesScope checks which files of a package a scoped fork holds: the
// C, assembly and object files that build in no scoped build are left
// out, unless a kept file includes them; headers always stay.
func TestFilesScope(t *testing.T) {
	linux := Scope{Platforms: []string{"linux/amd64"}}
	const goFile = "package p\n"
	tests := []struct {
		name  string
		scope Scope
		files map[string]string
		want  []string
	}{{
		name:  "unscoped keeps everything",
		scope: Scope{},
		files: map[string]string{"p.go": goFile, "x_windows_amd64.s": "TEXT x(SB)\n", "rsrc_windows.syso": "obj"},
		want:  []string{"p.go", "rsrc_windows.syso", "x_windows_amd64.s"},
	}, {
		name:  "by name suffix",
		scope: linux,
		files: map[string]string{
			"p.go": goFile, "x_windows_amd64.s": "TEXT x(SB)\n", "x_amd64.s": "TEXT x(SB)\n", "x_arm64.s": "TEXT x(SB)\n",
			"rsrc_windows.syso": "obj", "rsrc_linux_amd64.syso": "obj", "win_windows.c": "int x;\n", "x.h": "int y;\n",
		},
		want: []string{"p.go", "rsrc_linux_amd64.syso", "x.h", "x_amd64.s"},
	}, {
		name:  "by build constraint, after a block comment",
		scope: linux,
		files: map[string]string{
			"p.go":   goFile,
			"w.c":    "/* Licence\n * text\n */\n\n//go:build windows\n\nint x;\n",
			"l.c":    "//go:build linux && amd64\n\nint x;\n",
			"d.S":    "// +build darwin\n\nTEXT x(SB)\n",
			"late.c": "int x;\n//go:build windows\n",
		},
		want: []string{"l.c", "late.c", "p.go"},
	}, {
		name:  "included by a kept file stays, transitively",
		scope: linux,
		files: map[string]string{
			"p.go":            goFile,
			"all.c":           "#include \"impl_windows.c\"\n",
			"impl_windows.c":  "#include \"more_windows.c\"\n",
			"more_windows.c":  "int x;\n",
			"other_windows.c": "int y;\n",
		},
		want: []string{"all.c", "impl_windows.c", "more_windows.c", "p.go"},
	}, {
		name:  "included by a cgo preamble stays",
		scope: linux,
		files: map[string]string{
			"p.go":            "package p\n\n// #include \"amalg_windows.c\"\nimport \"C\"\n",
			"amalg_windows.c": "int x;\n",
			"p_windows.go":    "package p\n\n// #include \"win_windows.c\"\nimport \"C\"\n",
			"win_windows.c":   "int x;\n",
		},
		want: []string{"amalg_windows.c", "p.go"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			w := &walker{cfg: Config{Scope: tt.scope}, fset: token.NewFileSet()}
			p, err := w.loadPackage("example.com/p", dir, false)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Files(&Module{Path: "example.com/p", Dir: dir}, []*Package{p}, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Files = %q, want %q", got, tt.want)
			}
		})
	}
}
