// Package closure is plugfork's model of a host: its build list, the
// go.sum-verified sources of its modules, the import closure of its
// packages as go mod vendor sees it, the files go mod vendor would keep
// for each package, and package patterns.
package closure

import (
	"context"
	"fmt"
	"go/token"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// Module is a module of the host's build list, as go list -m -json prints
// it, with its source directory and hash filled in by Download.
type Module struct {
	Path    string
	Version string
	Main    bool
	Dir     string // source directory (module cache or local replacement)
	Sum     string // h1: of the source
	Replace *Replacement
}

// Replacement is the replace directive that applies to a module.
type Replacement struct {
	Path    string
	Version string // "" for a directory
	Dir     string
}

// ReplaceString returns the lock's form of the module's replacement:
// "path version", a directory, or "" for none.
func (m *Module) ReplaceString() string {
	if m.Replace == nil {
		return ""
	}
	if m.Replace.Version != "" {
		return m.Replace.Path + " " + m.Replace.Version
	}
	return m.Replace.Path
}

// source returns the module@version whose bytes are the module's source.
func (m *Module) source() module.Version {
	if m.Replace != nil && m.Replace.Version != "" {
		return module.Version{Path: m.Replace.Path, Version: m.Replace.Version}
	}
	return module.Version{Path: m.Path, Version: m.Version}
}

// LocalDir reports whether the module is replaced by a directory.
func (m *Module) LocalDir() bool { return m.Replace != nil && m.Replace.Version == "" }

// Package is a package of the closure.
type Package struct {
	Path    string
	Name    string   // the package clause's name (of its first compiled file, main only when all are)
	Mod     *Module  // nil for host packages
	Dir     string   // source directory
	Rel     string   // directory relative to the module root, slash-separated ("" for the root)
	Files   []string // names of the Go files go mod vendor keeps (tests with Config.Tests)
	Imports []string // sorted
	// BuildImports are the imports of the files a build compiles, tests
	// left out, sorted.
	BuildImports []string
	Embeds       []string // //go:embed patterns
	CgoInc       []string // paths a cgo preamble refers to, relative to Dir
	Kept         bool     // matched by a keep pattern
	// KeptByModule: kept only as a package of a module a pattern names
	// (--keep example.com/sdk), not by its own path.
	KeptByModule bool
	Direct       bool // imported by a host package
	// Sites are the files of the imports: where a package is reached from.
	Sites map[string]Site
	// LeftOut are the names of the package's other source files (C,
	// assembly, .syso...) that build in no build of a scope, and that no
	// file kept includes: a fork leaves them out.
	LeftOut []string
}

// Site is where a package imports another: the file, and its build
// constraint ("" for none). Of several files, an unconstrained one.
type Site struct {
	File string // base name
	// Constraint is the file's: its name's GOOS and GOARCH and its
	// //go:build expression, as one expression.
	Constraint string
}

// ReachedFrom returns an import chain from a host package down to the
// package path, each step with the file that imports the next and that
// file's build constraint: where a fork's file comes from. Of the chains,
// one with the fewest constrained steps: a chain with one means that every
// chain has one, so only builds that set them reach path.
func (c *Closure) ReachedFrom(path string) []lockfile.Step {
	byPath := map[string]*Package{}
	for _, m := range []map[string]*Package{c.Pinned, c.Forked} {
		maps.Copy(byPath, m)
	}
	for _, p := range c.Host {
		byPath[p.Path] = p
	}
	// A 0-1 breadth-first search: an import through a constrained file
	// costs 1, any other 0.
	dist, pred := map[string]int{}, map[string]string{}
	var deque []string
	for _, p := range c.Host {
		dist[p.Path] = 0
		deque = append(deque, p.Path)
	}
	for len(deque) > 0 {
		cur := deque[0]
		deque = deque[1:]
		p := byPath[cur]
		for _, imp := range p.Imports {
			if byPath[imp] == nil {
				continue
			}
			cost := 0
			if p.Sites[imp].Constraint != "" {
				cost = 1
			}
			if d, ok := dist[imp]; ok && d <= dist[cur]+cost {
				continue
			}
			dist[imp], pred[imp] = dist[cur]+cost, cur
			if cost == 0 {
				deque = append([]string{imp}, deque...)
			} else {
				deque = append(deque, imp)
			}
		}
	}
	if _, ok := dist[path]; !ok {
		return nil
	}
	chain := []lockfile.Step{{Package: path}}
	for cur := path; pred[cur] != ""; cur = pred[cur] {
		site := byPath[pred[cur]].Sites[cur]
		chain = append(chain, lockfile.Step{Package: pred[cur], File: site.File, Constraint: site.Constraint})
	}
	slices.Reverse(chain)
	return chain
}

// ListModules returns the build list of the module in r's directory,
// without the main module. It runs with -mod=mod so that the go command may
// restore go.sum lines of upstream modules that a fork had made
// unnecessary; the caller makes sure go.mod itself did not move.
func ListModules(ctx context.Context, r gocmd.Runner) (mods []*Module, err error) {
	err = gocmd.JSON(ctx, r, func(m *Module) error {
		if !m.Main {
			mods = append(mods, m)
		}
		return nil
	}, "list", "-mod=mod", "-m", "-json", "all")
	if err != nil {
		return nil, fmt.Errorf("loading the host's build list: %w", err)
	}
	for _, m := range mods {
		if m.Replace != nil && m.Replace.Dir != "" {
			m.Dir = m.Replace.Dir
		}
	}
	return mods, nil
}

// Download fills in Dir and Sum of modules from the go.sum-verified module
// cache, downloading what is missing, in one go command. Modules that
// already have both are left alone.
func Download(ctx context.Context, r gocmd.Runner, mods []*Module) error {
	var args []string
	bySource := map[module.Version][]*Module{}
	for _, m := range mods {
		if m.Dir != "" && m.Sum != "" {
			continue
		}
		if m.LocalDir() {
			if m.Sum == "" {
				h, err := dirhash.HashDir(m.Dir, m.Path, dirhash.Hash1)
				if err != nil {
					return fmt.Errorf("%s => %s: hashing local replacement: %w", m.Path, m.Replace.Path, err)
				}
				m.Sum = h
			}
			continue
		}
		src := m.source()
		if _, ok := bySource[src]; !ok {
			args = append(args, src.Path+"@"+src.Version)
		}
		bySource[src] = append(bySource[src], m)
	}
	if len(args) == 0 {
		return nil
	}
	slices.Sort(args)
	type dl struct {
		Path, Version, Dir, Sum, Error string
	}
	var errs []string
	err := gocmd.JSON(ctx, r, func(d *dl) error {
		if d.Error != "" {
			errs = append(errs, d.Path+"@"+d.Version+": "+d.Error)
			return nil
		}
		for _, m := range bySource[module.Version{Path: d.Path, Version: d.Version}] {
			m.Dir, m.Sum = d.Dir, d.Sum
		}
		return nil
	}, append([]string{"mod", "download", "-json"}, args...)...)
	if len(errs) > 0 {
		return fmt.Errorf("downloading modules:\n\t%s\n(offline? a private module needs GOPRIVATE or GONOSUMDB)", strings.Join(errs, "\n\t"))
	}
	if err != nil {
		return fmt.Errorf("downloading modules: %w", err)
	}
	return nil
}

// FetchRequired fills in Dir and Sum, in one go command, for the modules
// the host's go.mod requires: for a go 1.17 or later host, every module
// that provides a package, so that an unscoped Build finds them all in the
// module cache at once, instead of a go command a wave of its walk. A
// scoped walk does without: it would download modules that only files
// outside the scope import.
func FetchRequired(ctx context.Context, r gocmd.Runner, mods []*Module, gomod []byte) error {
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return err
	}
	required := map[string]bool{}
	for _, req := range f.Require {
		required[req.Mod.Path] = true
	}
	var fetch []*Module
	for _, m := range mods {
		if required[m.Path] {
			fetch = append(fetch, m)
		}
	}
	return Download(ctx, r, fetch)
}

