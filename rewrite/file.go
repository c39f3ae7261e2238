package rewrite

import (
	"path"

	"github.com/plugfork/plugfork/internal/modtree"
)

// Kind returns the kind of source the file at rel below a module root is
// for the rewrite, "go" or "asm", and whether it is one: Go and assembly
// files where the go command looks for packages (not below testdata,
// vendor, or a directory whose name begins with "." or "_").
func Kind(rel string) (kind string, ok bool) {
	if !modtree.PackageFile(rel) {
		return "", false
	}
	switch path.Ext(rel) {
	case ".go":
		return "go", true
	case ".s":
		return "asm", true
	}
	return "", false
}

// File applies the mapping to one file's bytes, of the kind Kind gives
// ("" for a file the rewrite leaves as it is). With fast, a Go file's
// header only is parsed (GoFast): for module sources, compiled upstream;
// otherwise the whole file, so that its syntax errors are reported.
func File(display, kind string, src []byte, m *Mapping, fast bool) (Result, error) {
	switch {
	case kind == "go" && fast:
		return GoFast(display, src, m)
	case kind == "go":
		return Go(display, src, m)
	case kind == "asm":
		return Asm(display, src, m)
	}
	return Result{Src: src}, nil
}
