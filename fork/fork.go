// Package fork orchestrates plugfork's work on a host: it plans the forks
// of the host's closure, materializes them and the rewritten host in a
// stage, verifies that the result type-checks, and applies it as one
// transaction. Fork, Upgrade and Unfork compose these phases (a dry run
// stops after materializing; unforking everything applies the upstream
// view, settled by go mod tidy, with no lock). Check and Status run no phase: they
// judge the host as it is on disk, through the model of internal/hostmodel
// that the phases read it with too.
package fork

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/plugfork/plugfork/rewrite"
)

// DefaultDir is where forks live unless --dir says otherwise.
const DefaultDir = "third_party/forked"

// LayoutInline is the layout of forks that are plain packages of the host
// module (Config.Layout, Result.Layout); LayoutModules, the default, makes
// them nested modules.
const (
	LayoutInline  = lockfile.LayoutInline
	LayoutModules = lockfile.LayoutModules
)

// LockFile is the name of the lock at the host module's root.
const LockFile = lockfile.Name

// MarkerFile is the file in each fork that says where it came from.
const MarkerFile = lockfile.MarkerName

// ResultSchema versions the JSON form of Result.
const ResultSchema = "plugfork/fork/v1"

var (
	// ErrNotModule is the error of a command run outside a Go module.
	ErrNotModule = modtree.ErrNotModule
	// ErrNotForked is the error of a command that needs a fork, run in a
	// host that has none.
	ErrNotForked = errors.New("nothing is forked here (no " + LockFile + "): run plugfork fork --prefix PREFIX first")
	// errNoPrefix is the first fork's error without --prefix.
	errNoPrefix = errors.New("no --prefix: the first fork needs one, e.g. --prefix gitlab.example.com/workflow")
)

// Config says what to fork and how. Zero values mean "as the lock says, or
// the default".
type Config struct {
	Dir     string   // a directory inside the host module
	Env     []string // the go command's environment
	Prefix  string   // the private namespace (required the first time)
	ForkDir string   // where forks live, relative to the host root
	// Layout is how forks live in the host: "modules" (nested modules,
	// the default) or "inline" (plain packages of the host module); ""
	// for the lock's.
	Layout string
	// ZipLimit is the size, in bytes, the host's module zip may not pass
	// with inline forks (zipped or unzipped); 0 for the module zip limit
	// of the go command (500 MiB).
	ZipLimit int64
	Keep     []string // patterns of packages or modules left shared with plugins
	KeepSet  bool     // Keep was given (an empty list clears the lock's)
	Tests    bool     // keep tests and testdata in forks
	Whole    bool     // copy whole modules
	DryRun   bool     // plan only, write nothing
	Patterns []string // host packages whose closure is forked (default ./...)
	// Platforms (GOOS/GOARCH) and Tags scope the closure to the builds the
	// host makes; PlatformsSet and TagsSet say they were given (empty
	// clears the lock's), else the lock's scope holds.
	Platforms    []string
	Tags         []string
	PlatformsSet bool
	TagsSet      bool
	// Accept are hazards to accept, by registering package, with the
	// reason; they join the lock's.
	Accept []Acceptance
	// Progress, when set, receives one line per step of long work.
	Progress io.Writer
}