// Config says whose closure Build walks and how.
type Config struct {
	HostPath string       // the host's module path
	HostDir  string       // the host's root directory
	Tests    bool         // walk the imports of dependencies' tests too
	Keep     []string     // patterns of packages or modules that stay shared
	Scope    Scope        // the builds whose files count (zero: all)
	Mods     []*Module    // the build list, without the main module
	Run      gocmd.Runner // the go command, for modules not yet downloaded
}

// Closure is the host's import closure, in the upstream view. Forked and
// Pinned are disjoint but for the copies ForkToo adds. A Closure is a value:
// Split and ForkToo return new ones and leave theirs as they were.
type Closure struct {
	Host   []*Package          // the host packages it starts from
	Forked map[string]*Package // third-party packages reached without passing through a kept package
	Pinned map[string]*Package // kept, or reached only through kept packages
}

// Build walks the closure of the host packages in the directories hostRels
// (relative to cfg.HostDir), reading every Go file whatever its build
// constraints, as go mod vendor does: host packages with their tests,
// dependencies with theirs only with cfg.Tests.
func Build(ctx context.Context, cfg Config, hostRels []string) (*Closure, error) {
	w := &walker{cfg: cfg, fset: token.NewFileSet(), pkgs: map[string]*Package{}}
	w.keep = hostmodel.NewKeep(cfg.Keep)
	c := &Closure{Forked: map[string]*Package{}, Pinned: map[string]*Package{}}
	type item struct {
		pkg    *Package
		pinned bool
	}
	var queue []item
	for _, rel := range hostRels {
		ip := path.Join(cfg.HostPath, rel)
		p, err := w.loadPackage(ip, filepath.Join(cfg.HostDir, filepath.FromSlash(rel)), true)
		if err != nil {
			return nil, err
		}
		c.Host = append(c.Host, p)
		queue = append(queue, item{p, false})
	}
	// Breadth-first, a wave at a time: the modules a wave's new imports
	// need and the module cache lacks are downloaded in one go command, so
	// that a scoped walk downloads only what the scope reaches.
	for len(queue) > 0 {
		wave := queue
		queue = nil
		var need []string
		for _, it := range wave {
			for _, imp := range it.pkg.Imports {
				if !pkgpath.IsStd(imp) && !w.hostPkg(imp) && w.pkgs[imp] == nil {
					need = append(need, imp)
				}
			}
		}
		if err := w.fetch(ctx, need); err != nil {
			return nil, err
		}
		for _, it := range wave {
			for _, imp := range it.pkg.Imports {
				if pkgpath.IsStd(imp) || w.hostPkg(imp) {
					continue
				}
				p := w.pkgs[imp]
				if p == nil {
					m, rel, err := w.resolve(ctx, imp)
					if err != nil {
						return nil, fmt.Errorf("%s imports %s: %w", it.pkg.Path, imp, err)
					}
					p, err = w.loadPackage(imp, filepath.Join(m.Dir, filepath.FromSlash(rel)), cfg.Tests)
					if err != nil {
						return nil, err
					}
					p.Mod, p.Rel = m, rel
					p.Kept, p.KeptByModule = w.keep.Keeps(imp, m.Path)
					w.pkgs[imp] = p
				}
				if it.pkg.Mod == nil && !it.pinned {
					p.Direct = true
				}
				pinned := it.pinned || p.Kept
				if pinned {
					if c.Pinned[imp] == nil {
						c.Pinned[imp] = p
						queue = append(queue, item{p, true})
					}
				} else if c.Forked[imp] == nil {
					c.Forked[imp] = p
					queue = append(queue, item{p, false})
				}
			}
		}
	}
	return c, nil
}

