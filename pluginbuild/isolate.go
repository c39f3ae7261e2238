package pluginbuild

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/load"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/modfile"
	modpath "golang.org/x/mod/module"
)

// IsolatedRoot is the first element of every private import path of an
// isolated plugin: <IsolatedRoot>/<id>/<module path>. The private copies
// are directories of the build's stage, never fetched.
const IsolatedRoot = inspect.IsolatedRoot

// isolateEnvNote tells build systems that do not call plugfork what the
// wiring plugin env prints does not give.
const isolateEnvNote = "a plugin built this way shares every package it links with the other plugins that link it: a plain go build cannot isolate plugins from each other (private import paths for what they need not share with the host, a new build loadable beside the old one); that needs plugfork plugin build --isolate"

// Isolation is what plugin build --isolate did: which modules the plugin
// links as private copies, and under which paths.
type Isolation struct {
	// ID is the private id of the plugin's own packages (--isolate-id, or
	// derived from the plugin's sources and dependency versions).
	ID string `json:"id"`
	// DepsID is the private id of its dependencies' copies, derived from
	// the plugin module and the versions it links, not from its own code.
	DepsID string `json:"deps_id"`
	// PluginPath is the plugin's path (the linker's -pluginpath): the
	// private import path of its main package.
	PluginPath string        `json:"plugin_path"`
	Copies     []PrivateCopy `json:"copies"` // the plugin's own module first, then by module
	Shared     int           `json:"shared"` // packages of modules it links at their own paths (std aside)
	// Cgo lists the private copies that use cgo: their C symbols keep
	// their names.
	Cgo []string `json:"cgo,omitempty"`
}

// notes says what isolation does not isolate.
func (iso *Isolation) notes() []string {
	if len(iso.Cgo) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("private copies that use cgo: %s: their C symbols keep their names, so two copies of one in a process share (or clash on) them", strings.Join(iso.Cgo, ", "))}
}

// PrivateCopy is a module whose linked packages the isolated plugin links
// under a private path.
type PrivateCopy struct {
	Module   string `json:"module"`
	Version  string `json:"version,omitempty"` // "" for the plugin's own module and directory replacements
	Path     string `json:"path"`              // the copy's module path
	Packages int    `json:"packages"`
}

// isoPkg is a package the plugin links.
type isoPkg struct {
	ImportPath    string
	Dir           string
	Standard      bool
	GoFiles       []string // base names, cgo files with them
	EmbedPatterns []string
	Module        *isoModule
}

// isoModule is the module of an isoPkg.
type isoModule struct {
	Path, Version, Dir, GoVersion string
	Main                          bool
}

// privateModule is one module the isolated plugin copies: its linked
// packages that it need not share with the host.
type privateModule struct {
	path, version, dir, goVersion string
	own                           bool // the plugin's own module
	pkgs                          []*closure.Package
	files                         []string // relative to dir, sorted
	srcs                          [][]byte // files' contents
	newPath                       string
	newVersion                    string // the copy's version: its own when valid for newPath
	stageDir                      string // where the copy is, for another module than the plugin's
	cgo                           bool   // a file of the copy imports "C"
}

