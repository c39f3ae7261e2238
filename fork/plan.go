package fork

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/modfile"
)

// plan is what a run forks: decided from the upstream view, before a file
// is written.
type plan struct {
	gomod       []byte     // the upstream go.mod, as the stage holds it
	forks       []forkPlan // sorted by module path
	mapping     *rewrite.Mapping
	stillNeeded map[string]bool // upstream modules that kept packages still require
	exposed     []Exposed       // host packages plugins can import that use forks
	closure     *closure.Closure
	surface     *surfacePlan // nil when nothing is kept

	resolveMs, downloadMs int64 // how long the plan took
}

// forkPlan is one module to fork.
type forkPlan struct {
	Mod      *closure.Module
	Pkgs     []*closure.Package
	ForkPath string
	ForkDir  string           // relative to the host root, slash-separated
	Require  lockfile.Require // how the upstream go.mod requires Mod
	Replace  string           // the host's replacement of Mod, as the lock records it ("path version" or a directory)
	Files    []string         // the files copied, relative to Mod.Dir, slash-separated, sorted
	// PinVersion says that the fork is inline and its module older than
	// the host's language version where semantics changed: its Go files
	// get a //go:build go1.21 term (see withFileVersion).
	PinVersion bool
}

// plan resolves the build list and the closure of the upstream view in st
// and decides the forks and the shared surface.
func (s *session) plan(ctx context.Context, st *swap.Stage, set settings) (*plan, error) {
	staged, err := os.ReadFile(st.Path("go.mod"))
	if err != nil {
		return nil, err
	}
	run := s.runner(st)
	mods, err := closure.ListModules(ctx, run)
	if err != nil {
		return nil, err
	}
	if after, err := os.ReadFile(st.Path("go.mod")); err != nil || !bytes.Equal(after, staged) {
		return nil, errors.New("go.mod is not consistent with the build (go list -m all changed it): run go mod tidy, check the host builds, and run plugfork again")
	}
	// Unscoped, the walk reaches about every required module: one go
	// command fetches them all. Scoped, the walk downloads what it reaches,
	// a wave at a time, and not the modules only other builds import.
	fetchStart := time.Now()
	if set.Scope.IsZero() {
		if err := closure.FetchRequired(ctx, run, mods, staged); err != nil {
			return nil, err
		}
	}
	fetched := time.Since(fetchStart).Milliseconds()
	rels, err := modtree.Packages(st.Dir)
	if err != nil {
		return nil, err
	}
	hostRels, err := closure.Select(s.h.Path, rels, s.cfg.Patterns)
	if err != nil {
		return nil, err
	}
	c, err := closure.Build(ctx, closure.Config{
		HostPath: s.h.Path, HostDir: st.Dir, Tests: set.Tests, Keep: set.Keep, Scope: set.Scope, Mods: mods, Run: run,
	}, hostRels)
	if err != nil {
		return nil, err
	}
	c, sp, err := s.surface(ctx, st, c)
	if err != nil {
		return nil, err
	}
	forkMods, _ := c.ForkedModules()
	pairs := map[string]string{}
	for _, m := range forkMods {
		pairs[m.Path] = set.Prefix + "/" + m.Path
	}
	// Shared packages of a forked module (the contract kept, its helpers
	// forked) keep their paths, but for internal ones: only their own
	// module may import those, so the forked packages of it import a
	// forked copy.
	var keptPkgs, copies []string
	for path, p := range c.Pinned {
		switch {
		case pairs[p.Mod.Path] == "":
		case slices.Contains(strings.Split(path, "/"), "internal"):
			copies = append(copies, path)
		default:
			keptPkgs = append(keptPkgs, path)
		}
	}
	c = c.ForkToo(copies)
	forkMods, byMod := c.ForkedModules()
	// Modules that stay shared: a kept module nested in a forked one
	// (example.com/api/v2 in example.com/api) must not map into the fork.
	stillNeeded := map[string]bool{}
	var shared []string
	for _, p := range c.Pinned {
		if !stillNeeded[p.Mod.Path] && pairs[p.Mod.Path] == "" {
			shared = append(shared, p.Mod.Path)
		}
		stillNeeded[p.Mod.Path] = true
	}
	slices.Sort(shared)
	mapping, err := rewrite.NewMappingKeep(pairs, shared)
	if err != nil {
		return nil, fmt.Errorf("invalid --prefix %s: %w", set.Prefix, err)
	}
	mapping = mapping.KeepPackages(keptPkgs)
	resolveMs := s.clock.lap() - fetched

	// The go.sum-verified sources (most fetched before the walk, which
	// counts here).
	s.progress("downloading %s", plural.S(len(forkMods), "module"))
	if err := closure.Download(ctx, run, forkMods); err != nil {
		return nil, err
	}
	downloadMs := s.clock.lap() + fetched

	f, err := modfile.Parse("go.mod", staged, nil)
	if err != nil {
		return nil, err
	}
	p := &plan{gomod: staged, mapping: mapping, stillNeeded: stillNeeded, closure: c, surface: sp, resolveMs: resolveMs, downloadMs: downloadMs}
	exposed := c.Exposed()
	for _, path := range slices.Sorted(maps.Keys(exposed)) {
		p.exposed = append(p.exposed, Exposed{Package: path, Forks: exposed[path]})
	}
	for _, m := range forkMods {
		dir, err := lockfile.ForkDir(set.Dir, m.Path, set.inline())
		if err != nil {
			return nil, err
		}
		repl := m.ReplaceString()
		if m.LocalDir() {
			repl = st.HostPath(repl) // not the stage's absolute path
		}
		pin := false
		if set.inline() && f.Go != nil {
			v, err := goVersion(m.Dir)
			if err != nil {
				return nil, fmt.Errorf("%s@%s: %w", m.Path, m.Version, err)
			}
			pin = pinsVersion(v, "go"+f.Go.Version)
		}
		files, err := closure.Files(m, byMod[m], set.Tests, set.Whole)
		if err != nil {
			return nil, fmt.Errorf("%s: listing files: %w", m.Path, err)
		}
		p.forks = append(p.forks, forkPlan{
			Mod: m, Pkgs: byMod[m], ForkPath: pairs[m.Path], ForkDir: dir,
			Require: requireOf(f, m.Path), Replace: repl, Files: files, PinVersion: pin,
		})
	}
	if err := checkZipSize(s.h.Root, p, set, s.cfg.ZipLimit); err != nil {
		return nil, err
	}
	return p, nil
}

// goGet moves the upstream view as go get moves it for the queries.
func goGet(ctx context.Context, r gocmd.Runner, queries []string) error {
	if _, err := r.Run(ctx, append([]string{"get"}, queries...)...); err != nil {
		return fmt.Errorf("resolving %s: %w", strings.Join(queries, " "), err)
	}
	return nil
}