// Exposed returns the host packages that other modules (plugins) can
// import, neither main nor internal to the host, whose imports reach forked
// packages, directly or through other host packages, with the forked
// modules they reach, both sorted.
func (c *Closure) Exposed() map[string][]string {
	byPath := map[string]*Package{}
	for _, p := range c.Host {
		byPath[p.Path] = p
	}
	out := map[string][]string{}
	for _, p := range c.Host {
		if p.Name == "main" || internal(p.Path) {
			continue
		}
		mods := map[string]bool{}
		seen := map[string]bool{p.Path: true}
		stack := []*Package{p}
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, imp := range q.BuildImports {
				if f := c.Forked[imp]; f != nil {
					mods[f.Mod.Path] = true
				} else if h := byPath[imp]; h != nil && !seen[imp] {
					seen[imp] = true
					stack = append(stack, h)
				}
			}
		}
		if len(mods) > 0 {
			out[p.Path] = slices.Sorted(maps.Keys(mods))
		}
	}
	return out
}

// internal reports whether an import path has an "internal" element: only
// packages of the tree it roots may import it.
func internal(path string) bool {
	return slices.Contains(strings.Split(path, "/"), "internal")
}

// Split returns the closure with the third-party packages divided anew:
// those in shared stay shared (pinned), every other one is forked, however
// it is reached.
func (c *Closure) Split(shared map[string]bool) *Closure {
	out := &Closure{Host: c.Host, Forked: map[string]*Package{}, Pinned: map[string]*Package{}}
	for _, m := range []map[string]*Package{c.Forked, c.Pinned} {
		for path, p := range m {
			if shared[path] {
				out.Pinned[path] = p
			} else {
				out.Forked[path] = p
			}
		}
	}
	return out
}

// ForkToo returns the closure with the pinned packages paths forked too:
// they stay shared, and also get a forked copy. An internal package of a
// forked module that the shared surface holds needs one: only its own
// module may import it, so the forked packages of that module import a
// forked copy, while the shared ones import the original.
func (c *Closure) ForkToo(paths []string) *Closure {
	out := &Closure{Host: c.Host, Forked: maps.Clone(c.Forked), Pinned: c.Pinned}
	for _, path := range paths {
		if p := c.Pinned[path]; p != nil {
			out.Forked[path] = p
		}
	}
	return out
}

