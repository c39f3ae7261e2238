package fork

import (
	"context"
	"fmt"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// modInfo is a module of the host's build list.
type modInfo struct {
	Path    string
	Version string
	Main    bool
	Dir     string // source directory (module cache or local replacement)
	Sum     string // h1: of the source
	Replace *struct {
		Path    string
		Version string
		Dir     string
	}
}

// replaceString returns the lock's form of the module's replacement.
func (m *modInfo) replaceString() string {
	if m.Replace == nil {
		return ""
	}
	if m.Replace.Version != "" {
		return m.Replace.Path + " " + m.Replace.Version
	}
	return m.Replace.Path
}

// source returns the module@version whose bytes are the module's source.
func (m *modInfo) source() module.Version {
	if m.Replace != nil && m.Replace.Version != "" {
		return module.Version{Path: m.Replace.Path, Version: m.Replace.Version}
	}
	return module.Version{Path: m.Path, Version: m.Version}
}

// localDir reports whether the module is replaced by a directory.
func (m *modInfo) localDir() bool { return m.Replace != nil && m.Replace.Version == "" }

// pkgInfo is a package of the closure.
type pkgInfo struct {
	Path    string
	Mod     *modInfo // nil for host packages
	Dir     string   // source directory
	Rel     string   // directory relative to the module root, slash-separated ("" for the root)
	Files   []string // names of the Go files go mod vendor keeps (tests with --tests)
	Imports []string // sorted
	Embeds  []string
	CgoInc  []string
	Kept    bool // matched by --keep
	Direct  bool // imported by a host package
}

// closure is the host's import closure, in the upstream view.
type closure struct {
	hostPath string
	tests    bool
	keep     []string
	mods     []*modInfo          // the build list, without the main module
	pkgs     map[string]*pkgInfo // third-party packages reached from the host
	forked   map[string]*pkgInfo // reached without passing through a kept package
	pinned   map[string]*pkgInfo // kept, or reached only through kept packages
	host     []*pkgInfo
	fset     *token.FileSet
	run      gocmd.Runner
}

// listModules returns the build list of the module in dir, without the
// main module. It runs with
// -mod=mod so that the go command may restore go.sum lines of upstream
// modules that a fork had made unnecessary; the caller makes sure go.mod
// itself did not move.
func listModules(ctx context.Context, r gocmd.Runner) (mods []*modInfo, err error) {
	err = gocmd.JSON(ctx, r, func(m *modInfo) error {
		if !m.Main {
			mods = append(mods, m)
		}
		return nil
	}, "list", "-mod=mod", "-m", "-json", "all")
	if err != nil {
		return nil, fmt.Errorf("loading the host's build list: %w", err)
	}
	for _, m := range mods {
		if m.localDir() {
			m.Dir = m.Replace.Dir
		} else if m.Replace != nil && m.Replace.Dir != "" {
			m.Dir = m.Replace.Dir
		}
	}
	return mods, nil
}

// download fills in Dir and Sum of modules from the go.sum-verified module
// cache, downloading what is missing, in one go command. Modules that
// already have both are left alone.
func download(ctx context.Context, r gocmd.Runner, mods []*modInfo) error {
	var args []string
	bySource := map[module.Version][]*modInfo{}
	for _, m := range mods {
		if m.Dir != "" && m.Sum != "" {
			continue
		}
		if m.localDir() {
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

// walkHost returns the host's packages below dir (the staged host root):
// every directory with Go files, except testdata, directories whose names
// begin with "." or "_", nested modules, and vendor.
func walkHost(dir string) ([]string, error) {
	var rels []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel != "." {
			name := d.Name()
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		if hasGoFiles(p) {
			if rel == "." {
				rel = ""
			}
			rels = append(rels, rel)
		}
		return nil
	})
	return rels, err
}

func hasGoFiles(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") {
			return true
		}
	}
	return false
}

// loadPackage reads the package in dir: its kept Go files and their imports.
// Host packages include their tests (go mod vendor vendors what host tests
// import); dependencies include tests only with --tests.
func (c *closure) loadPackage(importPath, dir string, tests bool) (*pkgInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	p := &pkgInfo{Path: importPath, Dir: dir}
	imports := map[string]bool{}
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
		info, err := readGoFile(c.fset, filepath.Join(dir, name), src)
		if err != nil {
			return nil, err
		}
		if info.Ignored {
			continue
		}
		p.Files = append(p.Files, name)
		for _, imp := range info.Imports {
			imports[imp] = true
		}
		if !isTest {
			p.Embeds = append(p.Embeds, info.Embeds...)
			p.CgoInc = append(p.CgoInc, info.CgoIncludes...)
		}
	}
	for imp := range imports {
		p.Imports = append(p.Imports, imp)
	}
	slices.Sort(p.Imports)
	return p, nil
}

