// Package typecheck type-checks the packages of a module and all they
// import, from source, in bounded memory: packages are checked in
// dependency order, in parallel, and of each only what its importers need
// is kept: its API, written as export data and read back, or, for a small
// package, its *types.Package. No syntax tree outlives the check of its
// package, and no types.Info is made.
package typecheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/plugfork/plugfork/internal/load"
	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"
)

// Error is one error of a package that does not type-check.
type Error struct {
	Pos string // file:line:col, relative to the directory checked; "" when the error has no position
	Msg string
}

func (e Error) String() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

// Config says what to check.
type Config struct {
	Dir      string   // the module's directory
	Env      []string // the go command's environment
	Patterns []string // the packages to check, with all they import
	// Progress, when set, is told how many packages are checked, of how
	// many, as the check goes.
	Progress func(done, total int)
	// API, when set, is called with the API of each package checked, as
	// its importers see it, from the goroutines that check them.
	API func(*types.Package)
}

// Check type-checks the packages of cfg.Patterns and everything they
// import, and returns every error, with positions relative to cfg.Dir,
// sorted and de-duplicated: the errors of packages the go command cannot
// load (a missing import, a syntax error), and those of the type checker.
func Check(ctx context.Context, cfg Config) ([]Error, error) {
	pkgs, err := load.Packages(ctx, load.Config{Dir: cfg.Dir, Env: cfg.Env},
		load.Name|load.Files|load.CompiledFiles|load.Deps|load.Module, cfg.Patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	goarch := ""
	for _, kv := range cfg.Env {
		if v, ok := strings.CutPrefix(kv, "GOARCH="); ok {
			goarch = v
		}
	}
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	c := &checker{
		dir:      cfg.Dir,
		fset:     token.NewFileSet(),
		sizes:    types.SizesFor("gc", goarch),
		byPath:   map[string]*node{},
		progress: cfg.Progress,
		api:      cfg.API,
		imported: map[string]*types.Package{},
	}
	return c.run(ctx, pkgs)
}

// node is one package in the check, with what is left to do for it.
type node struct {
	p         *packages.Package
	waiting   int     // imports not checked yet
	importers []*node // the packages that import it
	remaining int     // importers not checked yet: when none, its node lets go of its types
	types     *types.Package
}

type checker struct {
	dir      string
	fset     *token.FileSet
	sizes    types.Sizes
	progress func(done, total int)
	api      func(*types.Package)

	mu     sync.Mutex
	byPath map[string]*node
	errs   []Error
	done   int

	// exportMu serializes reading export data into imported, the packages
	// importers see, by path: gcexportdata.Read adds to the map.
	exportMu sync.Mutex
	imported map[string]*types.Package
}

func (c *checker) run(ctx context.Context, pkgs []*packages.Package) ([]Error, error) {
	for _, p := range pkgs {
		c.byPath[p.ID] = &node{p: p}
	}
	var ready []*node
	for _, p := range pkgs {
		n := c.byPath[p.ID]
		for _, imp := range n.imports() {
			if d := c.byPath[imp]; d != nil && d != n {
				n.waiting++
				d.importers = append(d.importers, n)
				d.remaining++
			}
		}
		for _, e := range p.Errors {
			c.listError(e.Pos, e.Msg)
		}
	}
	for _, p := range pkgs {
		if n := c.byPath[p.ID]; n.waiting == 0 {
			ready = append(ready, n)
		}
	}

	// A pool of workers over the packages whose imports are all checked.
	work := make(chan *node, len(pkgs))
	for _, n := range ready {
		work <- n
	}
	total := len(pkgs)
	if total == 0 {
		close(work)
	}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for n := range work {
				if ctx.Err() == nil {
					c.check(n)
				}
				c.mu.Lock()
				c.done++
				if c.progress != nil && (c.done%50 == 0 || c.done == total) {
					c.progress(c.done, total)
				}
				for _, d := range n.importers {
					if d.waiting--; d.waiting == 0 {
						work <- d
					}
				}
				// Its imports' types are needed no longer by it.
				for _, imp := range n.imports() {
					if d := c.byPath[imp]; d != nil && d != n {
						if d.remaining--; d.remaining == 0 {
							d.types = nil
						}
					}
				}
				if c.done == total {
					close(work)
				}
				c.mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seen := map[Error]bool{}
	var out []Error
	for _, e := range c.errs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Error) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// imports returns the packages n imports, by the paths the go command
// resolved them to.
func (n *node) imports() []string {
	out := make([]string, 0, len(n.p.Imports))
	for _, imp := range n.p.Imports {
		out = append(out, imp.ID)
	}
	return out
}

// check parses and type-checks one package, and keeps its API for its
// importers; its syntax and line tables are dropped after.
func (c *checker) check(n *node) {
	p := n.p
	if p.ID == "unsafe" {
		n.types = types.Unsafe
		return
	}
	// The files the compiler sees (cgo's output for cgo files); a package
	// the go command could not prepare has only its Go files.
	names := p.CompiledGoFiles
	var files []*ast.File
	for _, name := range names {
		f, err := parser.ParseFile(c.fset, name, nil, parser.AllErrors|parser.SkipObjectResolution)
		if list, ok := err.(scanner.ErrorList); ok {
			for _, e := range list {
				c.typeError(e)
			}
		} else if err != nil {
			c.typeError(err)
		}
		if f != nil {
			files = append(files, f)
		}
	}
	conf := &types.Config{
		Importer: importerFunc(func(path string) (*types.Package, error) {
			if imp, ok := p.Imports[path]; ok {
				path = imp.ID
			}
			c.mu.Lock()
			d := c.byPath[path]
			c.mu.Unlock()
			if d == nil || d.types == nil {
				// As go/packages: a package the go command could not
				// find is an empty one, with no name.
				return types.NewPackage(path, ""), nil
			}
			return d.types, nil
		}),
		Sizes: c.sizes,
		Error: func(err error) { c.typeError(err) },
	}
	if p.Module != nil && p.Module.GoVersion != "" {
		conf.GoVersion = "go" + p.Module.GoVersion
	}
	pkg, _ := conf.Check(p.ID, c.fset, files, nil)
	bodies := 0
	for _, f := range files {
		for _, d := range f.Decls {
			if d, ok := d.(*ast.FuncDecl); ok && d.Body != nil {
				bodies += int(d.Body.End() - d.Body.Pos())
			}
		}
	}
	n.types = c.compact(pkg, bodies)
	if c.api != nil && n.types != nil {
		c.api(n.types)
	}
	if n.types != pkg {
		// Its errors have their positions, and its API positions of its
		// own: its line tables can go.
		for _, f := range files {
			c.fset.RemoveFile(c.fset.File(f.FileStart))
		}
	}
}

// compact returns the API of a checked package as its importers see it:
// the package written as export data and read back, its imports the
// compacted packages already read. A package checked from source holds
// the scopes and objects of every block of its function bodies, three
// quarters of its memory; its API holds none.
//
// Positions in the API keep their file and line, not their column: the
// one message of the type checker that names a position in another
// package ("cannot infer V (declared at file:line:col)") gives column 1.
// A package whose function bodies span less than compactSize bytes of
// source is kept as checked: its bodies hold little, and its export data
// would hold all it refers to of the API of the packages it imports,
// whose writing costs more than it saves. So is a package the export
// writer refuses (some ill-typed ones).
func (c *checker) compact(pkg *types.Package, bodies int) *types.Package {
	var buf bytes.Buffer
	err := errSmall
	if bodies >= compactSize {
		err = gcexportdata.Write(&buf, c.fset, pkg)
	}
	c.exportMu.Lock()
	defer c.exportMu.Unlock()
	if err == nil {
		var read *types.Package
		if read, err = gcexportdata.Read(&buf, c.fset, c.imported, pkg.Path()); err == nil {
			return read
		}
	}
	// Its importers' export data refers to it: reading that must find
	// this package, not make another of the same path.
	c.imported[pkg.Path()] = pkg
	return pkg
}

// compactSize is a var for the tests, which compact every package.
var compactSize = 8 << 10

var errSmall = errors.New("too small to compact")

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// typeError records an error of the type checker or the parser.
func (c *checker) typeError(err error) {
	var e Error
	switch err := err.(type) {
	case types.Error:
		e = Error{Pos: c.rel(err.Fset.Position(err.Pos).String()), Msg: c.relMsg(err.Msg)}
	case *scanner.Error:
		e = Error{Pos: c.rel(err.Pos.String()), Msg: err.Msg}
	default:
		e = Error{Msg: err.Error()}
		if pos, msg, ok := splitPos(err.Error()); ok {
			e = Error{Pos: c.rel(pos), Msg: msg}
		}
	}
	c.mu.Lock()
	c.errs = append(c.errs, e)
	c.mu.Unlock()
}

// listError records an error the go command reported for a package: its lines
// that name a file become errors of their own.
func (c *checker) listError(pos, msg string) {
	msg = strings.TrimSpace(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos != "" {
		c.errs = append(c.errs, Error{Pos: c.rel(pos), Msg: c.relMsg(msg)})
		return
	}
	c.errs = append(c.errs, Error{Msg: c.relMsg(msg)})
}

// relMsg returns msg with the files it names below the checked directory
// made relative to it ("cannot infer V (declared at file:line:col)").
func (c *checker) relMsg(msg string) string {
	return strings.ReplaceAll(msg, c.dir+string(filepath.Separator), "")
}

// splitPos splits "file:line:col: msg".
func splitPos(s string) (pos, msg string, ok bool) {
	i := strings.Index(s, ": ")
	if i < 0 {
		return "", "", false
	}
	pos = s[:i]
	if strings.Count(pos, ":") < 2 {
		return "", "", false
	}
	return pos, s[i+2:], true
}

// rel returns pos with the file made relative to the checked directory
// when it lies below it.
func (c *checker) rel(pos string) string {
	if rel, err := filepath.Rel(c.dir, pos); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return pos
}