// Surface returns the shared surface of the kept packages: what host and
// plugins must share for the kept packages to keep their fingerprints. A
// package's fingerprint covers the import path of every package it
// imports, transitively, so the surface is the kept packages and every
// third-party package they import, transitively, in a build: shared maps
// each to the package of the surface that imports it ("" for a kept one).
// A package kept only because its module is (--keep MODULE) whose imports
// reach a package nobody kept is left out (forked, as its module's other
// packages that plugins need not share), unless a shared package imports
// it: notShared maps it to the first such private dependency.
func (c *Closure) Surface() (shared, notShared map[string]string) {
	all := map[string]*Package{}
	for _, m := range []map[string]*Package{c.Pinned, c.Forked} {
		maps.Copy(all, m)
	}
	// reach returns the third-party packages roots import, transitively,
	// each with the first importer found, visiting in sorted order.
	reach := func(roots []string) (map[string]string, []string) {
		via := map[string]string{}
		order := slices.Clone(roots)
		for _, r := range roots {
			via[r] = ""
		}
		for i := 0; i < len(order); i++ {
			for _, imp := range all[order[i]].BuildImports {
				if _, seen := via[imp]; !seen && all[imp] != nil {
					via[imp] = order[i]
					order = append(order, imp)
				}
			}
		}
		return via, order
	}
	notShared = map[string]string{}
	keptOf := map[*Module]int{} // kept packages, by module
	for _, path := range c.Kept() {
		keptOf[all[path].Mod]++
		if all[path].KeptByModule {
			_, order := reach([]string{path})
			if i := slices.IndexFunc(order, func(q string) bool { return !all[q].Kept }); i >= 0 {
				notShared[path] = order[i]
			}
		}
	}
	// A kept module keeps at least its contract: when every package of
	// it would be left out, none is (--keep example.com/api, one package
	// that imports example.com/dep, shares both).
	leftOut := map[*Module]int{}
	for path := range notShared {
		leftOut[all[path].Mod]++
	}
	for path := range notShared {
		if m := all[path].Mod; leftOut[m] == keptOf[m] {
			delete(notShared, path)
		}
	}
	var roots []string
	for _, path := range c.Kept() {
		if _, out := notShared[path]; !out {
			roots = append(roots, path)
		}
	}
	for {
		shared, _ = reach(roots)
		// A left-out package that a shared one imports is shared; one
		// whose private dependencies turned out shared anyway need not be
		// left out.
		again := false
		for _, path := range slices.Sorted(maps.Keys(notShared)) {
			_, order := reach([]string{path})
			_, imported := shared[path]
			if imported || !slices.ContainsFunc(order[1:], func(q string) bool { _, ok := shared[q]; return !ok }) {
				delete(notShared, path)
				if !imported {
					roots = append(roots, path)
					again = true
				}
			}
		}
		if !again {
			return shared, notShared
		}
		slices.Sort(roots)
	}
}

