package closure

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/modtree"
)

// metaPrefixes are the beginnings of the names of the files that go mod
// vendor copies from the parents of a package's directory up to the module
// root, so that licences and notices travel with the code. As go mod
// vendor does, they match in capitals only: "notice_test.go" or
// "licenses.go" is no licence.
var metaPrefixes = []string{"AUTHORS", "CONTRIBUTORS", "COPYLEFT", "COPYING", "COPYRIGHT", "LEGAL", "LICENSE", "NOTICE", "PATENTS"}

func isMetaFile(name string) bool {
	for _, p := range metaPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Files returns the files of module m that a fork of its packages pkgs
// holds, relative to the module root, slash-separated and sorted: the files
// go mod vendor keeps for the packages (tests with tests), embedded files,
// cgo include directories, and licence files. With whole, every file of the
// module (nested modules left out; _test.go files only with tests). go.mod
// is never listed: a fork writes its own.
func Files(m *Module, pkgs []*Package, tests, whole bool) ([]string, error) {
	root := m.Dir
	set := map[string]bool{}
	// addTree adds rel, a file or a directory, and every file below it;
	// below it, names beginning with "." or "_" only with all (as
	// //go:embed treats a directory it embeds), stopping at nested
	// modules. rel itself counts whatever its name: a file a pattern
	// names or a glob matches is embedded.
	addTree := func(rel string, all bool) error {
		include := modtree.Testdata | modtree.Vendor
		if all {
			include |= modtree.Hidden
		}
		dir := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Lstat(dir)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			if fi.Mode().IsRegular() {
				set[rel] = true
			}
			return nil
		}
		return modtree.Walk(dir, include, nil, func(r string, d fs.DirEntry) error {
			if d.Type().IsRegular() {
				set[path.Join(rel, r)] = true
			}
			return nil
		})
	}
	if whole {
		if err := addTree(".", true); err != nil {
			return nil, err
		}
		delete(set, "go.mod")
		delete(set, "go.sum")
		if !tests {
			// _test.go files only with tests, whose closure forks their
			// imports: go mod tidy loads the tests of forked packages, and
			// their imports outside the closure would pull upstream
			// modules back in. (testdata stays: code may embed it.)
			for name := range set {
				if strings.HasSuffix(name, "_test.go") {
					delete(set, name)
				}
			}
		}
		return sortedKeys(set), nil
	}
	inside := func(rel string) (string, bool) {
		rel = path.Clean(rel)
		return rel, rel != ".." && !strings.HasPrefix(rel, "../") && !path.IsAbs(rel)
	}
	for _, p := range pkgs {
		kept := map[string]bool{}
		for _, f := range p.Files {
			kept[f] = true
		}
		ents, err := os.ReadDir(p.Dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			name := e.Name()
			if !e.Type().IsRegular() || name == "go.mod" || name == "go.sum" {
				continue
			}
			if strings.HasSuffix(name, ".go") && !kept[name] {
				continue // a test, or constrained to "ignore"
			}
			if slices.Contains(p.LeftOut, name) {
				continue // in no build of the scope
			}
			set[path.Join(p.Rel, name)] = true
		}
		for _, pat := range p.Embeds {
			all := strings.HasPrefix(pat, "all:")
			pat = strings.TrimPrefix(pat, "all:")
			matches, _ := filepath.Glob(filepath.Join(p.Dir, filepath.FromSlash(pat)))
			for _, m := range matches {
				r, _ := filepath.Rel(root, m)
				if err := addTree(filepath.ToSlash(r), all); err != nil {
					return nil, err
				}
			}
		}
		for _, inc := range p.CgoInc {
			rel, ok := inside(path.Join(p.Rel, inc))
			if !ok {
				continue
			}
			abs := filepath.Join(root, filepath.FromSlash(rel))
			fi, err := os.Stat(abs)
			if err != nil {
				continue // a system header, or generated at build time
			}
			if !fi.IsDir() {
				rel = path.Dir(rel) // the header's directory: headers include their neighbours
			}
			if rel != p.Rel && rel != "." {
				if err := addTree(rel, false); err != nil {
					return nil, err
				}
			}
		}
		if tests {
			if fi, err := os.Stat(filepath.Join(p.Dir, "testdata")); err == nil && fi.IsDir() {
				if err := addTree(path.Join(p.Rel, "testdata"), true); err != nil {
					return nil, err
				}
			}
		}
		// Licence files of the package directory's parents (its own files
		// are in already, its tests left out).
		for dir := p.Rel; dir != "" && dir != "."; {
			dir = path.Dir(dir)
			ents, _ := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
			for _, e := range ents {
				if e.Type().IsRegular() && isMetaFile(e.Name()) {
					set[path.Join(dir, e.Name())] = true
				}
			}
		}
	}
	delete(set, "go.mod")
	return sortedKeys(set), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// constrainedExts are the extensions of the source files other than Go
// that the go command builds into a package, matching them by name suffix
// and build constraint as Go files (go/build). Headers are not among
// them: a file includes a header whatever its name.
var constrainedExts = []string{".c", ".cc", ".cxx", ".cpp", ".m", ".s", ".S", ".sx", ".f", ".F", ".for", ".f90", ".syso"}

// leftOut returns the names, among the entries of a package directory,
// of the source files other than Go that build in no build of the scope
// s, but those a kept file includes by name: a kept C, assembly or header
// file of the directory (#include "name"), or a kept Go file's cgo
// preamble (includes).
func leftOut(dir string, ents []fs.DirEntry, s Scope, includes []string) ([]string, error) {
	out := map[string]bool{}
	var scan []string // kept files whose #include lines count
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		ext := path.Ext(name)
		if !slices.Contains(constrainedExts, ext) {
			if ext == ".h" || ext == ".hh" || ext == ".hpp" || ext == ".hxx" || ext == ".inc" {
				scan = append(scan, name)
			}
			continue
		}
		var src []byte
		if ext != ".syso" { // an object file: its name alone counts
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			src = leadingComments(b)
		}
		if s.Builds(name, src) {
			scan = append(scan, name)
		} else {
			out[name] = true
		}
	}
	// A file left out that a kept file includes is kept, and what it
	// includes counts in turn.
	keep := func(inc string) {
		if name := path.Clean(inc); out[name] {
			delete(out, name)
			scan = append(scan, name)
		}
	}
	for _, inc := range includes {
		keep(inc)
	}
	for len(scan) > 0 {
		name := scan[0]
		scan = scan[1:]
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for _, m := range includeRE.FindAllSubmatch(b, -1) {
			keep(string(m[1]))
		}
	}
	return sortedKeys(out), nil
}

// leadingComments returns the beginning of a C or assembly file up to its
// first line that is neither blank nor a comment: where go/build reads
// its build constraint.
func leadingComments(src []byte) []byte {
	rest := src
	for len(rest) > 0 {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		t := bytes.TrimSpace(line)
		if bytes.HasPrefix(t, []byte("/*")) {
			i := bytes.Index(rest, []byte("*/"))
			if i < 0 {
				break
			}
			rest = rest[i+2:] // what follows the block on its line counts as a line
			continue
		}
		if len(t) > 0 && !bytes.HasPrefix(t, []byte("//")) {
			break
		}
		rest = after
	}
	return src[:len(src)-len(rest)]
}