// Result is what a fork did (or, with DryRun, would do). Its JSON form is
// the schema ResultSchema; kinds and statuses are the constants of
// ForkStatus, FindingKind, hazard.Kind and SizeLevel.
type Result struct {
	Schema string `json:"schema"`
	Prefix string `json:"prefix"`
	Dir    string `json:"dir"`
	Layout string `json:"layout,omitempty"` // LayoutInline, or none: nested modules
	// Unignored says that ./... in the host matches the inline forks: its
	// go line takes no ignore directive.
	Unignored bool         `json:"unignored,omitempty"`
	DryRun    bool         `json:"dry_run,omitempty"`
	Changed   bool         `json:"changed"`
	Skipped   bool         `json:"skipped,omitempty"`   // the lock's inputs hash matched: nothing was staged or checked again
	Recovered bool         `json:"recovered,omitempty"` // an interrupted run was finished first
	Forks     []ForkResult `json:"forks"`
	Removed   []string     `json:"removed,omitempty"` // upstream modules no longer forked
	Pinned    []Pinned     `json:"pinned,omitempty"`
	HostFiles []string     `json:"host_files,omitempty"` // host files whose imports name forks
	// Rewritten are the host files this run changes (would change, for a
	// dry run): none for a run with nothing to do.
	Rewritten []string    `json:"rewritten,omitempty"`
	Exposed   []Exposed   `json:"exposed,omitempty"`    // host packages plugins can import that use forks
	Exposures []Exposure  `json:"exposures,omitempty"`  // forked modules whose types those packages' exported API hands out
	Surface   []Surface   `json:"surface,omitempty"`    // what host and plugins must share: the kept packages and what they import
	Platform  string      `json:"proved_on,omitempty"`  // the GOOS/GOARCH the surface was proved on
	NotShared []NotShared `json:"not_shared,omitempty"` // packages of kept modules forked all the same
	Findings  []Finding   `json:"findings,omitempty"`
	Hazards   []Hazard    `json:"hazards,omitempty"` // where two copies of a library in one process break
	Scope     Scope       `json:"scope"`             // the builds whose files the forks hold
	Size      Size        `json:"size"`              // how much the forks weigh, and where it comes from
	Timings   Timings     `json:"timings"`
}

// ForkResult is one forked module.
type ForkResult struct {
	Path     string     `json:"path"`
	Version  string     `json:"version"`
	ForkPath string     `json:"fork_path"`
	Dir      string     `json:"dir"`
	Packages int        `json:"packages"`
	Files    int        `json:"files,omitempty"`
	Bytes    int64      `json:"bytes,omitempty"`
	Status   ForkStatus `json:"status"`
	Previous string     `json:"previous_version,omitempty"`
}

// ForkStatus says what a run did to one fork.
type ForkStatus string

// The fork statuses.
const (
	StatusAdded     ForkStatus = "added"     // a new fork
	StatusUpdated   ForkStatus = "updated"   // another version, or other files
	StatusUnchanged ForkStatus = "unchanged" // byte for byte as it was
)

// Exposed is a host package that other modules, plugins, can import (not
// main, not internal) and whose imports reach forks: a plugin that imports
// it must see the host's forks, so it must be built with plugfork plugin
// build, or with the wiring plugfork plugin env prints.
type Exposed struct {
	Package string   `json:"package"`
	Forks   []string `json:"forks"` // the forked modules it reaches, by upstream path
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
	Pos     string      `json:"pos"`
	Kind    FindingKind `json:"kind"`
	Path    string      `json:"path,omitempty"`
	Message string      `json:"message"`
	// Behaviour says what a string literal may do at run time where it
	// stands, once the path it holds is rewritten everywhere else: "" when
	// nothing on its line says it does anything.
	Behaviour string `json:"behaviour,omitempty"`
}

// FindingKind classifies a Finding.
type FindingKind string

// The kinds of Finding.
const (
	FindingCgo                       = FindingKind(rewrite.FindingCgo)           // a file uses cgo: its C symbols are not renamed
	FindingStringLiteral             = FindingKind(rewrite.FindingStringLiteral) // a string literal holds a forked path
	FindingLdflags       FindingKind = "ldflags"                                 // a build file's -ldflags -X names a forked package
	FindingLargeFile     FindingKind = "large-file"                              // a fork's file is over the size git hosts refuse
)

func newFinding(f rewrite.Finding) Finding {
	return Finding{Pos: f.Pos.String(), Kind: FindingKind(f.Kind), Path: f.Path, Message: f.Message}
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
	Errors      []PackageError
	BrokeBefore bool // the host did not build before forking either
}

// PackageError is one error of a package that does not type-check.
type PackageError struct {
	Pos string // file:line:col, relative to the host root; "" when the error has no position
	Msg string
}

func (e PackageError) String() string {
	if e.Pos == "" {
		return e.Msg
	}
	return e.Pos + ": " + e.Msg
}

