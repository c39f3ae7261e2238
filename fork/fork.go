// Package fork forks a plugin host's third-party dependencies into a
// private import-path namespace: it plans the closure, materializes the
// forks and the rewritten host in a stage, type-checks it, and swaps it in.
package fork

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/token"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// errNoPrefix is the first fork's error without --prefix.
var errNoPrefix = errors.New("no --prefix: the first fork needs one, e.g. --prefix gitlab.example.com/workflow")

// DefaultDir is where forks live unless --dir says otherwise.
const DefaultDir = "third_party/forked"

// ResultSchema versions the JSON form of Result.
const ResultSchema = "plugfork/fork/v1"

// Config says what to fork and how. Zero values mean "as the lock says, or
// the default".
type Config struct {
	Dir      string   // a directory inside the host module
	Env      []string // the go command's environment
	Prefix   string   // the private namespace (required the first time)
	ForkDir  string   // where forks live, relative to the host root
	Keep     []string // patterns of packages or modules left shared with plugins
	KeepSet  bool     // Keep was given (an empty list clears the lock's)
	Tests    bool     // keep tests and testdata in forks
	Whole    bool     // copy whole modules
	DryRun   bool     // plan only, write nothing
	Patterns []string // host packages whose closure is forked (default ./...)
	// Progress, when set, receives one line per step of long work.
	Progress io.Writer
	// upgrade, when set, runs in the upstream view before planning.
	upgrade func(ctx context.Context, r gocmd.Runner) error
}

// Result is what a fork did (or, with DryRun, would do).
type Result struct {
	Schema    string       `json:"schema"`
	Prefix    string       `json:"prefix"`
	Dir       string       `json:"dir"`
	DryRun    bool         `json:"dry_run,omitempty"`
	Changed   bool         `json:"changed"`
	Recovered bool         `json:"recovered,omitempty"` // an interrupted run was finished first
	Forks     []ForkResult `json:"forks"`
	Removed   []string     `json:"removed,omitempty"` // upstream modules no longer forked
	Pinned    []Pinned     `json:"pinned,omitempty"`
	HostFiles []string     `json:"host_files,omitempty"` // host files whose imports were rewritten
	Findings  []Finding    `json:"findings,omitempty"`
	Hazards   []Hazard     `json:"hazards,omitempty"` // where two copies of a library in one process break
	Timings   Timings      `json:"timings"`
}

// ForkResult is one forked module.
type ForkResult struct {
	Path     string `json:"path"`
	Version  string `json:"version"`
	ForkPath string `json:"fork_path"`
	Dir      string `json:"dir"`
	Packages int    `json:"packages"`
	Files    int    `json:"files,omitempty"`
	Bytes    int64  `json:"bytes,omitempty"`
	Status   string `json:"status"` // added, updated or unchanged
	Previous string `json:"previous_version,omitempty"`
}

// Pinned is a module whose packages stay shared with plugins: plugins must
// use exactly this version.
type Pinned struct {
	Module   string   `json:"module"`
	Version  string   `json:"version"`
	Packages []string `json:"packages"`
}

