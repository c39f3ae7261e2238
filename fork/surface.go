package fork

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/surface"
	"github.com/plugfork/plugfork/internal/swap"
)

// Surface is one package of the shared surface: a package plugins and the
// host must share, at exactly the host's version.
type Surface struct {
	Package     string `json:"package"`
	Module      string `json:"module"`
	Version     string `json:"version"`
	Why         string `json:"why"`                   // "kept", "exposed by example.com/sdk/api.Plugin.Handle", "imported by example.com/sdk/api"
	Fingerprint string `json:"fingerprint,omitempty"` // under -trimpath, as the proof compared it
	// NotBuilt says that no Go file of the package builds on the platform
	// the surface was proved on (Result.Platform): a binary for it does
	// not link the package, so there is nothing there to differ.
	NotBuilt bool `json:"not_built,omitempty"`
}

// NotShared is a package of a kept module that is forked all the same:
// it imports a package nobody kept, and sharing it would share that too.
type NotShared struct {
	Package string `json:"package"`
	Imports string `json:"imports"` // the first private dependency it reaches
}

// surfacePlan is the shared surface a run keeps.
type surfacePlan struct {
	why       map[string]string // package -> reason
	notShared []NotShared       // packages of kept modules forked all the same
	upstream  *surface.Proof    // fingerprints in the upstream view, under -trimpath
}

// surface decides the shared surface of the closure c in the upstream view
// in st (closure.Surface says what it holds), with why each package is in
// it: kept, exposed by a declaration of a kept package's API (read from
// export data), or imported by a package of the surface. It returns the
// closure split so (the surface shared, everything else forked, however it
// is reached) and the surface with the fingerprints the proof compares.
func (s *session) surface(ctx context.Context, st *swap.Stage, c *closure.Closure) (*closure.Closure, *surfacePlan, error) {
	if len(c.Kept()) == 0 {
		return c, nil, nil
	}
	sharedVia, notShared := c.Surface()
	shared := slices.Sorted(maps.Keys(sharedVia))
	ex, err := surface.Export(ctx, s.runner(st), shared)
	if err != nil {
		return nil, nil, err
	}
	var kept []string
	for _, p := range shared {
		if sharedVia[p] == "" {
			kept = append(kept, p)
		}
	}
	inSurface := func(p string) bool { _, ok := sharedVia[p]; return ok }
	reasons, err := surface.Compute(ex.Exported, kept, inSurface)
	if err != nil {
		return nil, nil, err
	}
	sp := &surfacePlan{why: map[string]string{}, upstream: ex}
	for _, r := range reasons {
		sp.why[r.Package] = r.Why
	}
	for _, p := range shared {
		if sp.why[p] == "" {
			sp.why[p] = "imported by " + sharedVia[p]
		}
	}
	for _, p := range slices.Sorted(maps.Keys(notShared)) {
		sp.notShared = append(sp.notShared, NotShared{Package: p, Imports: notShared[p]})
	}
	set := map[string]bool{}
	for _, p := range shared {
		set[p] = true
	}
	return c.Split(set), sp, nil
}

// prove compiles the surface in the forked view in st and compares each
// package's fingerprint with the upstream view's: a plugin built against
// the upstream surface loads only if they are equal. It returns the
// surface, proved.
func (s *session) prove(ctx context.Context, st *swap.Stage, p *plan) ([]Surface, error) {
	sp := p.surface
	if sp == nil {
		return nil, nil
	}
	shared := slices.Sorted(maps.Keys(sp.why))
	got, err := surface.Export(ctx, s.runner(st), shared)
	if err != nil {
		return nil, fmt.Errorf("proving the shared surface unchanged: %w", err)
	}
	var changed, out []Surface
	for _, path := range shared {
		e := sp.entry(p, path)
		e.Fingerprint = got.Exported[path].Fingerprint
		if e.NotBuilt != slices.Contains(got.Unbuilt, path) || e.Fingerprint != sp.upstream.Exported[path].Fingerprint {
			changed = append(changed, e)
		}
		out = append(out, e)
	}
	if len(changed) > 0 {
		var lines []string
		for _, e := range changed {
			lines = append(lines, fmt.Sprintf("%s: fingerprint %q upstream, %q forked on %s", e.Package, sp.upstream.Exported[e.Package].Fingerprint, e.Fingerprint, sp.upstream.Platform))
		}
		return nil, fmt.Errorf("forking changed the fingerprints of the shared surface, though every package it imports stays shared; plugins built against it would not load, so nothing was written:\n\t%s\n\tkeep what these packages refer to by name (--keep), and report the case: plugfork does not follow it", strings.Join(lines, "\n\t"))
	}
	return out, nil
}

// entry returns the surface's entry for path, with the version of closure
// p and whether it builds on the platform of the proof, without a
// fingerprint.
func (sp *surfacePlan) entry(p *plan, path string) Surface {
	q := p.closure.Pinned[path]
	return Surface{Package: path, Module: q.Mod.Path, Version: q.Mod.Version, Why: sp.why[path], NotBuilt: slices.Contains(sp.upstream.Unbuilt, path)}
}

// unproved returns the surface sp plans, with the versions of closure p
// but without the fingerprints the proof takes: a dry run's. Nil when
// nothing is kept.
func (sp *surfacePlan) unproved(p *plan) []Surface {
	if sp == nil {
		return nil
	}
	var out []Surface
	for _, path := range slices.Sorted(maps.Keys(sp.why)) {
		out = append(out, sp.entry(p, path))
	}
	return out
}

// platform returns the GOOS/GOARCH the surface is proved on: "" when
// nothing is kept.
func (sp *surfacePlan) platform() string {
	if sp == nil {
		return ""
	}
	return sp.upstream.Platform
}
