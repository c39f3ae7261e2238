package fork

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/load"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"github.com/plugfork/plugfork/internal/swap"
	"golang.org/x/mod/semver"
)

// Hazard is a way two copies of a library in one process (the host's fork
// and a plugin's original) break at run time, found statically in a fork,
// as internal/hazard words it. A registry hazard is a decision: its
// remedies are those plugfork checked apply to the host, and one must be
// taken, or the hazard accepted.
type Hazard = hazard.Report

// RemedyKind says what a Remedy does.
type RemedyKind = hazard.RemedyKind

// The kinds of Remedy.
const (
	RemedyKeep     = hazard.RemedyKeep     // keep the package shared with plugins
	RemedyBuildTag = hazard.RemedyBuildTag // build the host with a tag that drops its import
	RemedyLdflags  = hazard.RemedyLdflags  // rename the registration with the linker's -X
	RemedyAccept   = hazard.RemedyAccept   // accept the hazard, with a reason
)

// Remedy is one way out of a hazard.
type Remedy = hazard.Remedy

// Acceptance is a hazard accepted on purpose (--accept-hazard), by the
// registering package, with the reason given.
type Acceptance = lockfile.Acceptance

// remedies records in the lock l of plan p, for each package its forks
// register names under, what its remedies need checked against the host
// in the stage: what keeping it shared pins (the package and what it
// imports, transitively: its shared surface; the rest of its module may
// stay forked), whether it is its module's root, and, when check, the
// build tags that drop every import of it, as the go command builds the
// host with them (a dry run, which builds nothing, lists none).
// internal/hazard words the remedies from these facts.
func (s *session) remedies(ctx context.Context, st *swap.Stage, set settings, p *plan, l *lockfile.Lock, check bool) error {
	c := p.closure
	for i, fp := range p.forks {
		f := &l.Forks[i]
		for _, r := range f.Registrations {
			if f.Remedy(r.Package) != nil {
				continue
			}
			rem := lockfile.Remedy{Package: r.Package, Pins: pinsOf(c, reachable(c, r.Package))}
			if r.Package == fp.Mod.Path && len(rem.Pins) > 1 {
				// The module's path alone names the module, whose packages
				// that import unkept ones may stay forked
				// (closure.Surface): name its packages instead.
				rem.Root = true
				rem.Pins = modulePins(c, fp.Mod)
			}
			if tags := tagKnobs(c, r.Package); check && len(tags) > 0 {
				ok, err := s.dropsImport(ctx, st, tags, set.Prefix+"/"+r.Package)
				if err != nil {
					return err
				}
				if ok {
					rem.Tags = tags
				}
			}
			f.Remedies = append(f.Remedies, rem)
		}
	}
	return nil
}

// modulePins returns what keeping module m (--keep PATH) pins for plugins:
// the modules of the forked packages its forked packages import,
// transitively, themselves included, as path@version.
func modulePins(c *closure.Closure, m *closure.Module) []string {
	reach := map[string]bool{}
	for path, q := range c.Forked {
		if q.Mod == m {
			maps.Copy(reach, reachable(c, path))
		}
	}
	return pinsOf(c, reach)
}

// pinsOf returns the modules of the forked packages of c in reach, as
// path@version, sorted.
func pinsOf(c *closure.Closure, reach map[string]bool) []string {
	pins := map[string]bool{}
	for path := range reach {
		if q := c.Forked[path]; q != nil {
			pins[q.Mod.Path+"@"+q.Mod.Version] = true
		}
	}
	return slices.Sorted(maps.Keys(pins))
}

// reachable returns the third-party packages of the closure the package
// imports, transitively, itself included.
func reachable(c *closure.Closure, from string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{from}
	for len(stack) > 0 {
		path := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[path] {
			continue
		}
		q := c.Forked[path]
		if q == nil {
			q = c.Pinned[path]
		}
		if q == nil {
			continue
		}
		seen[path] = true
		stack = append(stack, q.BuildImports...)
	}
	return seen
}

// tagKnobs returns the build tags that drop every import of pkg in the
// closure, or nil when some importer has none (the host itself, say).
func tagKnobs(c *closure.Closure, pkg string) []string {
	tags := map[string]bool{}
	importers := 0
	for _, q := range append(slices.Collect(maps.Values(c.Forked)), c.Host...) {
		if !slices.Contains(q.BuildImports, pkg) {
			continue
		}
		importers++
		found := false
		for _, k := range hazard.TagKnobs {
			if k.Package == pkg && q.Mod != nil && pkgpath.Within(q.Path, k.Importer) && q.Mod.Path == k.Importer &&
				(k.Since == "" || semver.Compare(q.Mod.Version, k.Since) >= 0) {
				tags[k.Tag] = true
				found = true
			}
		}
		if !found {
			return nil
		}
	}
	if importers == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(tags))
}

// dropsImport reports whether the forked host, built with the tags, links
// no package fork: the go command decides, on every package of the host.
func (s *session) dropsImport(ctx context.Context, st *swap.Stage, tags []string, fork string) (bool, error) {
	pkgs, err := load.Packages(ctx, load.Config{Dir: st.Dir, Env: gocmd.WithModFlag(s.cfg.Env, "readonly"), BuildFlags: []string{"-tags=" + strings.Join(tags, ",")}},
		load.Name|load.Deps, "./...")
	if err == nil {
		err = load.Errors(pkgs)
	}
	if err != nil {
		return false, fmt.Errorf("checking -tags %s: %w", strings.Join(tags, ","), err)
	}
	for _, p := range pkgs {
		if p.PkgPath == fork {
			return false, nil
		}
	}
	return true, nil
}
