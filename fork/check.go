package fork

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugfork/plugfork/internal/built"
	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/modfile"
)

// CheckSchema versions the JSON form of CheckResult.
const CheckSchema = "plugfork/check/v1"

// CheckConfig says what check judges.
type CheckConfig struct {
	Dir  string   // a directory inside the host module
	Keep []string // patterns allowed to stay shared, beyond the lock's
	// Binary, when not nil, is the built host: the packages it links are
	// judged as the ground truth of what plugins can collide with, and,
	// when it was built with -trimpath, their fingerprints are compared
	// with the shared surface's.
	Binary *built.Host
}

// CheckResult is the verdict of the CI gate.
type CheckResult struct {
	Schema   string         `json:"schema"`
	OK       bool           `json:"ok"`
	Findings []CheckFinding `json:"findings"`
	// Notes are what check reports without failing: the imports of files
	// outside the lock's scope that a build outside it would need.
	Notes  []CheckFinding `json:"notes,omitempty"`
	Forks  int            `json:"forks"`
	Files  int            `json:"files_scanned"`
	Millis int64          `json:"ms"`
}

// CheckKind classifies a CheckFinding.
type CheckKind string

// The kinds of CheckFinding.
const (
	KindUnforkedImport CheckKind = "unforked-import" // a shared third-party import in the host or a fork
	KindDrift          CheckKind = "drift"           // a fork's files differ from what plugfork generated
	KindMissingFork    CheckKind = "missing-fork"    // a locked fork's directory is gone
	KindExtraFork      CheckKind = "extra-fork"      // a fork directory the lock does not know
	KindWiring         CheckKind = "wiring"          // go.mod disagrees with the lock
	KindLinked         CheckKind = "linked-unforked" // a built host links a shared third-party package
	KindInterrupted    CheckKind = "interrupted"     // a fork was interrupted and not finished
	KindHazard         CheckKind = "hazard"          // a fork registers a fixed name at init, and nobody took a remedy or accepted it
	KindSurface        CheckKind = "surface"         // the shared surface is not what the fork proved: plugins built against it would not load
	// KindOutsideScope is a note, not a finding: a host file that no
	// build of the lock's scope compiles imports a package that is not
	// forked, so a build outside the scope would share it with plugins, or
	// miss it.
	KindOutsideScope CheckKind = "outside-scope"
)

// CheckFinding is one problem, where it is and the command that fixes it.
type CheckFinding struct {
	Kind    CheckKind `json:"kind"`
	Pos     string    `json:"pos,omitempty"`    // file:line:col, relative to the host root
	Module  string    `json:"module,omitempty"` // the module concerned
	Path    string    `json:"path,omitempty"`   // the import path or package concerned
	Files   []string  `json:"files,omitempty"`  // drifted files
	Message string    `json:"message"`
	Fix     string    `json:"fix"`
}

// Check is the CI gate: no host package or fork imports a third-party
// package that is neither forked nor kept (on any platform: every file is
// read, whatever its build constraints), every fork matches the lock byte
// for byte, and go.mod wires exactly the locked forks. It runs no go command
// and touches no network.
func Check(cfg CheckConfig) (*CheckResult, error) {
	start := time.Now()
	h, err := hostmodel.Find(cfg.Dir, cfg.Keep...)
	if err != nil {
		return nil, err
	}
	lock := h.Lock
	if lock == nil {
		lock = &lockfile.Lock{}
	}
	root, mf := h.Root, h.File
	scope, err := closure.NewScope(lock.Platforms, lock.Tags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", LockFile, err)
	}
	c := &checker{root: root, h: h, lock: lock, scope: scope}
	res := &CheckResult{Schema: CheckSchema, Forks: len(lock.Forks)}
	if swap.Pending(root) {
		c.add(CheckFinding{Kind: KindInterrupted, Message: "a plugfork run was interrupted while changing the host", Fix: "plugfork fork (finishes it)"})
	}
	hashes, err := c.scan()
	if err != nil {
		return nil, err
	}
	c.drift(hashes)
	c.wiring(mf)
	c.surface(mf, cfg)
	c.hazards(cfg)
	if cfg.Binary != nil {
		c.linked(cfg.Binary)
	}
	res.Findings, res.Notes = append([]CheckFinding{}, c.findings...), c.notes // findings: [] in JSON when clean
	slices.SortStableFunc(res.Notes, func(a, b CheckFinding) int { return strings.Compare(a.Pos+"\x00"+a.Path, b.Pos+"\x00"+b.Path) })
	slices.SortStableFunc(res.Findings, func(a, b CheckFinding) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Pos+"\x00"+a.Module+"\x00"+a.Path, string(b.Kind)+"\x00"+b.Pos+"\x00"+b.Module+"\x00"+b.Path)
	})
	res.OK = len(res.Findings) == 0
	res.Files = c.files
	res.Millis = time.Since(start).Milliseconds()
	return res, nil
}