// Finding is something the rewrite cannot fix and a person should look at.
type Finding struct {
	Pos     string `json:"pos"`
	Kind    string `json:"kind"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func newFinding(f rewrite.Finding) Finding {
	return Finding{Pos: f.Pos.String(), Kind: string(f.Kind), Path: f.Path, Message: f.Message}
}

// Timings are the durations of the phases, in milliseconds.
type Timings struct {
	Resolve     int64 `json:"resolve_ms"`
	Download    int64 `json:"download_ms"`
	CopyRewrite int64 `json:"copy_rewrite_ms"`
	TypeCheck   int64 `json:"typecheck_ms"`
	Apply       int64 `json:"apply_ms"`
}

// TypeCheckError is a forked host that does not type-check.
type TypeCheckError struct {
	Errors      []string
	BrokeBefore bool // the host did not build before forking either
}

func (e *TypeCheckError) Error() string {
	head := "the forked host does not type-check; nothing was changed"
	if e.BrokeBefore {
		head = "the host does not build before forking; fix it first (go build ./...)"
	}
	n := len(e.Errors)
	lines := e.Errors
	if n > 20 {
		lines = append(slices.Clone(lines[:20]), fmt.Sprintf("... and %d more", n-20))
	}
	return head + ":\n\t" + strings.Join(lines, "\n\t")
}

// Fork forks the host's closure as cfg says.
func Fork(ctx context.Context, cfg Config) (*Result, error) {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.cleanup()
	if r.upToDate() {
		return r.unchangedResult(), nil
	}
	return r.fork(ctx)
}

// unchangedResult is the result of a fork that had nothing to do.
func (r *run) unchangedResult() *Result {
	old := r.h.Lock
	res := &Result{Schema: ResultSchema, Prefix: old.Prefix, Dir: old.Dir}
	for _, f := range old.Forks {
		res.Forks = append(res.Forks, ForkResult{
			Path: f.Path, Version: f.Version, ForkPath: f.ForkPath, Dir: f.ForkDir,
			Packages: f.Packages, Status: "unchanged",
		})
	}
	res.Timings.Resolve = r.lap()
	return res
}

// run is one invocation's state.
type run struct {
	cfg       Config
	h         *host
	lock      *Lock // the new lock
	st        *stage
	recovered bool
	timings   Timings
	clock     time.Time
	unlock    func() // releases the host lock
}

func newRun(ctx context.Context, cfg Config) (_ *run, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("no directory given")
	}
	// One run at a time in a host: the lock is taken before the host is
	// read, so a run that waited sees what the other left.
	root, _, err := findModuleRoot(cfg.Dir)
	if err != nil {
		return nil, err
	}
	unlock, err := lockHost(root)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	h, err := findHost(ctx, cfg.Dir, cfg.Env)
	if err != nil {
		return nil, err
	}
	recovered, err := recoverJournal(h.Root)
	if err != nil {
		return nil, fmt.Errorf("finishing an interrupted run: %w", err)
	}
	if recovered {
		if h, err = findHost(ctx, cfg.Dir, cfg.Env); err != nil {
			return nil, err
		}
	}
	r := &run{cfg: cfg, h: h, recovered: recovered, clock: time.Now(), unlock: unlock}
	if err := r.settings(); err != nil {
		return nil, err
	}
	return r, nil
}

// settings merges the flags with the lock into the new lock's header.
func (r *run) settings() error {
	old := r.h.Lock
	l := &Lock{Prefix: r.cfg.Prefix, Dir: r.cfg.ForkDir, Keep: r.cfg.Keep, Tests: r.cfg.Tests, Whole: r.cfg.Whole}
	if old != nil {
		if l.Prefix == "" {
			l.Prefix = old.Prefix
		} else if l.Prefix != old.Prefix {
			return fmt.Errorf("--prefix %s differs from the locked prefix %s: run plugfork unfork first to change it", l.Prefix, old.Prefix)
		}
		if l.Dir == "" {
			l.Dir = old.Dir
		}
		if !r.cfg.KeepSet {
			l.Keep = old.Keep
		}
		l.Tests = l.Tests || old.Tests
		l.Whole = l.Whole || old.Whole
	}
	if l.Prefix == "" {
		return errNoPrefix
	}
	if err := module.CheckPath(l.Prefix); err != nil {
		return fmt.Errorf("invalid --prefix: %w", err)
	}
	if l.Dir == "" {
		l.Dir = DefaultDir
	}
	l.Dir = path.Clean(filepath.ToSlash(l.Dir))
	if err := checkRelDir(l.Dir); err != nil {
		return fmt.Errorf("invalid --dir %q: %w", l.Dir, err)
	}
	if old != nil && l.Dir != old.Dir {
		return fmt.Errorf("--dir %s differs from the locked dir %s: run plugfork unfork first to move the forks", l.Dir, old.Dir)
	}
	r.lock = l
	return nil
}

// cleanup removes the stage, unless a committed journal is there: a swap
// that failed half-way is finished by the next run, never thrown away.
func (r *run) cleanup() {
	defer r.unlock()
	if r.st == nil {
		return
	}
	if _, err := os.Stat(journalPath(r.h.Root)); err == nil {
		return
	}
	os.RemoveAll(filepath.Join(r.h.Root, workDir))
}

func (r *run) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "plugfork: "+format+"\n", args...)
	}
}

// lap returns the milliseconds since the last lap.
func (r *run) lap() int64 {
	now := time.Now()
	d := now.Sub(r.clock).Milliseconds()
	r.clock = now
	return d
}

// runner runs the go command in the stage, where it may write go.mod and
// go.sum: they are the stage's copies.
func (r *run) runner() gocmd.Runner {
	return gocmd.Runner{Dir: r.st.Dir, Env: withModFlag(r.cfg.Env, "mod")}
}

// upstreamView stages the host as it would be without forks: the lock's
// forks undone in the host's files and go.mod.
func (r *run) upstreamView(ctx context.Context) error {
	st, err := newStage(r.h.Root, r.lock.Dir)
	if err != nil {
		return err
	}
	r.st = st
	gomod := r.h.GoMod
	if old := r.h.Lock; old != nil && len(old.Forks) > 0 {
		pairs := map[string]string{}
		for _, f := range old.Forks {
			pairs[f.ForkPath] = f.Path
		}
		inv, err := rewrite.NewMapping(pairs)
		if err != nil {
			return fmt.Errorf("%s: %w", LockFile, err)
		}
		if _, err := r.rewriteHost(inv, nil); err != nil {
			return err
		}
		if gomod, err = unwireGoMod(gomod, old); err != nil {
			return fmt.Errorf("restoring upstream go.mod: %w", err)
		}
	}
	return st.writeGoMod(gomod)
}

// rewriteHost rewrites the Go and assembly files of the host's packages in
// the stage and returns the files it changed (relative, sorted).
func (r *run) rewriteHost(m *rewrite.Mapping, findings *[]Finding) ([]string, error) {
	files, err := hostFiles(r.st.Dir)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, name := range files {
		kind, _ := rewritable(name)
		src, err := os.ReadFile(r.st.path(name))
		if err != nil {
			return nil, err
		}
		res, err := rewriteFile(name, kind, src, m, false)
		if err != nil {
			return nil, err
		}
		if findings != nil {
			for _, f := range res.Findings {
				*findings = append(*findings, newFinding(f))
			}
		}
		if len(res.Edits) == 0 {
			continue
		}
		if err := r.st.writeFile(name, res.Src); err != nil {
			return nil, err
		}
		changed = append(changed, name)
	}
	slices.Sort(changed)
	return changed, nil
}

// selected returns the host package dirs (relative) the patterns select.
func (r *run) selected() ([]string, error) {
	rels, err := walkHost(r.st.Dir)
	if err != nil {
		return nil, err
	}
	pats := r.cfg.Patterns
	if len(pats) == 0 {
		return rels, nil
	}
	var out []string
	matched := make([]bool, len(pats))
	for _, rel := range rels {
		ip := path.Join(r.h.Path, rel)
		for i, pat := range pats {
			if rest, ok := strings.CutPrefix(pat, "."); ok && (rest == "" || rest[0] == '/') {
				pat = path.Join(r.h.Path, rest)
				if strings.HasSuffix(rest, "...") && !strings.HasSuffix(pat, "...") {
					pat += "/..."
				}
			}
			if matchPattern(pat, ip) {
				matched[i] = true
				out = append(out, rel)
				break
			}
		}
	}
	for i, ok := range matched {
		if !ok {
			return nil, fmt.Errorf("pattern %s matches no host package", pats[i])
		}
	}
	return out, nil
}

func (r *run) fork(ctx context.Context) (*Result, error) {
	res := &Result{Schema: ResultSchema, Prefix: r.lock.Prefix, Dir: r.lock.Dir, DryRun: r.cfg.DryRun, Recovered: r.recovered}
	r.progress("staging the host")
	if err := r.upstreamView(ctx); err != nil {
		return nil, err
	}
	if r.cfg.upgrade != nil {
		if err := r.cfg.upgrade(ctx, r.runner()); err != nil {
			return nil, err
		}
	}

	// Resolve: the build list and the closure.
	r.progress("resolving the closure")
	stagedMod, err := os.ReadFile(r.st.path("go.mod"))
	if err != nil {
		return nil, err
	}
	mods, err := listModules(ctx, gocmd.Runner{Dir: r.st.Dir, Env: withModFlag(r.cfg.Env, "mod")})
	if err != nil {
		return nil, err
	}
	if after, err := os.ReadFile(r.st.path("go.mod")); err != nil || !bytes.Equal(after, stagedMod) {
		return nil, errors.New("go.mod is not consistent with the build (go list -m all changed it): run go mod tidy, check the host builds, and run plugfork again")
	}
	fetchStart := time.Now()
	if err := fetchRequired(ctx, r.runner(), mods, stagedMod); err != nil {
		return nil, err
	}
	fetched := time.Since(fetchStart).Milliseconds()
	hostRels, err := r.selected()
	if err != nil {
		return nil, err
	}
	c := &closure{
		hostPath: r.h.Path, tests: r.lock.Tests, keep: r.lock.Keep, mods: mods,
		pkgs: map[string]*pkgInfo{}, forked: map[string]*pkgInfo{}, pinned: map[string]*pkgInfo{},
		fset: token.NewFileSet(), run: r.runner(),
	}
	if err := c.build(ctx, r.st.Dir, hostRels); err != nil {
		return nil, err
	}
	forkMods, byMod := c.forkedModules()
	pairs := map[string]string{}
	for _, m := range forkMods {
		pairs[m.Path] = r.lock.Prefix + "/" + m.Path
	}
	// Modules that stay shared: a kept module nested in a forked one
	// (example.com/api/v2 in example.com/api) must not map into the fork.
	stillNeeded := map[string]bool{}
	var shared []string
	for _, p := range c.pinned {
		if !stillNeeded[p.Mod.Path] && pairs[p.Mod.Path] == "" {
			shared = append(shared, p.Mod.Path)
		}
		stillNeeded[p.Mod.Path] = true
	}
	slices.Sort(shared)
	mapping, err := rewrite.NewMappingKeep(pairs, shared)
	if err != nil {
		return nil, fmt.Errorf("invalid --prefix %s: %w", r.lock.Prefix, err)
	}
	res.Pinned = pinnedList(c.pinned)
	r.timings.Resolve = r.lap() - fetched

	// Download: the go.sum-verified sources (most fetched before the walk,
	// which counts here).
	r.progress("downloading %d modules", len(forkMods))
	if err := download(ctx, r.runner(), forkMods); err != nil {
		return nil, err
	}
	r.timings.Download = r.lap() + fetched

	var plans []*forkPlan
	for _, m := range forkMods {
		dir, err := forkDirFor(r.lock.Dir, m.Path)
		if err != nil {
			return nil, err
		}
		plans = append(plans, &forkPlan{Mod: m, Pkgs: byMod[m], ForkPath: pairs[m.Path], ForkDir: dir})
	}
	if r.cfg.DryRun {
		gomod, err := wireGoMod(stagedMod, plans, stillNeeded)
		if err != nil {
			return nil, err
		}
		r.fillResult(res, plans, gomod)
		res.Timings = r.timings
		return res, nil
	}

	// Copy and rewrite.
	r.progress("copying and rewriting %d modules", len(plans))
	err = materializeAll(r.st, plans, mapping, r.lock.Tests, r.lock.Whole, func(done, total int) {
		r.progress("copied and rewritten %d/%d files", done, total)
	})
	if err != nil {
		return nil, err
	}
	res.HostFiles, err = r.rewriteHost(mapping, &res.Findings)
	if err != nil {
		return nil, err
	}
	gomod, err := wireGoMod(stagedMod, plans, stillNeeded)
	if err != nil {
		return nil, err
	}
	if err := r.st.writeGoMod(gomod); err != nil {
		return nil, err
	}
	r.timings.CopyRewrite = r.lap()

	// Type-check, with go.mod and go.sum settled as go mod tidy has them.
	r.progress("type-checking the forked host")
	if err := r.tidy(ctx, gomod); err != nil {
		return nil, err
	}
	if errs, err := typecheck(ctx, r.st.Dir, withModFlag(r.cfg.Env, "readonly"), []string{"./..."}); err != nil {
		return nil, err
	} else if len(errs) > 0 {
		tc := &TypeCheckError{Errors: errs}
		// Did it build before? Asked of the host itself, which must not
		// change: read-only (or vendor, as the host builds).
		mode := "readonly"
		if r.h.Vendor {
			mode = "vendor"
		}
		if before, err := typecheck(ctx, r.h.Root, withModFlag(r.cfg.Env, mode), []string{"./..."}); err == nil && len(before) > 0 && r.h.Lock == nil {
			tc.BrokeBefore, tc.Errors = true, before
		}
		return nil, tc
	}
	r.timings.TypeCheck = r.lap()

	finalMod, err := r.st.unstageGoMod()
	if err != nil {
		return nil, err
	}
	r.fillResult(res, plans, finalMod)
	for _, fp := range plans {
		for _, f := range fp.Findings {
			res.Findings = append(res.Findings, newFinding(f))
		}
	}
	var forkedPaths []string
	for _, fp := range plans {
		res.Hazards = append(res.Hazards, fp.Hazards...)
		forkedPaths = append(forkedPaths, fp.Mod.Path)
	}
	res.Hazards = append(res.Hazards, moduleHazards(forkedPaths)...)
	ldf, err := ldflagsFindings(r.h.Root, r.lock.Dir, mapping)
	if err != nil {
		return nil, err
	}
	res.Findings = append(res.Findings, ldf...)
	slices.SortFunc(res.Findings, func(a, b Finding) int { return strings.Compare(a.Pos+a.Kind, b.Pos+b.Kind) })

	// The inputs the next run compares against: the host as the swap
	// leaves it, which is the stage now. Only a fork of every host package
	// may let a later plain fork skip its work.
	r.lock.Inputs = ""
	if len(r.cfg.Patterns) == 0 {
		if r.lock.Inputs, err = inputsHash(r.st.Dir, finalMod, r.lock); err != nil {
			return nil, err
		}
	}

	// Apply.
	changed, err := r.apply(ctx, finalMod)
	if err != nil {
		return nil, err
	}
	res.Changed = changed
	r.timings.Apply = r.lap()
	res.Timings = r.timings
	return res, nil
}

// tidy runs go mod tidy in the stage and makes sure it only settled go.sum
// and indirect markers: a change of the go line or of a version of a module
// plugfork did not fork would be a bug, and is refused.
func (r *run) tidy(ctx context.Context, want []byte) error {
	if _, err := r.runner().Run(ctx, "mod", "tidy"); err != nil {
		return fmt.Errorf("settling go.mod of the forked host: %w", err)
	}
	got, err := os.ReadFile(r.st.path("go.mod"))
	if err != nil {
		return err
	}
	a, err := modfile.Parse("go.mod", want, nil)
	if err != nil {
		return err
	}
	b, err := modfile.Parse("go.mod", got, nil)
	if err != nil {
		return err
	}
	if goLine(a) != goLine(b) {
		return fmt.Errorf("go mod tidy would change the go line from %q to %q after forking (a plugfork bug); nothing was changed", goLine(a), goLine(b))
	}
	versions := map[string]string{}
	for _, req := range a.Require {
		versions[req.Mod.Path] = req.Mod.Version
	}
	for _, req := range b.Require {
		if v, ok := versions[req.Mod.Path]; !ok || v != req.Mod.Version {
			if strings.HasPrefix(req.Mod.Path, r.lock.Prefix+"/") {
				continue
			}
			return fmt.Errorf("go mod tidy would require %s %s after forking (a plugfork bug or an untidy host: run go mod tidy first); nothing was changed", req.Mod.Path, req.Mod.Version)
		}
	}
	return nil
}

func goLine(f *modfile.File) string {
	if f.Go == nil {
		return ""
	}
	return f.Go.Version
}

func pinnedList(pkgs map[string]*pkgInfo) []Pinned {
	byMod := map[string]*Pinned{}
	for _, p := range pkgs {
		pm := byMod[p.Mod.Path]
		if pm == nil {
			pm = &Pinned{Module: p.Mod.Path, Version: p.Mod.Version}
			byMod[p.Mod.Path] = pm
		}
		pm.Packages = append(pm.Packages, p.Path)
	}
	var out []Pinned
	for _, pm := range byMod {
		slices.Sort(pm.Packages)
		out = append(out, *pm)
	}
	slices.SortFunc(out, func(a, b Pinned) int { return strings.Compare(a.Module, b.Module) })
	return out
}

// fillResult fills the forks of the result and the new lock.
func (r *run) fillResult(res *Result, plans []*forkPlan, gomod []byte) {
	r.lock.Forks = nil
	inNew := map[string]bool{}
	for _, fp := range plans {
		inNew[fp.Mod.Path] = true
		fr := ForkResult{
			Path: fp.Mod.Path, Version: fp.Mod.Version, ForkPath: fp.ForkPath, Dir: fp.ForkDir,
			Packages: len(fp.Pkgs), Files: fp.Files, Bytes: fp.Bytes, Status: "added",
		}
		if old := r.oldFork(fp.Mod.Path); old != nil {
			fr.Status = "unchanged"
			if old.Version != fp.Mod.Version || old.TreeHash != fp.TreeHash {
				fr.Status = "updated"
			}
			if old.Version != fp.Mod.Version {
				fr.Previous = old.Version
			}
		}
		res.Forks = append(res.Forks, fr)
		r.lock.Forks = append(r.lock.Forks, LockedFork{
			Path: fp.Mod.Path, Version: fp.Mod.Version, Replace: fp.Mod.replaceString(), Sum: fp.Mod.Sum,
			ForkPath: fp.ForkPath, ForkDir: fp.ForkDir, TreeHash: fp.TreeHash, Require: fp.Require, Packages: len(fp.Pkgs),
		})
	}
	if old := r.h.Lock; old != nil {
		for _, f := range old.Forks {
			if !inNew[f.Path] {
				res.Removed = append(res.Removed, f.Path)
			}
		}
	}
}

func (r *run) oldFork(path string) *LockedFork {
	if r.h.Lock == nil {
		return nil
	}
	return r.h.Lock.Find(path)
}