func (e *TypeCheckError) Error() string {
	head := "the forked host does not type-check; nothing was changed"
	if e.BrokeBefore {
		head = "the host does not build before forking; fix it first (go build ./...)"
	}
	var lines []string
	for _, pe := range e.Errors[:min(20, len(e.Errors))] {
		lines = append(lines, pe.String())
	}
	if n := len(e.Errors); n > 20 {
		lines = append(lines, fmt.Sprintf("... and %d more", n-20))
	}
	return head + ":\n\t" + strings.Join(lines, "\n\t")
}

// Fork forks the host's closure as cfg says.
func Fork(ctx context.Context, cfg Config) (*Result, error) {
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.h.CheckKeep(cfg.Keep); err != nil {
		return nil, err
	}
	set, err := newSettings(cfg, s.h.Lock, s.h.Path)
	if err != nil {
		return nil, err
	}
	if s.upToDate(set) {
		// The lock holds all a run's result says: answered from it alone.
		res := newResult(s.h.Lock, s.h.Lock, false)
		res.Skipped = true
		res.Timings.Resolve = s.clock.lap()
		return res, nil
	}
	res, _, err := s.fork(ctx, set, nil)
	return res, err
}

// lockSurface returns the shared surface as a lock records it.
func lockSurface(shared []lockfile.Shared) []Surface {
	var out []Surface
	for _, e := range shared {
		out = append(out, Surface{Package: e.Package, Module: e.Module, Version: e.Version, Why: e.Why, Fingerprint: e.Fingerprint, NotBuilt: e.Unbuilt})
	}
	return out
}

// fork runs the phases on the host with the settings: the upstream view
// (moved by go get queries, for an upgrade), the plan, the forks and the
// rewritten host materialized in the stage, verified, and applied. It
// returns the result and the new lock (nil for a dry run, which stops
// after materializing in the stage: the trees it would write are known, so
// is what changes, but nothing is type-checked, proved or applied).
func (s *session) fork(ctx context.Context, set settings, queries []string) (*Result, *lockfile.Lock, error) {
	s.progress("staging the host")
	st, err := s.upstreamView(set.Dir)
	if err != nil {
		return nil, nil, err
	}
	if len(queries) > 0 {
		if err := goGet(ctx, s.runner(st), queries); err != nil {
			return nil, nil, err
		}
	}
	s.progress("resolving the closure")
	p, err := s.plan(ctx, st, set)
	if err != nil {
		return nil, nil, err
	}
	t := Timings{Resolve: p.resolveMs, Download: p.downloadMs}

	s.progress("copying and rewriting %s", plural.S(len(p.forks), "module"))
	m, err := materialize(st, p, set, s.progress)
	if err != nil {
		return nil, nil, err
	}
	t.CopyRewrite = s.clock.lap()
	ldf, err := ldflagsFindings(s.h.Root, set.Dir, p.mapping)
	if err != nil {
		return nil, nil, err
	}
	if s.cfg.DryRun {
		lock, err := set.lock(p, m, s.cfg.Accept, p.surface.unproved(p), nil, ldf)
		if err != nil {
			return nil, nil, err
		}
		if err := s.remedies(ctx, st, set, p, lock, false); err != nil {
			return nil, nil, err
		}
		res := newResult(lock, s.h.Lock, s.recovered)
		res.DryRun, res.Timings, res.Rewritten = true, t, m.rewritten
		return res, nil, nil
	}

	s.progress("type-checking the forked host")
	exp := newExposures(p)
	gomod, err := s.verify(ctx, st, m.gomod, set.Prefix, exp.look)
	if err != nil {
		return nil, nil, err
	}
	surface, err := s.prove(ctx, st, p)
	if err != nil {
		return nil, nil, err
	}
	t.TypeCheck = s.clock.lap()

	lock, err := set.lock(p, m, s.cfg.Accept, surface, exp, ldf)
	if err != nil {
		return nil, nil, err
	}
	if err := s.remedies(ctx, st, set, p, lock, true); err != nil {
		return nil, nil, err
	}
	// The inputs the next run compares against: the host as the swap
	// leaves it, which is the stage now. Only a fork of every host package
	// may let a later plain fork skip its work.
	if len(s.cfg.Patterns) == 0 {
		if lock.Inputs, err = inputsHash(st.Dir, s.h.Root, gomod, lock); err != nil {
			return nil, nil, err
		}
	}

	changed, err := s.apply(ctx, st, lock, gomod)
	if err != nil {
		return nil, nil, err
	}
	t.Apply = s.clock.lap()
	res := newResult(lock, s.h.Lock, s.recovered)
	res.Changed, res.Timings, res.Rewritten = changed, t, m.rewritten
	return res, lock, nil
}