// Kept returns the import paths of the packages a keep pattern matched,
// sorted.
func (c *Closure) Kept() []string {
	var out []string
	for _, m := range []map[string]*Package{c.Forked, c.Pinned} {
		for path, p := range m {
			if p.Kept {
				out = append(out, path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ForkedModules returns the modules providing forked packages, sorted, each
// with its packages sorted.
func (c *Closure) ForkedModules() ([]*Module, map[*Module][]*Package) {
	byMod := map[*Module][]*Package{}
	for _, p := range c.Forked {
		byMod[p.Mod] = append(byMod[p.Mod], p)
	}
	var mods []*Module
	for m, ps := range byMod {
		mods = append(mods, m)
		slices.SortFunc(ps, func(a, b *Package) int { return strings.Compare(a.Path, b.Path) })
	}
	slices.SortFunc(mods, func(a, b *Module) int { return strings.Compare(a.Path, b.Path) })
	return mods, byMod
}

// walker is Build's state.
type walker struct {
	cfg  Config
	keep hostmodel.Keep
	fset *token.FileSet
	pkgs map[string]*Package // third-party packages read so far
}

// hostPkg reports whether import path ip is a package of the host module
// (not of a module nested in it).
func (w *walker) hostPkg(ip string) bool {
	if !pkgpath.Within(ip, w.cfg.HostPath) {
		return false
	}
	for _, m := range w.cfg.Mods {
		if len(m.Path) > len(w.cfg.HostPath) && pkgpath.Within(ip, m.Path) {
			return false // a nested module of its own
		}
	}
	return true
}

// loadPackage reads the package in dir: the Go files go mod vendor keeps
// (tests only if tests), and the imports, embeds and cgo includes of those
// the go command compiles (not those whose names begin with "." or "_").
func (w *walker) loadPackage(importPath, dir string, tests bool) (*Package, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	p := &Package{Path: importPath, Dir: dir}
	imports, buildImports := map[string]bool{}, map[string]bool{}
	var includes []string // of the kept files' cgo preambles
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".go") {
			continue
		}
		isTest := strings.HasSuffix(name, "_test.go")
		if isTest && !tests {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		info, err := readGoFile(w.fset, filepath.Join(dir, name), src)
		if err != nil {
			return nil, err
		}
		if info.Ignored || !w.cfg.Scope.Builds(name, src) {
			continue // in no build (of the scope)
		}
		p.Files = append(p.Files, name)
		if modtree.Classify(dir, e) == modtree.Hidden {
			continue // kept by go mod vendor, never compiled
		}
		if !isTest && (p.Name == "" || p.Name == "main" && info.Name != "main") {
			// A package main beside a library's files is a generator
			// built with a tag of its own (//go:build generate): the
			// library is the package.
			p.Name = info.Name
		}
		cons := siteConstraint(name, src)
		for _, imp := range info.Imports {
			if old, ok := p.Sites[imp]; !ok || old.Constraint != "" && cons == "" {
				if p.Sites == nil {
					p.Sites = map[string]Site{}
				}
				p.Sites[imp] = Site{File: name, Constraint: cons}
			}
			imports[imp] = true
			if !isTest {
				buildImports[imp] = true
			}
		}
		if !isTest {
			p.Embeds = append(p.Embeds, info.Embeds...)
			p.CgoInc = append(p.CgoInc, info.CgoIncludes...)
			includes = append(includes, info.Includes...)
		}
	}
	if !w.cfg.Scope.IsZero() {
		if p.LeftOut, err = leftOut(dir, ents, w.cfg.Scope, includes); err != nil {
			return nil, err
		}
	}
	p.Imports = slices.Sorted(maps.Keys(imports))
	p.BuildImports = slices.Sorted(maps.Keys(buildImports))
	return p, nil
}

// candidates returns the modules of the build list whose paths contain
// import path p, longest first: the one providing p is the first with Go
// files in p's directory.
func (w *walker) candidates(p string) []*Module {
	var cands []*Module
	for _, m := range w.cfg.Mods {
		if pkgpath.Within(p, m.Path) {
			cands = append(cands, m)
		}
	}
	slices.SortFunc(cands, func(a, b *Module) int { return len(b.Path) - len(a.Path) })
	return cands
}

// fetch downloads, a go command a round, the modules that resolving the
// import paths needs and the module cache lacks: for each path, the
// candidates up to the first one that is downloaded and provides it (a
// round a level of nesting, nearly always one).
func (w *walker) fetch(ctx context.Context, paths []string) error {
	for {
		var missing []*Module
		seen := map[*Module]bool{}
		for _, p := range paths {
			for _, m := range w.candidates(p) {
				if m.Dir == "" {
					if !seen[m] {
						seen[m] = true
						missing = append(missing, m)
					}
					break
				}
				rel := strings.TrimPrefix(strings.TrimPrefix(p, m.Path), "/")
				if modtree.HasGoFiles(filepath.Join(m.Dir, filepath.FromSlash(rel))) {
					break
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if err := Download(ctx, w.cfg.Run, missing); err != nil {
			return err
		}
		for _, m := range missing {
			if m.Dir == "" {
				return fmt.Errorf("%s@%s: downloading gave no directory", m.Path, m.Version)
			}
		}
	}
}

// resolve returns the module of the build list providing import path p:
// the longest module path that contains p and has Go files in its
// directory. A module not yet in the module cache is downloaded (rare:
// fetch downloaded a wave's modules before it is resolved).
func (w *walker) resolve(ctx context.Context, p string) (*Module, string, error) {
	for _, m := range w.candidates(p) {
		if m.Dir == "" {
			if err := Download(ctx, w.cfg.Run, []*Module{m}); err != nil {
				return nil, "", err
			}
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, m.Path), "/")
		dir := filepath.Join(m.Dir, filepath.FromSlash(rel))
		if modtree.HasGoFiles(dir) {
			return m, rel, nil
		}
	}
	return nil, "", fmt.Errorf("no module in the host's build list provides package %s", p)
}