type checker struct {
	root     string
	h        *hostmodel.Host
	lock     *lockfile.Lock // the host's, or an empty one
	scope    closure.Scope  // the lock's
	findings []CheckFinding
	notes    []CheckFinding
	files    int
}

func (c *checker) add(f CheckFinding) { c.findings = append(c.findings, f) }

// scanned is one file check reads: its imports, when it is Go source of a
// package, and its sum, when it is in a fork.
type scanned struct {
	full    string // the file
	display string // relative to the host root
	parse   bool
	host    bool // a file of the host's packages
	outside bool // a host file no build of the scope compiles
	imports []rewrite.Import
	sum     string
	err     error
}

// scan reads every file of the forks once, and every Go file of the
// host's packages, on all cores: the imports of Go source (findings for
// shared ones) and the sums of the forks' files (their tree hashes, which
// drift compares with the lock's). It returns the tree hash of each fork
// present, by fork dir.
func (c *checker) scan() (map[string]string, error) {
	var items []*scanned
	add := func(rel, name string, parse, sum bool) *scanned {
		display := path.Join(rel, name)
		it := &scanned{full: filepath.Join(c.root, filepath.FromSlash(display)), display: display, parse: parse}
		if sum {
			it.sum = "?"
		}
		items = append(items, it)
		return it
	}
	host, err := hostFiles(c.root, c.lock.Dir)
	if err != nil {
		return nil, err
	}
	for _, name := range host {
		if strings.HasSuffix(name, ".go") {
			add("", name, true, false).host = true
		}
	}
	trees := map[string]map[string]*scanned{} // fork dir -> file -> item
	for _, f := range c.lock.Forks {
		dir := filepath.Join(c.root, filepath.FromSlash(f.ForkDir))
		if _, err := os.Stat(dir); err != nil {
			continue // reported by drift
		}
		files, err := lockfile.TreeFiles(dir)
		if err != nil {
			return nil, err
		}
		tree := map[string]*scanned{}
		for _, name := range files {
			kind, ok := rewrite.Kind(name)
			tree[name] = add(f.ForkDir, name, ok && kind == "go", true)
		}
		trees[f.ForkDir] = tree
	}

	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var buf []byte // reused: the files add up to the size of the closure
			for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
				it := items[i]
				src, err := readInto(buf, it.full)
				buf = src[:0]
				if err != nil {
					it.err = err
					continue
				}
				if it.sum != "" {
					it.sum = lockfile.FileSum(src)
				}
				if it.parse {
					it.imports, it.err = rewrite.Imports(it.display, src)
				}
				if it.host && !c.scope.IsZero() {
					// Unscoped, every file counts, as it always did.
					it.outside = !c.scope.Builds(it.display, src)
				}
			}
		})
	}
	wg.Wait()

	for _, it := range items {
		if it.err != nil {
			return nil, it.err
		}
		if !it.parse {
			continue
		}
		c.files++
		for _, imp := range it.imports {
			if it.outside {
				c.outsideScope(imp)
				continue
			}
			if c.h.Shared(imp.Path) {
				c.add(CheckFinding{
					Kind: KindUnforkedImport, Pos: imp.Pos.String(), Path: imp.Path,
					Message: "imports " + imp.Path + ", which is neither forked nor kept: it is shared with plugins",
					Fix:     "plugfork fork (or plugfork fork --keep " + imp.Path + " to share it on purpose)",
				})
			}
		}
	}
	hashes := map[string]string{}
	for dir, tree := range trees {
		sums := map[string]string{}
		for name, it := range tree {
			sums[name] = it.sum
		}
		hashes[dir] = lockfile.HashSums(sums)
	}
	return hashes, nil
}

// outsideScope notes an import of a host file that no build of the scope
// compiles, when a build outside the scope would need a package that is
// not forked: a shared one, or one of a forked module that its fork left
// out.
func (c *checker) outsideScope(imp rewrite.Import) {
	why := ""
	if c.h.Shared(imp.Path) {
		why = "which is neither forked nor kept: a build outside the scope would share it with plugins"
	} else if f := c.forkOf(imp.Path); f != nil {
		dir := path.Join(f.ForkDir, strings.TrimPrefix(strings.TrimPrefix(imp.Path, f.ForkPath), "/"))
		if modtree.HasGoFiles(filepath.Join(c.root, filepath.FromSlash(dir))) {
			return
		}
		why = "which its fork " + f.ForkDir + " does not hold: a build outside the scope would not compile"
	} else {
		return
	}
	c.notes = append(c.notes, CheckFinding{
		Kind: KindOutsideScope, Pos: imp.Pos.String(), Path: imp.Path,
		Message: fmt.Sprintf("a file outside the scope (%s) imports %s, %s", Scope{Platforms: c.lock.Platforms, Tags: c.lock.Tags}, imp.Path, why),
		Fix:     "plugfork fork with --platform and --tags that include its build, if the host makes it",
	})
}

