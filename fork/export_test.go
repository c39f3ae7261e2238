package fork

import (
	"context"
	"slices"

	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/swap"
)

// TreeFiles lets external tests list a fork's files as the tree hash does.
var TreeFiles = lockfile.TreeFiles

// Phases runs the phases of a fork one at a time on a host, for tests of a
// phase without the CLI and without the phases after it: open the host,
// Plan, then Materialize, Verify and Apply as far as the test needs.
type Phases struct {
	s     *session
	set   settings
	st    *swap.Stage
	p     *plan
	m     *materialized
	gomod []byte // the go.mod verify settled
}

// OpenPhases opens the host cfg names and stages its upstream view.
func OpenPhases(ctx context.Context, cfg Config) (*Phases, error) {
	s, err := open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ph := &Phases{s: s}
	if ph.set, err = newSettings(cfg, s.h.Lock, s.h.Path); err == nil {
		ph.st, err = s.upstreamView(ph.set.Dir)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return ph, nil
}

// Close discards the stage and releases the host.
func (ph *Phases) Close() { ph.s.close() }

// PlanResult is what the plan phase decided: the forked modules with their
// packages, and the packages that stay shared.
type PlanResult struct {
	Forked map[string][]string // upstream module -> packages, sorted
	Pinned []string            // sorted
}

// Plan runs the plan phase.
func (ph *Phases) Plan(ctx context.Context) (*PlanResult, error) {
	p, err := ph.s.plan(ctx, ph.st, ph.set)
	if err != nil {
		return nil, err
	}
	ph.p = p
	res := &PlanResult{Forked: map[string][]string{}}
	for _, fp := range p.forks {
		for _, q := range fp.Pkgs {
			res.Forked[fp.Mod.Path] = append(res.Forked[fp.Mod.Path], q.Path)
		}
	}
	for path := range p.closure.Pinned {
		res.Pinned = append(res.Pinned, path)
	}
	slices.Sort(res.Pinned)
	return res, nil
}

// Materialize runs the materialize phase after Plan and returns each
// fork's tree hash, by upstream module.
func (ph *Phases) Materialize() (map[string]string, error) {
	m, err := materialize(ph.st, ph.p, ph.set, ph.s.progress)
	if err != nil {
		return nil, err
	}
	ph.m = m
	out := map[string]string{}
	for i, fp := range ph.p.forks {
		out[fp.Mod.Path] = m.forks[i].treeHash
	}
	return out, nil
}

// Verify runs the verify phase after Materialize.
func (ph *Phases) Verify(ctx context.Context) error {
	gomod, err := ph.s.verify(ctx, ph.st, ph.m.gomod, ph.set.Prefix, nil)
	ph.gomod = gomod
	return err
}

// Apply runs the apply phase after Verify, with the lock of the plan and
// what materialize made (the surface unproved, no checked remedies, no
// inputs hash), and reports whether the host changed.
func (ph *Phases) Apply(ctx context.Context) (bool, error) {
	lock, err := ph.set.lock(ph.p, ph.m, nil, ph.p.surface.unproved(ph.p), nil, nil)
	if err != nil {
		return false, err
	}
	return ph.s.apply(ctx, ph.st, lock, ph.gomod)
}

// SetSizeLimits lowers the sizes the size report judges files by, for a
// test with small files; the returned func restores them.
func SetSizeLimits(warn, limit int64, n int) (restore func()) {
	w, l, k := warnBytes, limitBytes, largestN
	warnBytes, limitBytes, largestN = warn, limit, n
	return func() { warnBytes, limitBytes, largestN = w, l, k }
}
