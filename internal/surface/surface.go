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
	"github.com/plugfork/plugfork/internal/load"
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
	env, err := r.GoEnv(ctx, "GOOS", "GOARCH")
	if err != nil {
		return nil, fmt.Errorf("reading the platform of the proof: %w", err)
	}
	pf := &Proof{Platform: env[0] + "/" + env[1], Exported: map[string]Exported{}}
	if len(pkgs) == 0 {
		return pf, nil
	}
	listed, err := load.Packages(ctx, load.Config{Dir: r.Dir, Env: r.Env, BuildFlags: []string{"-trimpath"}},
		load.Name|load.Files|load.ExportFile, pkgs...)
	if err != nil {
		return nil, fmt.Errorf("compiling the kept packages for %s: %w", pf.Platform, err)
	}
	var errs []string
	for _, p := range listed {
		if len(p.Errors) > 0 && len(p.GoFiles) == 0 && slices.ContainsFunc(p.IgnoredFiles, isGo) {
			pf.Unbuilt = append(pf.Unbuilt, p.PkgPath) // build constraints exclude all its files
			continue
		}
		if len(p.Errors) > 0 {
			for _, e := range p.Errors {
				errs = append(errs, p.PkgPath+": "+strings.TrimSpace(e.Msg))
			}
			continue
		}
		fp, err := fingerprint(p.ExportFile)
		if err != nil {
			return nil, fmt.Errorf("compiling the kept packages for %s: %s: %w", pf.Platform, p.PkgPath, err)
		}
		pf.Exported[p.PkgPath] = Exported{Path: p.PkgPath, File: p.ExportFile, Fingerprint: fp}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling the kept packages for %s:\n\t%s", pf.Platform, strings.Join(errs, "\n\t"))
	}
	slices.Sort(pf.Unbuilt)
	return pf, nil
}

// isGo reports whether a file is a Go file.
func isGo(name string) bool { return strings.HasSuffix(name, ".go") }

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
	// Up to Go 1.27, the go command's -export names the compiler's archive (which
	// the fingerprint is read from too); from Go 1.28 it runs cmd/export.
	//lint:ignore SA1019 the archive is what the go command's -export gives on the Go releases plugfork supports
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

// ExposureKind says what part of an exported API refers to a type.
type ExposureKind string

// The kinds of Exposure.
const (
	ExposedParam    ExposureKind = "parameter"      // of a function or method
	ExposedResult   ExposureKind = "result"         // of a function or method
	ExposedField    ExposureKind = "field"          // of a struct type
	ExposedEmbedded ExposureKind = "embedded"       // a struct's embedded field or an interface's embedded type: its methods join the method set
	ExposedAlias    ExposureKind = "alias"          // type T = ...
	ExposedType     ExposureKind = "type"           // type T ...: what it is defined as
	ExposedVar      ExposureKind = "var"            // a variable's type
	ExposedConst    ExposureKind = "const"          // a constant's type
	ExposedTypeArg  ExposureKind = "type parameter" // a constraint
)

// Exposure is an exported declaration of a package's API whose type refers
// to a type declared in another package: an importer that uses the
// declaration uses that package's type.
type Exposure struct {
	Decl    string       // as importers name it, without the package: "Request.ID", "New", "Logger.WithFields"
	Kind    ExposureKind // what part of the declaration refers to it
	Package string       // the package that declares the type
}

// Exposes walks the exported API of pkg (its exported functions, variables,
// constants and types, the exported fields and methods of those types,
// with every type they refer to, transitively) and returns each exposure
// of a type of a package match reports, sorted: one per declaration and
// package, of the first kind found (a type's parameters, then its fields
// or methods; a function's parameters, then its results). The types of
// packages skip reports are not looked into (the standard library refers
// to no third-party type), nor the exported types of pkg, which have
// exposures of their own.
func Exposes(pkg *types.Package, match, skip func(path string) bool) []Exposure {
	type key struct{ decl, pkg string }
	seen := map[key]bool{}
	var out []Exposure
	stop := func(obj *types.TypeName) bool {
		return skip(obj.Pkg().Path()) || obj.Pkg() == pkg && obj.Exported()
	}
	visit := func(decl string, kind ExposureKind, t types.Type) {
		w := walker{seen: map[types.Type]bool{}, skip: stop, found: func(p *types.Package, _ string) {
			if k := (key{decl, p.Path()}); match(p.Path()) && !seen[k] {
				seen[k] = true
				out = append(out, Exposure{Decl: decl, Kind: kind, Package: p.Path()})
			}
		}}
		w.typ(t, decl)
	}
	signature := func(decl string, sig *types.Signature) {
		visit(decl, ExposedParam, sig.Params())
		visit(decl, ExposedResult, sig.Results())
		for tp := range sig.TypeParams().TypeParams() {
			visit(decl, ExposedTypeArg, tp.Constraint())
		}
	}
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		switch obj := scope.Lookup(name).(type) {
		case *types.Func:
			if obj.Exported() {
				signature(name, obj.Signature())
			}
		case *types.Var:
			if obj.Exported() {
				visit(name, ExposedVar, obj.Type())
			}
		case *types.Const:
			if obj.Exported() {
				visit(name, ExposedConst, obj.Type())
			}
		case *types.TypeName:
			if !obj.Exported() {
				continue
			}
			if obj.IsAlias() {
				visit(name, ExposedAlias, types.Unalias(obj.Type()))
				continue
			}
			named, ok := obj.Type().(*types.Named)
			if !ok {
				continue
			}
			for tp := range named.TypeParams().TypeParams() {
				visit(name, ExposedTypeArg, tp.Constraint())
			}
			switch u := named.Underlying().(type) {
			case *types.Struct:
				for f := range u.Fields() {
					switch {
					case f.Embedded():
						visit(name+"."+f.Name(), ExposedEmbedded, f.Type())
					case f.Exported():
						visit(name+"."+f.Name(), ExposedField, f.Type())
					}
				}
			case *types.Interface:
				for m := range u.ExplicitMethods() {
					signature(name+"."+m.Name(), m.Signature())
				}
				for e := range u.EmbeddedTypes() {
					visit(name, ExposedEmbedded, e)
				}
			default:
				visit(name, ExposedType, u)
			}
			for m := range named.Methods() {
				if m.Exported() {
					signature(name+"."+m.Name(), m.Signature())
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Exposure) int {
		return strings.Compare(a.Decl+"\x00"+string(a.Kind)+"\x00"+a.Package, b.Decl+"\x00"+string(b.Kind)+"\x00"+b.Package)
	})
	return out
}

// walker visits the types an exported API refers to, and the packages
// that declare the named ones. It does not look into the named types
// skip reports (nil: none).
type walker struct {
	seen  map[types.Type]bool
	found func(p *types.Package, by string)
	skip  func(*types.TypeName) bool
}

func (w *walker) typ(t types.Type, by string) {
	if t == nil || w.seen[t] {
		return
	}
	w.seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		for a := range t.TypeArgs().Types() {
			w.typ(a, by)
		}
		if p := t.Obj().Pkg(); p != nil {
			w.found(p, by)
			if w.skip != nil && w.skip(t.Obj()) {
				return
			}
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