// forkOf returns the fork whose module path holds the import path, the
// longest, or nil.
func (c *checker) forkOf(imp string) *lockfile.Fork {
	var best *lockfile.Fork
	for i, f := range c.lock.Forks {
		if pkgpath.Within(imp, f.ForkPath) && (best == nil || len(f.ForkPath) > len(best.ForkPath)) {
			best = &c.lock.Forks[i]
		}
	}
	return best
}

// readInto reads the file into buf, grown as needed, and returns the
// bytes read.
func readInto(buf []byte, name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return buf[:0], err
	}
	defer f.Close()
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// drift compares each fork with its lock entry (its tree hash, as scan
// found it) and manifest, and looks for fork directories the lock does not
// know.
func (c *checker) drift(hashes map[string]string) {
	for _, f := range c.lock.Forks {
		h, ok := hashes[f.ForkDir]
		if !ok {
			c.add(CheckFinding{Kind: KindMissingFork, Module: f.Path, Path: f.ForkDir,
				Message: "the fork of " + f.Path + "@" + f.Version + " is missing from " + f.ForkDir, Fix: "plugfork fork"})
			continue
		}
		if h == f.TreeHash {
			continue
		}
		files := driftedFiles(filepath.Join(c.root, filepath.FromSlash(f.ForkDir)))
		c.add(CheckFinding{Kind: KindDrift, Module: f.Path, Path: f.ForkDir, Files: files,
			Message: fmt.Sprintf("the fork of %s@%s was edited by hand (%s from what plugfork generated)", f.Path, f.Version, plural.Count(len(files), "file differs", "files differ")),
			Fix:     "plugfork fork (regenerates it; hand edits are lost)"})
	}
	for _, rel := range lockfile.Strays(c.root, c.lock) {
		c.add(CheckFinding{Kind: KindExtraFork, Path: rel,
			Message: rel + " holds a fork that plugfork.lock does not list", Fix: "plugfork fork (removes it)"})
	}
}

// driftedFiles names the files of a fork that differ from its marker's
// manifest: changed, missing or added.
func driftedFiles(dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, MarkerFile))
	if err != nil {
		return []string{MarkerFile}
	}
	m, err := lockfile.ParseMarker(data)
	if err != nil {
		return []string{MarkerFile} // the marker itself was edited: which files were is unknown
	}
	want := m.Files
	var out []string
	files, _ := lockfile.TreeFiles(dir)
	for _, name := range files {
		if name == MarkerFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		sum, ok := want[name]
		if err != nil || !ok || sum != lockfile.FileSum(data) {
			out = append(out, name)
		}
		delete(want, name)
	}
	for name := range want {
		out = append(out, name)
	}
	if len(out) == 0 {
		out = append(out, MarkerFile) // only the marker itself was edited
	}
	slices.Sort(out)
	return out
}

// wiring checks that go.mod requires and replaces exactly the locked forks.
func (c *checker) wiring(mf *modfile.File) {
	reqs := map[string]bool{}
	for _, r := range mf.Require {
		reqs[r.Mod.Path] = true
	}
	repls := map[string]string{}
	for _, r := range mf.Replace {
		repls[r.Old.Path] = r.New.Path
	}
	if c.lock.Inline() {
		c.inlineWiring(mf, reqs, repls)
		return
	}
	locked := map[string]bool{}
	for _, f := range c.lock.Forks {
		locked[f.ForkPath] = true
		if !reqs[f.ForkPath] {
			c.add(CheckFinding{Kind: KindWiring, Module: f.Path, Pos: "go.mod",
				Message: "go.mod does not require the fork " + f.ForkPath, Fix: "plugfork fork"})
		}
		if got, want := repls[f.ForkPath], "./"+f.ForkDir; got != want {
			msg := "go.mod does not replace " + f.ForkPath + " => " + want
			if got != "" {
				msg = "go.mod replaces " + f.ForkPath + " => " + got + ", not " + want
			}
			c.add(CheckFinding{Kind: KindWiring, Module: f.Path, Pos: "go.mod", Message: msg, Fix: "plugfork fork"})
		}
	}
	if c.lock.Prefix == "" {
		return
	}
	for _, r := range mf.Require {
		if pkgpath.Within(r.Mod.Path, c.lock.Prefix) && !locked[r.Mod.Path] {
			c.add(CheckFinding{Kind: KindWiring, Module: r.Mod.Path, Pos: "go.mod",
				Message: "go.mod requires " + r.Mod.Path + ", which plugfork.lock does not list", Fix: "plugfork fork"})
		}
	}
}