// isolate builds the plugin, already aligned in the view and with main its
// main package, into out with private import paths: every package it links
// that it need not share with the host (the standard library, the host
// module's packages, and what the host links stay shared) is copied into a
// stage, one module per module, rewritten by the fork engine's
// rewrite to the private paths, and the plugin is built from there.
func (b *builder) isolate(ctx context.Context, main, out string) (*Isolation, error) {
	linked, _, err := b.host.links(ctx, b.flags.tags())
	if err != nil {
		return nil, err
	}
	pkgs, err := b.isoDeps(ctx)
	if err != nil {
		return nil, err
	}
	mods, keepPkgs, sharedMods, versions, shared, err := b.splitPrivate(pkgs, linked)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		if err := m.read(); err != nil {
			return nil, err
		}
	}
	iso := &Isolation{Shared: shared}
	iso.DepsID, iso.ID = b.isolateIDs(mods, versions)
	if b.cfg.IsolateID != "" {
		iso.ID = b.cfg.IsolateID
	}
	old2new := map[string]string{}
	for _, m := range mods {
		id := iso.DepsID
		if m.own {
			id = iso.ID
		}
		m.newPath = IsolatedRoot + "/" + id + "/" + m.path
		if err := modpath.CheckPath(m.newPath); err != nil {
			if m.own && b.cfg.IsolateID != "" {
				return nil, fmt.Errorf("--isolate-id %q: %w: use letters, digits, '-', '.' and '_'", b.cfg.IsolateID, err)
			}
			return nil, fmt.Errorf("private path of %s: %w", m.path, err)
		}
		m.newVersion = m.version
		if m.version == "" || modpath.Check(m.newPath, m.version) != nil {
			m.newVersion = rewrite.PlaceholderVersion(m.newPath)
		}
		old2new[m.path] = m.newPath
		iso.Copies = append(iso.Copies, PrivateCopy{Module: m.path, Version: m.version, Path: m.newPath, Packages: len(m.pkgs)})
	}
	var keepMods []string
	for p := range sharedMods {
		if _, private := old2new[p]; !private {
			keepMods = append(keepMods, p)
		}
	}
	mapping, err := rewrite.NewMappingKeep(old2new, keepMods)
	if err != nil {
		return nil, err
	}
	mapping = mapping.KeepPackages(keepPkgs)
	iso.PluginPath, _ = mapping.Lookup(main)

	// One isolated build of a plugin module at a time: the stage's
	// directory is the same for all.
	unlock, err := swap.LockHost(b.plugin.root)
	if err != nil {
		return nil, err
	}
	defer unlock()
	b.progress("staging %d private modules", len(mods))
	st, err := b.stage(mods, mapping)
	if err != nil {
		return nil, err
	}
	defer st.remove()
	for _, m := range mods {
		if m.cgo {
			iso.Cgo = append(iso.Cgo, m.path)
		}
	}
	b.progress("building %s isolated as %s", main, iso.PluginPath)
	args := append([]string{"build", "-buildmode=plugin", "-o", out}, b.flags.args()...)
	r := gocmd.Runner{Dir: st.plugin, Env: gocmd.Setenv(b.view.env, "GOWORK", st.work)}
	if _, err := r.Run(ctx, append(args, iso.PluginPath)...); err != nil {
		var ge *gocmd.Error
		if errors.As(err, &ge) {
			return nil, &BuildError{Output: ge.Stderr, Hint: "this is the build of the plugin's private copies (--isolate): if it builds without --isolate, the rewrite to private paths is the cause; please report it"}
		}
		return nil, err
	}
	return iso, nil
}

// isoDeps lists the packages the plugin links in the view.
func (b *builder) isoDeps(ctx context.Context) ([]isoPkg, error) {
	flags := []string{"-overlay=" + b.view.overlay}
	if t := b.flags.tags(); t != "" {
		flags = append(flags, "-tags="+t)
	}
	r := b.view.runner()
	loaded, err := load.Packages(ctx, load.Config{Dir: r.Dir, Env: r.Env, BuildFlags: flags},
		load.Name|load.Files|load.Embeds|load.Deps|load.Module, b.pkgs...)
	if err == nil {
		err = load.Errors(loaded)
	}
	if err != nil {
		return nil, b.view.loadError(err)
	}
	out := make([]isoPkg, 0, len(loaded))
	for _, p := range loaded {
		ip := isoPkg{ImportPath: p.PkgPath, Dir: p.Dir, Standard: p.Module == nil, EmbedPatterns: p.EmbedPatterns}
		for _, f := range p.GoFiles { // Go and cgo files, absolute
			ip.GoFiles = append(ip.GoFiles, filepath.Base(f))
		}
		if m := p.Module; m != nil {
			ip.Module = &isoModule{Path: m.Path, Version: m.Version, Main: m.Main, Dir: m.Dir, GoVersion: m.GoVersion}
		}
		out = append(out, ip)
	}
	return out, nil
}

