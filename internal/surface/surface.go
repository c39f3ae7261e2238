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

// Proof is what the compiler exported of a set of packages on one
// platform.
type Proof struct {
	Platform string              // GOOS/GOARCH, as the go command builds for
	Exported map[string]Exported // by path
	// Unbuilt are the packages none of whose Go files build on Platform
	// (x/sys/windows on linux), sorted: a binary for Platform does not
	// link them, so they have no fingerprint there to differ.
	Unbuilt []string
}

// Export compiles pkgs in r's directory with -trimpath (so that the
// fingerprints do not depend on where the source lies, only on what it
// says), on the platform the go command builds for there, and returns
// their export data and fingerprints; a package that does not build on
// that platform is listed as such.
func Export(ctx context.Context, r gocmd.Runner, pkgs []string) (*Proof, error) {
	env, err := r.Run(ctx, "env", "GOOS", "GOARCH")
	if err != nil {
		return nil, fmt.Errorf("reading the platform of the proof: %w", err)
	}
	pf := &Proof{Platform: strings.Join(strings.Fields(string(env)), "/"), Exported: map[string]Exported{}}
	if len(pkgs) == 0 {
		return pf, nil
	}
	type listed struct {
		ImportPath        string
		Export            string
		GoFiles, CgoFiles []string
		IgnoredGoFiles    []string
		Error             *struct{ Err string }
	}
	var errs []string
	err = gocmd.JSON(ctx, r, func(p *listed) error {
		if p.Error != nil && len(p.GoFiles)+len(p.CgoFiles) == 0 && len(p.IgnoredGoFiles) > 0 {
			pf.Unbuilt = append(pf.Unbuilt, p.ImportPath) // build constraints exclude all its files
			return nil
		}
		if p.Error != nil {
			errs = append(errs, p.ImportPath+": "+strings.TrimSpace(p.Error.Err))
			return nil
		}
		fp, err := fingerprint(p.Export)
		if err != nil {
			return fmt.Errorf("%s: %w", p.ImportPath, err)
		}
		pf.Exported[p.ImportPath] = Exported{Path: p.ImportPath, File: p.Export, Fingerprint: fp}
		return nil
	}, append([]string{"list", "-e", "-export", "-trimpath", "-json=ImportPath,Export,GoFiles,CgoFiles,IgnoredGoFiles,Error", "--"}, pkgs...)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling the kept packages for %s:\n\t%s", pf.Platform, strings.Join(errs, "\n\t"))
	}
	if err != nil {
		return nil, fmt.Errorf("compiling the kept packages for %s: %w", pf.Platform, err)
	}
	slices.Sort(pf.Unbuilt)
	return pf, nil
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
// which packages count (the standard library is shared always). A kept
// package exports lacks, one that does not build on the platform of the
// proof, exposes nothing there.
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
			continue // it does not build on the platform: it exposes nothing there
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