// newResult is the Result of every run, fresh, dry or with nothing to do:
// what the lock l says the run leaves (would leave, or left before), each
// fork's status judged against the lock old the host had (nil before the
// first fork). A fork is unchanged when its version and tree are the old
// ones.
func newResult(l, old *lockfile.Lock, recovered bool) *Result {
	l = l.Normal()
	res := &Result{Schema: ResultSchema, Prefix: l.Prefix, Dir: l.Dir, Layout: l.Layout, Unignored: l.Unignored, Recovered: recovered, HostFiles: l.HostFiles}
	inNew := map[string]bool{}
	for _, f := range l.Forks {
		inNew[f.Path] = true
		fr := ForkResult{
			Path: f.Path, Version: f.Version, ForkPath: f.ForkPath, Dir: f.ForkDir,
			Packages: f.Packages, Files: f.Files, Bytes: f.Bytes, Status: StatusAdded,
		}
		if o := oldFork(old, f.Path); o != nil {
			fr.Status = StatusUnchanged
			if o.Version != f.Version || o.TreeHash != f.TreeHash {
				fr.Status = StatusUpdated
			}
			if o.Version != f.Version {
				fr.Previous = o.Version
			}
		}
		res.Forks = append(res.Forks, fr)
	}
	if old != nil {
		for _, f := range old.Forks {
			if !inNew[f.Path] {
				res.Removed = append(res.Removed, f.Path)
			}
		}
	}
	res.Pinned = pinnedOf(l.Surface)
	res.Surface, res.Platform = lockSurface(l.Surface), l.Platform
	for _, e := range l.Exposed {
		res.Exposed = append(res.Exposed, Exposed{Package: e.Package, Forks: e.Forks})
	}
	res.Exposures = lockExposures(l)
	for _, n := range l.NotShared {
		res.NotShared = append(res.NotShared, NotShared{Package: n.Package, Imports: n.Imports})
	}
	for _, f := range l.Findings {
		res.Findings = append(res.Findings, Finding{Pos: f.Pos, Kind: FindingKind(f.Kind), Path: f.Path, Message: f.Message, Behaviour: f.Behaviour})
	}
	res.Hazards = hostmodel.LockHazards(l)
	res.Scope = Scope{Platforms: l.Platforms, Tags: l.Tags}
	res.Size = sizeOf(l)
	res.Findings = append(res.Findings, largeFindings(res.Size)...)
	return res
}

// pinnedOf returns the modules of the shared surface, each with its
// packages: plugins must link exactly those versions.
func pinnedOf(surface []lockfile.Shared) []Pinned {
	var out []Pinned
	for _, e := range surface { // sorted by package
		i := slices.IndexFunc(out, func(p Pinned) bool { return p.Module == e.Module })
		if i < 0 {
			out = append(out, Pinned{Module: e.Module, Version: e.Version})
			i = len(out) - 1
		}
		out[i].Packages = append(out[i].Packages, e.Package)
	}
	slices.SortFunc(out, func(a, b Pinned) int { return strings.Compare(a.Module, b.Module) })
	return out
}

// oldFork returns the fork of upstream module path that lock old records
// (nil before the first fork), or nil.
func oldFork(old *lockfile.Lock, path string) *lockfile.Fork {
	if old == nil {
		return nil
	}
	return old.Find(path)
}
