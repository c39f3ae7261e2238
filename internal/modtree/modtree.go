// Package modtree is plugfork's one model of a module's file tree: which
// directories hold the module's packages and which files belong to it,
// decided by one set of rules (testdata, vendor, names beginning with "."
// or "_", nested modules, symbolic links) that every walk of a host, a
// module or a fork applies.
package modtree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// A Class is what an entry below a module root is to the go command. Walk
// takes a set of classes (Classes) to enter and report besides plain ones.
type Class uint8

// The classes, in the order Classify tries them.
const (
	// Plain is an ordinary directory or file of the module.
	Plain Class = 0
	// Symlink is a symbolic link: never followed, and no module zip holds
	// one.
	Symlink Class = 1 << iota
	// Nested is a directory holding a go.mod: the root of another module.
	Nested
	// Vendor is a directory named vendor: it holds no package of the
	// module.
	Vendor
	// Testdata is a directory named testdata: the go command looks for
	// no packages in it, though module zips keep it.
	Testdata
	// Hidden is a name beginning with "." or "_": the go command ignores
	// such files and directories when it looks for packages, and //go:embed
	// leaves them out of embedded directories unless the pattern says all:.
	Hidden
)

// All is every class.
const All = Symlink | Nested | Vendor | Testdata | Hidden

// Classify returns the class of the entry d, found in the directory dir.
func Classify(dir string, d fs.DirEntry) Class {
	name := d.Name()
	switch {
	case d.Type()&fs.ModeSymlink != 0:
		return Symlink
	case d.IsDir() && IsModuleRoot(filepath.Join(dir, name)):
		return Nested
	case d.IsDir() && name == "vendor":
		return Vendor
	case d.IsDir() && name == "testdata":
		return Testdata
	case hidden(name):
		return Hidden
	}
	return Plain
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

// IsModuleRoot reports whether dir holds a go.mod.
func IsModuleRoot(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// Walk calls fn for every entry below root (not root itself) whose class
// is plain or in include, in lexical order, with its slash-separated path
// relative to root; it enters only the directories it reports. Paths in
// skip (relative to root, slash-separated) are neither reported nor
// entered. fn may return fs.SkipDir to leave a directory out.
func Walk(root string, include Class, skip []string, fn func(rel string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if c := Classify(filepath.Dir(p), d); c != Plain && include&c == 0 || slices.Contains(skip, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		return fn(rel, d)
	})
}

// Files returns the regular files below root whose class is plain or in
// include (symbolic links too when include has Symlink), relative and
// slash-separated, sorted.
func Files(root string, include Class) ([]string, error) {
	var files []string
	err := Walk(root, include, nil, func(rel string, d fs.DirEntry) error {
		if !d.IsDir() && (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
			files = append(files, rel)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

// Packages returns the directories of the module at root that may hold its
// packages, as the go command's "./..." looks for them: root itself ("")
// and every plain directory below it holding a Go source file, relative and
// slash-separated, in lexical order. Directories in skip (relative,
// slash-separated: inline forks) are left out with all below them.
func Packages(root string, skip ...string) ([]string, error) {
	var rels []string
	if HasGoFiles(root) {
		rels = append(rels, "")
	}
	err := Walk(root, Plain, skip, func(rel string, d fs.DirEntry) error {
		if d.IsDir() && HasGoFiles(filepath.Join(root, filepath.FromSlash(rel))) {
			rels = append(rels, rel)
		}
		return nil
	})
	return rels, err
}

// HasGoFiles reports whether dir holds a Go source file: a plain regular
// file whose name ends in .go.
func HasGoFiles(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") && !hidden(e.Name()) {
			return true
		}
	}
	return false
}

// PackageFile reports whether the file at rel (slash-separated, relative to
// a module root) lies where the go command looks for packages: no directory
// on its way is testdata or vendor or begins with "." or "_", and its own
// name begins with neither. Nested modules are not seen: rel is only a path.
func PackageFile(rel string) bool {
	for _, elem := range strings.Split(rel, "/") {
		if hidden(elem) {
			return false
		}
	}
	for _, elem := range strings.Split(path.Dir(rel), "/") {
		if elem == "testdata" || elem == "vendor" {
			return false
		}
	}
	return true
}

// ErrNotModule is the error of a directory that is in no Go module.
var ErrNotModule = errors.New("not in a Go module (no go.mod): run plugfork in the host module's root")

// FindRoot walks up from dir to the nearest directory holding a go.mod and
// returns it and the go.mod's content. An error wrapping ErrNotModule says
// there is none.
func FindRoot(dir string) (root string, gomod []byte, err error) {
	dir = filepath.Clean(dir)
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			return d, data, nil
		}
		if filepath.Dir(d) == d {
			return "", nil, fmt.Errorf("%s is %w", dir, ErrNotModule)
		}
	}
}