// splitPrivate sorts the packages the plugin links into those it shares
// with the host (the standard library, the host module's, and those the
// host links) and the private ones, by module: the plugin's own module
// first, then by path. It returns the private modules, the shared packages
// of modules that are private otherwise, the modules of shared packages,
// every linked module's module@version (the plugin's own aside), and how
// many packages are shared.
func (b *builder) splitPrivate(pkgs []isoPkg, linked map[string]bool) (mods []*privateModule, keepPkgs []string, sharedMods map[string]bool, versions []string, shared int, err error) {
	byPath := map[string]*privateModule{}
	sharedMods = map[string]bool{}
	var sharedPkgs []isoPkg
	for _, p := range pkgs {
		m := p.Module
		if p.Standard || m == nil {
			continue
		}
		if m.Path != b.plugin.path {
			versions = append(versions, m.Path+"@"+m.Version)
		}
		if m.Path == b.host.path || linked[p.ImportPath] {
			sharedMods[m.Path] = true
			sharedPkgs = append(sharedPkgs, p)
			shared++
			continue
		}
		pm := byPath[m.Path]
		if pm == nil {
			pm = &privateModule{path: m.Path, version: m.Version, dir: m.Dir, goVersion: m.GoVersion, own: m.Path == b.plugin.path}
			byPath[m.Path] = pm
		}
		rel, err := filepath.Rel(m.Dir, p.Dir)
		if err != nil {
			return nil, nil, nil, nil, 0, err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		pm.pkgs = append(pm.pkgs, &closure.Package{
			Path: p.ImportPath, Dir: p.Dir, Rel: rel,
			Files:  slices.Clone(p.GoFiles),
			Embeds: p.EmbedPatterns,
		})
	}
	for _, p := range sharedPkgs {
		if byPath[p.Module.Path] != nil {
			keepPkgs = append(keepPkgs, p.ImportPath)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(byPath)) {
		mods = append(mods, byPath[path])
	}
	slices.SortStableFunc(mods, func(a, b *privateModule) int {
		switch {
		case a.own == b.own:
			return 0
		case a.own:
			return -1
		}
		return 1
	})
	slices.Sort(versions)
	versions = slices.Compact(versions)
	return mods, keepPkgs, sharedMods, versions, shared, nil
}

// read reads the files of m's packages that a copy holds.
func (m *privateModule) read() error {
	for _, p := range m.pkgs {
		for _, name := range p.Files {
			file := filepath.Join(p.Dir, name)
			src, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			if !bytes.Contains(src, []byte(`"C"`)) {
				continue
			}
			inc, err := closure.CgoIncludes(file, src)
			if err != nil {
				return err
			}
			p.CgoInc = append(p.CgoInc, inc...)
		}
	}
	files, err := closure.Files(&closure.Module{Path: m.path, Dir: m.dir}, m.pkgs, false, false)
	if err != nil {
		return fmt.Errorf("listing the files of %s: %w", m.path, err)
	}
	m.files = files
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(m.dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		m.srcs = append(m.srcs, data)
	}
	return nil
}

// isolateIDs derives the private ids. The dependencies' id depends on what
// they are: the plugin module, every module@version it links, the build
// flags, and the sources of private modules without a version (directory
// replacements); never on the plugin's own code, so that an edit of it
// leaves the dependencies' private paths, and their compiled packages in
// the build cache, as they were. The plugin's own id adds its sources.
func (b *builder) isolateIDs(mods []*privateModule, versions []string) (deps, own string) {
	h := sha256.New()
	fmt.Fprintf(h, "plugfork isolate 1\nplugin %s\n", b.plugin.path)
	for _, v := range versions {
		fmt.Fprintf(h, "mod %s\n", v)
	}
	fmt.Fprintf(h, "flags %q\nenv %q\n", b.flags.args(), b.flags.env)
	hashFiles := func(w io.Writer, m *privateModule) {
		for i, rel := range m.files {
			fmt.Fprintf(w, "file %s %s %d\n", m.path, rel, len(m.srcs[i]))
			w.Write(m.srcs[i])
		}
	}
	for _, m := range mods {
		if !m.own && m.version == "" {
			hashFiles(h, m)
		}
	}
	deps = shortID(h.Sum(nil))
	h = sha256.New()
	fmt.Fprintf(h, "plugfork isolate 1\ndeps %s\n", deps)
	for _, m := range mods {
		if m.own {
			hashFiles(h, m)
		}
	}
	return deps, shortID(h.Sum(nil))
}

func shortID(sum []byte) string { return hex.EncodeToString(sum[:6]) }

// isoStage is the stage an isolated plugin builds in: a go.work using the
// private copies and the host module.
type isoStage struct {
	dir    string
	work   string // its go.work
	plugin string // the plugin's own copy, where go build runs
}

// stage writes the private copies, rewritten by mapping, into the stage:
// the plugin's own module at p/ with the view's aligned go.mod and go.sum
// under its private path, every other private module at m/<escaped path>
// with a go.mod of its private path and its go version, required at its own
// version (so that the plugin's build information names it) and replaced by
// its directory; the stage's go.work uses p/ and the host module. The stage's
// directory is the same for every build of the plugin module, so that the
// compiled copies' inputs, and the build cache's keys, do not depend on it.
func (b *builder) stage(mods []*privateModule, mapping *rewrite.Mapping) (_ *isoStage, err error) {
	dir := filepath.Join(b.plugin.root, swap.WorkDir, "isolate")
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	st := &isoStage{dir: dir, work: filepath.Join(dir, "go.work"), plugin: filepath.Join(dir, "p")}
	defer func() {
		if err != nil {
			st.remove()
		}
	}()
	for _, m := range mods {
		if !m.own {
			esc, err := modpath.EscapePath(m.path)
			if err != nil {
				return nil, err
			}
			m.stageDir = filepath.Join(dir, "m", filepath.FromSlash(esc))
		}
	}
	for _, m := range mods {
		root := cmp.Or(m.stageDir, st.plugin)
		for i, rel := range m.files {
			src := m.srcs[i]
			// The plugin's own sources fully parsed, as fork parses the
			// host's; its dependencies' headers only.
			kind, _ := rewrite.Kind(rel)
			res, err := rewrite.File(path.Join(m.path, rel), kind, src, mapping, !m.own)
			if err != nil {
				return nil, fmt.Errorf("rewriting %s: %w", m.path, err)
			}
			for _, f := range res.Findings {
				m.cgo = m.cgo || f.Kind == rewrite.FindingCgo
			}
			name := filepath.Join(root, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
				return nil, err
			}
			if err := os.WriteFile(name, res.Src, 0o666); err != nil {
				return nil, err
			}
		}
		gomod, err := b.copyGoMod(m, mods[1:])
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(root, 0o777); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(root, "go.mod"), gomod, 0o666); err != nil {
			return nil, err
		}
		if m.own {
			sum, err := os.ReadFile(b.view.gosum)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(root, "go.sum"), sum, 0o666); err != nil {
				return nil, err
			}
		}
	}
	// The view's go.work (the host, and the user's workspace combined in),
	// using the plugin's private copy instead of the plugin.
	data, err := os.ReadFile(b.view.work)
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork(b.view.work, data, nil)
	if err != nil {
		return nil, err
	}
	if err := wf.DropUse(b.plugin.root); err != nil {
		return nil, err
	}
	if err := wf.AddUse(st.plugin, ""); err != nil {
		return nil, err
	}
	wf.Cleanup()
	if err := os.WriteFile(st.work, modfile.Format(wf.Syntax), 0o666); err != nil {
		return nil, err
	}
	return st, nil
}