// inlineWiring checks go.mod for inline forks: packages of the host
// module, which go.mod neither requires nor replaces, kept out of ./... by
// the ignore directive unless the lock says the go line takes none.
func (c *checker) inlineWiring(mf *modfile.File, reqs map[string]bool, repls map[string]string) {
	for _, f := range c.lock.Forks {
		if reqs[f.ForkPath] || repls[f.ForkPath] != "" {
			c.add(CheckFinding{Kind: KindWiring, Module: f.Path, Pos: "go.mod",
				Message: "go.mod requires or replaces " + f.ForkPath + ", an inline fork: a package of the host module", Fix: "plugfork fork"})
		}
	}
	dir := "./" + c.lock.Dir
	if len(c.lock.Forks) > 0 && !c.lock.Unignored && !slices.ContainsFunc(mf.Ignore, func(i *modfile.Ignore) bool { return i.Path == dir }) {
		c.add(CheckFinding{Kind: KindWiring, Pos: "go.mod",
			Message: "go.mod does not ignore " + dir + ": ./... in the host matches the forks", Fix: "plugfork fork"})
	}
}

// surface checks that the shared surface is what the fork proved: each
// of its modules required at the version the lock records (a go get since
// would let plugins built against the lock's version fail), and, judged on
// a host built with -trimpath, each package's fingerprint the lock's.
func (c *checker) surface(mf *modfile.File, cfg CheckConfig) {
	reqs := map[string]*modfile.Require{}
	for _, r := range mf.Require {
		reqs[r.Mod.Path] = r
	}
	for _, e := range c.lock.Surface {
		r := reqs[e.Module]
		if r != nil && r.Mod.Version != e.Version {
			c.add(CheckFinding{Kind: KindSurface, Module: e.Module, Path: e.Package, Pos: fmt.Sprintf("go.mod:%d", r.Syntax.Start.Line),
				Message: fmt.Sprintf("go.mod requires %s %s, but the shared surface was proved at %s (%s): plugins built against it would not load", e.Module, r.Mod.Version, e.Version, e.Package),
				Fix:     "plugfork fork (proves the surface anew)"})
		}
	}
	b := cfg.Binary
	if b == nil || !b.Trimpath || c.lock.Platform != "" && b.Platform != c.lock.Platform {
		return // the lock's fingerprints are taken under -trimpath, on its platform
	}
	for _, e := range c.lock.Surface {
		got, ok := b.Packages[e.Package]
		if ok && !e.Unbuilt && got != e.Fingerprint {
			c.add(CheckFinding{Kind: KindSurface, Module: e.Module, Path: e.Package, Pos: b.Name,
				Message: fmt.Sprintf("%s links %s with fingerprint %s, not the %s the fork proved: plugins built against the surface would not load", b.Name, e.Package, got, e.Fingerprint),
				Fix:     "rebuild " + b.Name + " from this checkout with the flags plugfork plugin env prints, or plugfork fork"})
		}
	}
}

// hazards reports the registrations the lock records that nobody accepted:
// one finding per registering package. Judged on a built host, a package
// it does not link (dropped by a build tag), or one whose registration it
// renamed with -X, is no hazard.
func (c *checker) hazards(cfg CheckConfig) {
	accepted := map[string]bool{}
	for _, a := range c.lock.Accepted {
		accepted[a.Package] = true
	}
	b := cfg.Binary
	seen := map[string]bool{}
	for _, f := range c.lock.Forks {
		for _, r := range f.Registrations {
			fork := c.lock.Prefix + "/" + r.Package
			switch {
			case accepted[r.Package] || seen[r.Package]:
				continue
			case b != nil && !b.Links(fork):
				continue // the built host does not link it
			case b != nil && r.Var != "" && hazard.SetsVar(b.Ldflags, fork+"."+r.Var):
				continue // renamed with -X
			case b != nil && r.Registry == hazard.Protobuf && hazard.SetsVar(b.Ldflags, hazard.ProtoRegistry+".conflictPolicy"):
				continue // the shared runtime warns instead
			}
			seen[r.Package] = true
			msg, fix := hazard.Unremedied(c.lock.Prefix, r)
			c.add(CheckFinding{Kind: KindHazard, Pos: r.Pos, Module: f.Path, Path: r.Package, Message: msg, Fix: fix})
		}
	}
}

// linked judges the packages linked into a built host.
func (c *checker) linked(b *built.Host) {
	for _, p := range slices.Sorted(maps.Keys(b.Packages)) {
		if p == "main" || strings.HasPrefix(p, "type:") || !c.h.Shared(p) {
			continue
		}
		c.add(CheckFinding{Kind: KindLinked, Path: p, Pos: b.Name,
			Message: b.Name + " links " + p + ", shared with plugins: a plugin linking another version of it will not load",
			Fix:     "plugfork fork, then rebuild " + b.Name})
	}
}
