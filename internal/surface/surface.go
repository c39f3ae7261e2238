// Package surface finds the shared surface of the packages a host keeps
// shared with its plugins: the kept packages and every package whose
// declarations their exported API refers to, transitively, read from the
// compiler's export data, with the reason each is there; and it reads the
// linker fingerprints that prove a package's export data unchanged.
package surface

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"go/token"
	"go/types"
	"os"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"golang.org/x/tools/go/gcexportdata"
)

// Exported is a package as the compiler exported it.
type Exported struct {
	Path        string
	File        string // the export data file
	Fingerprint string // the 8-byte fingerprint the linker compares, in hex
}

// Export compiles pkgs in r's directory with -trimpath (so that the
// fingerprints do not depend on where the source lies, only on what it
// says) and returns their export data and fingerprints, by path.
func Export(ctx context.Context, r gocmd.Runner, pkgs []string) (map[string]Exported, error) {
	out := map[string]Exported{}
	if len(pkgs) == 0 {
		return out, nil
	}
	type listed struct {
		ImportPath string
		Export     string
		Error      *struct{ Err string }
	}
	var errs []string
	err := gocmd.JSON(ctx, r, func(p *listed) error {
		if p.Error != nil {
			errs = append(errs, p.ImportPath+": "+strings.TrimSpace(p.Error.Err))
			return nil
		}
		fp, err := fingerprint(p.Export)
		if err != nil {
			return fmt.Errorf("%s: %w", p.ImportPath, err)
		}
		out[p.ImportPath] = Exported{Path: p.ImportPath, File: p.Export, Fingerprint: fp}
		return nil
	}, append([]string{"list", "-e", "-export", "-trimpath", "-json=ImportPath,Export,Error", "--"}, pkgs...)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling the kept packages:\n\t%s", strings.Join(errs, "\n\t"))
	}
	if err != nil {
		return nil, fmt.Errorf("compiling the kept packages: %w", err)
	}
	return out, nil
}

// objMagic begins the object file in a package's archive; the linker's
// fingerprint of the package follows it.
var objMagic = []byte("\x00go120ld")

// fingerprint reads the fingerprint the compiler wrote into the package
// archive file: the hash of its export data that the linker records and
// plugin.Open compares.
func fingerprint(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	i := bytes.Index(data, objMagic)
	if i < 0 || i+len(objMagic)+8 > len(data) {
		return "", fmt.Errorf("%s: no Go object file in the archive", file)
	}
	return hex.EncodeToString(data[i+len(objMagic) : i+len(objMagic)+8]), nil
}

// Reason is why a package is in the surface.
type Reason struct {
	Package string // the package in the surface
	Why     string // "kept", or "exposed by example.com/sdk/api.Plugin.Handle"
}

// Compute returns the shared surface of the kept packages, whose export
// data exports holds: each kept package ("kept"), and each package whose
// declarations the kept packages' exported API refers to, transitively
// (through the types of exported objects, their methods, fields and
// parameters), with the first object that exposes it. thirdParty reports
// which packages count (the standard library is shared always).
func Compute(exports map[string]Exported, kept []string, thirdParty func(string) bool) ([]Reason, error) {
	fset := token.NewFileSet()
	imports := map[string]*types.Package{}
	why := map[string]string{}
	for _, k := range kept {
		why[k] = "kept"
	}
	for _, k := range slices.Sorted(slices.Values(kept)) {
		e, ok := exports[k]
		if !ok {
			return nil, fmt.Errorf("%s: no export data", k)
		}
		pkg, err := read(fset, imports, e)
		if err != nil {
			return nil, err
		}
		w := walker{seen: map[types.Type]bool{}, found: func(p *types.Package, by string) {
			if path := p.Path(); thirdParty(path) && why[path] == "" {
				why[path] = "exposed by " + by
			}
		}}
		scope := pkg.Scope()
		for _, name := range scope.Names() {
			obj := scope.Lookup(name)
			if !obj.Exported() {
				continue
			}
			by := k + "." + name
			named, ok := obj.Type().(*types.Named)
			if _, isType := obj.(*types.TypeName); !isType || !ok {
				w.typ(obj.Type(), by)
				continue
			}
			// A type of the kept package: what its fields expose, then
			// each method, by name.
			w.seen[named] = true
			w.typ(named.Underlying(), by)
			for m := range named.Methods() {
				if m.Exported() {
					w.typ(m.Type(), by+"."+m.Name())
				}
			}
		}
	}
	var out []Reason
	for _, p := range slices.Sorted(func(yield func(string) bool) {
		for p := range why {
			if !yield(p) {
				return
			}
		}
	}) {
		out = append(out, Reason{Package: p, Why: why[p]})
	}
	return out, nil
}

// read reads a package's export data.
func read(fset *token.FileSet, imports map[string]*types.Package, e Exported) (*types.Package, error) {
	f, err := os.Open(e.File)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Up to Go 1.27, go list -export names the compiler's archive (which
	// the fingerprint is read from too); from Go 1.28 it runs cmd/export.
	//lint:ignore SA1019 the archive is what go list -export gives on the Go releases plugfork supports
	r, err := gcexportdata.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: reading export data: %w", e.Path, err)
	}
	pkg, err := gcexportdata.Read(r, fset, imports, e.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: reading export data: %w", e.Path, err)
	}
	return pkg, nil
}

// walker visits the types an exported API refers to, and the packages
// that declare the named ones.
type walker struct {
	seen  map[types.Type]bool
	found func(p *types.Package, by string)
}

func (w *walker) typ(t types.Type, by string) {
	if t == nil || w.seen[t] {
		return
	}
	w.seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		if p := t.Obj().Pkg(); p != nil {
			w.found(p, by)
		}
		for a := range t.TypeArgs().Types() {
			w.typ(a, by)
		}
		// A dependency's declaration refers to what its own API does:
		// its underlying type and its methods.
		w.typ(t.Underlying(), by)
		for m := range t.Methods() {
			w.typ(m.Type(), by)
		}
	case *types.Alias:
		if p := t.Obj().Pkg(); p != nil {
			w.found(p, by)
		}
		w.typ(types.Unalias(t), by)
	case *types.Pointer:
		w.typ(t.Elem(), by)
	case *types.Slice:
		w.typ(t.Elem(), by)
	case *types.Array:
		w.typ(t.Elem(), by)
	case *types.Chan:
		w.typ(t.Elem(), by)
	case *types.Map:
		w.typ(t.Key(), by)
		w.typ(t.Elem(), by)
	case *types.Signature:
		w.tuple(t.Params(), by)
		w.tuple(t.Results(), by)
		for tp := range t.TypeParams().TypeParams() {
			w.typ(tp.Constraint(), by)
		}
	case *types.Tuple:
		w.tuple(t, by)
	case *types.Struct:
		for f := range t.Fields() {
			w.typ(f.Type(), by)
		}
	case *types.Interface:
		for m := range t.Methods() {
			w.typ(m.Type(), by)
		}
		for e := range t.EmbeddedTypes() {
			w.typ(e, by)
		}
	case *types.TypeParam:
		w.typ(t.Constraint(), by)
	case *types.Union:
		for term := range t.Terms() {
			w.typ(term.Type(), by)
		}
	}
}

func (w *walker) tuple(t *types.Tuple, by string) {
	for v := range t.Variables() {
		w.typ(v.Type(), by)
	}
}