// resolve returns the module of the build list providing import path p:
// the longest module path that contains p and has Go files in its directory.
// A module not yet in the module cache is downloaded (rare: fetchRequired
// fetched go.mod's requirements before the walk).
func (c *closure) resolve(ctx context.Context, p string) (*modInfo, string, error) {
	var cands []*modInfo
	for _, m := range c.mods {
		if within(p, m.Path) {
			cands = append(cands, m)
		}
	}
	slices.SortFunc(cands, func(a, b *modInfo) int { return len(b.Path) - len(a.Path) })
	for _, m := range cands {
		if m.Dir == "" {
			if err := download(ctx, c.run, []*modInfo{m}); err != nil {
				return nil, "", err
			}
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, m.Path), "/")
		dir := filepath.Join(m.Dir, filepath.FromSlash(rel))
		if hasGoFiles(dir) {
			return m, rel, nil
		}
	}
	return nil, "", fmt.Errorf("no module in the host's build list provides package %s", p)
}

// kept reports whether a --keep pattern matches the package or its module.
func (c *closure) kept(pkgPath, modPath string) bool {
	for _, pat := range c.keep {
		if matchPattern(pat, pkgPath) || matchPattern(pat, modPath) {
			return true
		}
	}
	return false
}

// matchPattern reports whether path matches a go-style package pattern:
// "..." matches any string; "x/..." also matches x itself.
func matchPattern(pattern, p string) bool {
	if !strings.Contains(pattern, "...") {
		return pattern == p
	}
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok && !strings.Contains(prefix, "...") {
		return within(p, prefix)
	}
	ok, _ := path.Match(strings.ReplaceAll(pattern, "...", "*"), p)
	if ok {
		return true
	}
	// "..." may span slashes, which path.Match's "*" does not.
	parts := strings.Split(pattern, "...")
	rest := p
	for i, part := range parts {
		j := strings.Index(rest, part)
		if j < 0 || (i == 0 && j != 0) {
			return false
		}
		rest = rest[j+len(part):]
	}
	return parts[len(parts)-1] == "" || rest == ""
}

// build walks the closure from the host packages.
func (c *closure) build(ctx context.Context, hostDir string, hostRels []string) error {
	type item struct {
		pkg    *pkgInfo
		pinned bool
	}
	var queue []item
	for _, rel := range hostRels {
		ip := path.Join(c.hostPath, rel)
		p, err := c.loadPackage(ip, filepath.Join(hostDir, filepath.FromSlash(rel)), true)
		if err != nil {
			return err
		}
		c.host = append(c.host, p)
		queue = append(queue, item{p, false})
	}
	hostPkg := func(ip string) bool {
		if !within(ip, c.hostPath) {
			return false
		}
		for _, m := range c.mods {
			if len(m.Path) > len(c.hostPath) && within(ip, m.Path) {
				return false // a nested module of its own
			}
		}
		return true
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		for _, imp := range it.pkg.Imports {
			if isStd(imp) || hostPkg(imp) {
				continue
			}
			p := c.pkgs[imp]
			if p == nil {
				m, rel, err := c.resolve(ctx, imp)
				if err != nil {
					return fmt.Errorf("%s imports %s: %w", it.pkg.Path, imp, err)
				}
				p, err = c.loadPackage(imp, filepath.Join(m.Dir, filepath.FromSlash(rel)), c.tests)
				if err != nil {
					return err
				}
				p.Mod, p.Rel = m, rel
				p.Kept = c.kept(imp, m.Path)
				c.pkgs[imp] = p
			}
			if it.pkg.Mod == nil && !it.pinned {
				p.Direct = true
			}
			pinned := it.pinned || p.Kept
			if pinned {
				if c.pinned[imp] == nil {
					c.pinned[imp] = p
					queue = append(queue, item{p, true})
				}
			} else if c.forked[imp] == nil {
				c.forked[imp] = p
				queue = append(queue, item{p, false})
			}
		}
	}
	return nil
}

// forkedModules returns the modules providing forked packages, sorted, each
// with its packages sorted.
func (c *closure) forkedModules() ([]*modInfo, map[*modInfo][]*pkgInfo) {
	byMod := map[*modInfo][]*pkgInfo{}
	for _, p := range c.forked {
		byMod[p.Mod] = append(byMod[p.Mod], p)
	}
	var mods []*modInfo
	for m, ps := range byMod {
		mods = append(mods, m)
		slices.SortFunc(ps, func(a, b *pkgInfo) int { return strings.Compare(a.Path, b.Path) })
	}
	slices.SortFunc(mods, func(a, b *modInfo) int { return strings.Compare(a.Path, b.Path) })
	return mods, byMod
}

// fetchRequired fills in Dir and Sum, in one go command, for the modules the
// host's go.mod requires: for a go 1.17 or later host, every module that
// provides a package, so the walk finds them all in the module cache instead
// of downloading one at a time.
func fetchRequired(ctx context.Context, r gocmd.Runner, mods []*modInfo, gomod []byte) error {
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return err
	}
	required := map[string]bool{}
	for _, req := range f.Require {
		required[req.Mod.Path] = true
	}
	var fetch []*modInfo
	for _, m := range mods {
		if required[m.Path] {
			fetch = append(fetch, m)
		}
	}
	return download(ctx, r, fetch)
}
