package fork

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/module"
)

// host is the host module as found on disk: the model every command asks,
// and whether a vendor directory is in use.
type host struct {
	*hostmodel.Host
	Vendor bool // a vendor directory is in use
}

// findHost locates the host module containing dir and reads its go.mod and
// lock. It refuses workspaces: go.work changes what the build list is.
func findHost(ctx context.Context, dir string, env []string) (*host, error) {
	vars, err := gocmd.Runner{Dir: dir, Env: env}.GoEnv(ctx, "GOMOD", "GOWORK")
	if err != nil {
		return nil, err
	}
	gomod, gowork := vars[0], vars[1]
	if gomod == "" || gomod == os.DevNull {
		return nil, fmt.Errorf("%s is %w", dir, ErrNotModule)
	}
	if gowork != "" && gowork != "off" {
		return nil, fmt.Errorf("a go.work file is in effect (%s): plugfork forks one module; run it with GOWORK=off", gowork)
	}
	m, err := hostmodel.Read(filepath.Dir(gomod))
	if err != nil {
		return nil, err
	}
	h := &host{Host: m}
	if fi, err := os.Stat(filepath.Join(h.Root, "vendor")); err == nil && fi.IsDir() {
		h.Vendor = true
	}
	return h, nil
}

// session is one command's hold on a host: the host lock, taken for the
// whole command, and the host as found once an interrupted run is
// finished.
type session struct {
	cfg       Config
	h         *host
	recovered bool
	clock     clock
	unlock    func() // releases the host lock
}