// copyGoMod returns the go.mod of m's private copy: for the plugin's own
// module, the view's aligned go.mod (its requirements select the shared
// modules' versions) under the private path, its directory replacements
// made absolute, and the other private copies required and replaced by
// their directories; for another module, its private path and go version
// (its imports resolve in the plugin's build list).
func (b *builder) copyGoMod(m *privateModule, deps []*privateModule) ([]byte, error) {
	if !m.own {
		f := &modfile.File{}
		if err := f.AddModuleStmt(m.newPath); err != nil {
			return nil, err
		}
		v := m.goVersion
		if v == "" {
			v = "1.16" // a module without a go.mod: the go command's assumption
		}
		if err := f.AddGoStmt(v); err != nil {
			return nil, err
		}
		return f.Format()
	}
	data, err := os.ReadFile(b.view.gomod)
	if err != nil {
		return nil, err
	}
	f, err := hostmodel.ParseGoMod(b.view.gomod, data)
	if err != nil {
		return nil, err
	}
	if err := f.AddModuleStmt(m.newPath); err != nil {
		return nil, err
	}
	for _, d := range deps {
		if err := f.AddRequire(d.newPath, d.newVersion); err != nil {
			return nil, err
		}
		if err := f.AddReplace(d.newPath, "", d.stageDir, ""); err != nil {
			return nil, err
		}
	}
	for _, r := range f.Replace {
		if r.New.Version == "" && !filepath.IsAbs(r.New.Path) {
			if err := f.AddReplace(r.Old.Path, r.Old.Version, absFrom(b.plugin.root, filepath.FromSlash(r.New.Path)), ""); err != nil {
				return nil, err
			}
		}
	}
	f.Cleanup()
	return f.Format()
}

// remove removes the stage.
func (st *isoStage) remove() { os.RemoveAll(st.dir) }