// open takes the host's lock, finishes an interrupted run and reads the
// host. One run at a time in a host: the lock is taken before the host is
// read, so a run that waited sees what the other left.
func open(ctx context.Context, cfg Config) (_ *session, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("no directory given")
	}
	root, _, err := modtree.FindRoot(cfg.Dir)
	if err != nil {
		return nil, err
	}
	unlock, err := swap.LockHost(root)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	s := &session{cfg: cfg, clock: newClock(), unlock: unlock}
	if s.h, err = findHost(ctx, cfg.Dir, cfg.Env); err != nil {
		return nil, err
	}
	if s.recovered, err = swap.Recover(s.h.Root); err != nil {
		return nil, fmt.Errorf("finishing an interrupted run: %w", err)
	}
	if s.recovered {
		if s.h, err = findHost(ctx, cfg.Dir, cfg.Env); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// openForked is open for commands that need a fork.
func openForked(ctx context.Context, cfg Config) (*session, error) {
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if s.h.Lock == nil {
		s.close()
		return nil, ErrNotForked
	}
	return s, nil
}

// close discards the stage, unless a committed journal is there, and
// releases the host.
func (s *session) close() {
	defer s.unlock()
	swap.Discard(s.h.Root)
}

func (s *session) progress(format string, args ...any) {
	if s.cfg.Progress != nil {
		fmt.Fprintf(s.cfg.Progress, "plugfork: "+format+"\n", args...)
	}
}

// runner runs the go command in the stage, where it may write go.mod and
// go.sum: they are the stage's copies.
func (s *session) runner(st *swap.Stage) gocmd.Runner {
	return gocmd.Runner{Dir: st.Dir, Env: gocmd.WithModFlag(s.cfg.Env, "mod")}
}

// settings are the header of the lock a run writes: the flags merged with
// the lock's.
type settings struct {
	Prefix   string
	Dir      string // the fork dir, slash-separated, relative to the host root
	Keep     []string
	Tests    bool
	Whole    bool
	Layout   string // "" (lockfile.LayoutModules) or lockfile.LayoutInline
	Scope    closure.Scope
	Accepted []lockfile.Acceptance // the lock's, with those given
}

// inline reports whether the forks are plain packages of the host module.
func (set settings) inline() bool { return set.Layout == lockfile.LayoutInline }

// newSettings merges the flags with the old lock (nil before the first
// fork) of the host module hostPath into the new lock's header.
func newSettings(cfg Config, old *lockfile.Lock, hostPath string) (settings, error) {
	set := settings{Prefix: cfg.Prefix, Dir: cfg.ForkDir, Keep: cfg.Keep, Tests: cfg.Tests, Whole: cfg.Whole}
	platforms, tags := cfg.Platforms, cfg.Tags
	layout, err := checkLayout(cfg.Layout, old)
	if err != nil {
		return settings{}, err
	}
	set.Layout = layout
	if set.inline() {
		// The import path of an inline fork is its directory's below the
		// host's: the prefix follows from the dir (a dir other than the
		// lock's is refused below).
		dir := DefaultDir
		if old != nil {
			dir = old.Dir
		}
		forced := hostPath + "/" + path.Clean(filepath.ToSlash(cmp.Or(cfg.ForkDir, dir)))
		if cfg.Prefix != "" && cfg.Prefix != forced {
			return settings{}, fmt.Errorf("--prefix %s: with --layout inline the forks' import prefix is the host module's path and the fork dir, %s: drop --prefix (--dir moves the forks)", cfg.Prefix, forced)
		}
		set.Prefix = forced
		if old != nil && cfg.ForkDir != "" && forced != old.Prefix {
			set.Prefix = old.Prefix
		}
	}
	if old != nil {
		if set.Prefix == "" {
			set.Prefix = old.Prefix
		} else if set.Prefix != old.Prefix {
			return settings{}, fmt.Errorf("--prefix %s differs from the locked prefix %s: run plugfork unfork first to change it", set.Prefix, old.Prefix)
		}
		if set.Dir == "" {
			set.Dir = old.Dir
		}
		if !cfg.KeepSet {
			set.Keep = old.Keep
		}
		if !cfg.PlatformsSet {
			platforms = old.Platforms
		}
		if !cfg.TagsSet {
			tags = old.Tags
		}
		set.Tests = set.Tests || old.Tests
		set.Whole = set.Whole || old.Whole
		set.Accepted = slices.Clone(old.Accepted)
	}
	for _, a := range cfg.Accept {
		if a.Reason == "" {
			return settings{}, fmt.Errorf("--accept-hazard %s: give the reason with --reason", a.Package)
		}
		set.Accepted = slices.DeleteFunc(set.Accepted, func(b lockfile.Acceptance) bool { return b.Package == a.Package })
		set.Accepted = append(set.Accepted, a)
	}
	if set.Scope, err = closure.NewScope(platforms, tags); err != nil {
		return settings{}, fmt.Errorf("invalid scope: %w", err)
	}
	if set.Prefix == "" {
		return settings{}, errNoPrefix
	}
	if err := module.CheckPath(set.Prefix); err != nil {
		return settings{}, fmt.Errorf("invalid --prefix: %w", err)
	}
	if set.Dir == "" {
		set.Dir = DefaultDir
	}
	set.Dir = path.Clean(filepath.ToSlash(set.Dir))
	if err := lockfile.CheckRelDir(set.Dir); err != nil {
		return settings{}, fmt.Errorf("invalid --dir %q: %w", set.Dir, err)
	}
	if set.inline() && slices.Contains(strings.Split(set.Dir, "/"), "vendor") {
		return settings{}, fmt.Errorf("invalid --dir %q: inline forks are packages of the host module, and the go command does not take packages below a vendor directory", set.Dir)
	}
	if old != nil && set.Dir != old.Dir {
		return settings{}, fmt.Errorf("--dir %s differs from the locked dir %s: run plugfork unfork first to move the forks", set.Dir, old.Dir)
	}
	return set, nil
}

// checkLayout returns the layout of a run given flag (from --layout; ""
// for none) in a host with lock old (nil before the first fork): the
// lock's, unless the flag says otherwise before the first fork. Forks do
// not move between layouts in place.
func checkLayout(flag string, old *lockfile.Lock) (string, error) {
	var want string // as the lock records it
	switch flag {
	case "":
	case lockfile.LayoutModules:
	case lockfile.LayoutInline:
		want = flag
	default:
		return "", fmt.Errorf("--layout %s: want %s or %s", flag, lockfile.LayoutModules, lockfile.LayoutInline)
	}
	switch {
	case old == nil:
		return want, nil
	case flag != "" && want != old.Layout:
		return "", fmt.Errorf("--layout %s: the forks here are in the %s layout; to change it, run plugfork unfork, then plugfork fork --layout %s", flag, layoutName(old.Layout), flag)
	}
	return old.Layout, nil
}

// layoutName names a layout as --layout does.
func layoutName(l string) string {
	if l == "" {
		return lockfile.LayoutModules
	}
	return l
}

// lock returns the lock of a run with these settings that made p and m,
// with the shared surface, the exposures exp found (nil: none looked
// for) and the findings of the host's build files (ldflags): everything the run's result says but the checked remedies
// (see remedies). An accepted hazard of a package that registers nothing
// (any more) is dropped; one just given is an error.
func (set settings) lock(p *plan, m *materialized, given []lockfile.Acceptance, surface []Surface, exp *exposures, ldflags []Finding) (*lockfile.Lock, error) {
	l := &lockfile.Lock{Prefix: set.Prefix, Dir: set.Dir, Layout: set.Layout, Unignored: m.unignored, Keep: set.Keep, Tests: set.Tests, Whole: set.Whole, HostFiles: m.hostFiles,
		Platforms: set.Scope.Platforms, Tags: set.Scope.Tags, Largest: largest(p, m)}
	for _, e := range surface {
		l.Surface = append(l.Surface, lockfile.Shared{Package: e.Package, Module: e.Module, Version: e.Version, Fingerprint: e.Fingerprint, Why: e.Why, Unbuilt: e.NotBuilt})
	}
	l.Platform = p.surface.platform()
	for _, e := range p.exposed {
		l.Exposed = append(l.Exposed, lockfile.Exposed{Package: e.Package, Forks: e.Forks})
	}
	if p.surface != nil {
		for _, n := range p.surface.notShared {
			l.NotShared = append(l.NotShared, lockfile.NotShared{Package: n.Package, Imports: n.Imports})
		}
	}
	addFindings := func(fs []Finding) {
		for _, f := range fs {
			l.Findings = append(l.Findings, lockfile.Finding{Pos: f.Pos, Kind: string(f.Kind), Path: f.Path, Message: f.Message, Behaviour: f.Behaviour})
		}
	}
	registers := map[string]bool{}
	for i, fp := range p.forks {
		out := m.forks[i]
		l.Forks = append(l.Forks, lockfile.Fork{
			Path: fp.Mod.Path, Version: fp.Mod.Version, Replace: fp.Replace, Sum: fp.Mod.Sum,
			ForkPath: fp.ForkPath, ForkDir: fp.ForkDir, TreeHash: out.treeHash,
			Require: fp.Require, Packages: len(fp.Pkgs), Registrations: out.registrations,
			Files: out.files, Bytes: out.bytes,
		})
		f := &l.Forks[len(l.Forks)-1]
		f.ExposedBy, f.KeepPins = exp.forModule(fp)
		addFindings(out.findings)
		for _, r := range out.registrations {
			registers[r.Package] = true
		}
	}
	addFindings(m.hostFindings)
	addFindings(ldflags)
	for _, a := range given {
		if !registers[a.Package] {
			return nil, fmt.Errorf("--accept-hazard %s: no fork registers anything under that package: nothing to accept (see the hazards plugfork fork lists)", a.Package)
		}
	}
	for _, a := range set.Accepted {
		if registers[a.Package] {
			l.Accepted = append(l.Accepted, a)
		}
	}
	return l, nil
}

// upstreamView stages the host as it would be without forks: the lock's
// forks undone in the host's files and go.mod, the fork dir left out.
func (s *session) upstreamView(forkDir string) (*swap.Stage, error) {
	st, err := swap.NewStage(s.h.Root, forkDir)
	if err != nil {
		return nil, err
	}
	gomod := s.h.GoMod
	if old := s.h.Lock; old != nil && len(old.Forks) > 0 {
		pairs := map[string]string{}
		for _, f := range old.Forks {
			pairs[f.ForkPath] = f.Path
		}
		inv, err := rewrite.NewMapping(pairs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", LockFile, err)
		}
		if _, _, err := rewriteHost(st, forkDir, inv); err != nil {
			return nil, err
		}
		if gomod, err = unwireGoMod(gomod, old); err != nil {
			return nil, fmt.Errorf("restoring upstream go.mod: %w", err)
		}
	}
	return st, st.WriteGoMod(gomod)
}

// rewriteHost rewrites the Go and assembly files of the host's packages
// (outside the fork dir forkDir) in the stage and returns the files it
// changed (relative, sorted) and what the rewrite found.
func rewriteHost(st *swap.Stage, forkDir string, m *rewrite.Mapping) ([]string, []Finding, error) {
	files, err := hostFiles(st.Dir, forkDir)
	if err != nil {
		return nil, nil, err
	}
	var changed []string
	var found []Finding
	for _, name := range files {
		kind, _ := rewrite.Kind(name)
		src, err := os.ReadFile(st.Path(name))
		if err != nil {
			return nil, nil, err
		}
		res, err := rewrite.File(name, kind, src, m, false)
		if err != nil {
			return nil, nil, err
		}
		found = append(found, findings(name, src, res.Findings)...)
		if len(res.Edits) == 0 {
			continue
		}
		if err := st.WriteFile(name, res.Src); err != nil {
			return nil, nil, err
		}
		changed = append(changed, name)
	}
	slices.Sort(changed)
	return changed, found, nil
}

// hostFiles returns the Go and assembly files of every package of the
// module in dir (see modtree.Packages), relative and slash-separated,
// sorted: the files plugfork rewrites and check reads. The fork dir
// forkDir is left out: inline forks are not the host's own files.
func hostFiles(dir, forkDir string) ([]string, error) {
	rels, err := modtree.Packages(dir, forkDir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, rel := range rels {
		ents, err := os.ReadDir(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			name := path.Join(rel, e.Name())
			if _, ok := rewrite.Kind(name); ok && e.Type().IsRegular() {
				files = append(files, name)
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

// clock measures the phases of a run.
type clock struct{ last time.Time }

func newClock() clock { return clock{last: time.Now()} }

// lap returns the milliseconds since the last lap.
func (c *clock) lap() int64 {
	now := time.Now()
	d := now.Sub(c.last).Milliseconds()
	c.last = now
	return d
}
