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
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"github.com/plugfork/plugfork/internal/swap"
	"golang.org/x/mod/semver"
)

// Hazard is a way two copies of a library in one process (the host's fork
// and a plugin's original) break at run time, found statically in a fork.
// A registry hazard is a decision: its remedies are those plugfork checked
// apply to the host, and one must be taken, or the hazard accepted.
type Hazard struct {
	Module   string          `json:"module"`
	Package  string          `json:"package,omitempty"` // the registering package, by its upstream path
	Pos      string          `json:"pos,omitempty"`     // file:line:col of the call, relative to the host root
	Call     string          `json:"call,omitempty"`
	Kind     hazard.Kind     `json:"kind"`
	Registry hazard.Registry `json:"registry,omitempty"`
	Name     string          `json:"name,omitempty"`  // the name registered
	Panic    string          `json:"panic,omitempty"` // what plugin.Open panics with
	Message  string          `json:"message"`
	Remedies []Remedy        `json:"remedies,omitempty"`
	Accepted string          `json:"accepted,omitempty"` // the reason it was accepted with, if it was
}

// RemedyKind says what a Remedy does.
type RemedyKind string

// The kinds of Remedy.
const (
	RemedyKeep     RemedyKind = "keep"      // keep the package shared with plugins
	RemedyBuildTag RemedyKind = "build-tag" // build the host with a tag that drops its import
	RemedyLdflags  RemedyKind = "ldflags"   // rename the registration with the linker's -X
	RemedyAccept   RemedyKind = "accept"    // accept the hazard, with a reason
)

// Remedy is one way out of a hazard.
type Remedy struct {
	Kind RemedyKind `json:"kind"`
	Do   string     `json:"do"`             // the command or flag
	Pins []string   `json:"pins,omitempty"` // keep: the module@version plugins must then link exactly
	Note string     `json:"note,omitempty"`
}

// Acceptance is a hazard accepted on purpose (--accept-hazard), by the
// registering package, with the reason given.
type Acceptance = lockfile.Acceptance

// hazards returns the hazards of the forks: for each registration a
// registry hazard with its remedies, checked against the host in the
// stage, then the singletons of the forked modules.
func (s *session) hazards(ctx context.Context, st *swap.Stage, set settings, p *plan, m *materialized) ([]Hazard, error) {
	accepted := map[string]string{}
	for _, a := range set.Accepted {
		accepted[a.Package] = a.Reason
	}
	var out []Hazard
	var forked []string
	remedies := map[string][]Remedy{} // by package
	for i, fp := range p.forks {
		forked = append(forked, fp.Mod.Path)
		for _, r := range m.forks[i].registrations {
			rem, ok := remedies[r.Package]
			if !ok {
				var err error
				if rem, err = s.remedies(ctx, st, set, p, fp, r); err != nil {
					return nil, err
				}
				remedies[r.Package] = rem
			}
			fork := set.Prefix + "/" + r.Package
			text := r.PanicText(fork, r.Package, "<host>")
			out = append(out, Hazard{
				Module: fp.Mod.Path, Package: r.Package, Pos: r.Pos, Call: r.Call, Kind: hazard.KindRegistry,
				Registry: r.Registry, Name: r.Name, Panic: text, Remedies: rem, Accepted: accepted[r.Package],
				Message: fmt.Sprintf("%s registers %q in %s when the package initializes: if a plugin links its own copy of %s, plugin.Open panics (%q)",
					callOr(r), r.Name, r.Registry, r.Package, firstLine(text)),
			})
		}
	}
	for _, h := range hazard.Singletons(forked) {
		out = append(out, Hazard{Module: h.Module, Kind: h.Kind, Message: h.Message})
	}
	return out, nil
}

// lockHazards returns the registry hazards the lock records, for a run
// that did no work: their remedies are those the lock alone tells (what to
// keep, -X, accepting), not the checked ones a fork computes.
func lockHazards(l *lockfile.Lock) []Hazard {
	accepted := map[string]string{}
	for _, a := range l.Accepted {
		accepted[a.Package] = a.Reason
	}
	var out []Hazard
	for _, f := range l.Forks {
		for _, r := range f.Registrations {
			text := r.PanicText(l.Prefix+"/"+r.Package, r.Package, "<host>")
			rem := []Remedy{{Kind: RemedyKeep, Do: "plugfork fork --keep " + r.Package}}
			if r.Var != "" {
				rem = append(rem, Remedy{Kind: RemedyLdflags, Do: fmt.Sprintf("build the host with -ldflags=-X=%s/%s.%s=%s-host", l.Prefix, r.Package, r.Var, r.Name)})
			}
			rem = append(rem, Remedy{Kind: RemedyAccept, Do: fmt.Sprintf("plugfork fork --accept-hazard %s --reason \"...\"", r.Package)})
			out = append(out, Hazard{
				Module: f.Path, Package: r.Package, Pos: r.Pos, Call: r.Call, Kind: hazard.KindRegistry, Registry: r.Registry, Name: r.Name,
				Panic: text, Remedies: rem, Accepted: accepted[r.Package],
				Message: fmt.Sprintf("%s registers %q in %s when the package initializes: if a plugin links its own copy of %s, plugin.Open panics (%q)",
					callOr(r), r.Name, r.Registry, r.Package, firstLine(text)),
			})
		}
	}
	return out
}

func callOr(r hazard.Registration) string {
	if r.Call != "" {
		return r.Call
	}
	return r.Package
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// remedies returns the ways out of registration r of fork fp that apply
// to this host: keeping the package shared (with what that pins), a build
// tag that drops every import of it (checked with the go command), a -X
// that renames it, and accepting it.
func (s *session) remedies(ctx context.Context, st *swap.Stage, set settings, p *plan, fp forkPlan, r hazard.Registration) ([]Remedy, error) {
	c := p.closure
	var out []Remedy

	// Keep: the package and what it imports, transitively, stay shared
	// (its shared surface); the rest of its module may stay forked.
	pinsOf := func(reach map[string]bool) map[string]bool {
		pins := map[string]bool{}
		for path := range reach {
			if q := c.Forked[path]; q != nil {
				pins[q.Mod.Path+"@"+q.Mod.Version] = true
			}
		}
		return pins
	}
	keep, keepNote := r.Package, ""
	pins := pinsOf(reachable(c, r.Package))
	if r.Package == fp.Mod.Path && len(pins) > 1 {
		// The module's path alone names the module, whose packages that
		// import unkept ones may stay forked (closure.Surface): name its
		// packages instead.
		keep, keepNote = r.Package+"/...", "the package is its module's root: --keep "+r.Package+" would name the module"
		reach := map[string]bool{}
		for path, q := range c.Forked {
			if q.Mod == fp.Mod {
				maps.Copy(reach, reachable(c, path))
			}
		}
		pins = pinsOf(reach)
	}
	out = append(out, Remedy{Kind: RemedyKeep, Do: "plugfork fork --keep " + keep, Pins: slices.Sorted(maps.Keys(pins)), Note: keepNote})

	// A build tag that drops every import of the package.
	if tags := tagKnobs(c, r.Package); len(tags) > 0 {
		ok, err := s.dropsImport(ctx, st, tags, set.Prefix+"/"+r.Package)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, Remedy{Kind: RemedyBuildTag, Do: "build the host with -tags " + strings.Join(tags, ","),
				Note: "checked: built with it, the host links no " + r.Package + ", so no plugin's copy collides with it"})
		}
	}

	// The shared protobuf runtime's conflict policy.
	if r.Registry == hazard.Protobuf {
		out = append(out, Remedy{Kind: RemedyLdflags,
			Do:   "build the host with -ldflags=-X=" + hazard.ProtoRegistry + ".conflictPolicy=warn",
			Note: "the runtime the host shares with plugins then warns instead of panicking; both copies stay registered, and lookups by name find the first"})
	}

	// A registration named by a package variable: -X renames it.
	if r.Var != "" {
		out = append(out, Remedy{Kind: RemedyLdflags,
			Do:   fmt.Sprintf("build the host with -ldflags=-X=%s/%s.%s=%s-host", set.Prefix, r.Package, r.Var, r.Name),
			Note: fmt.Sprintf("the host's copy then registers %q as %s-host: the host must use that name itself (an empty value skips the registration where the library allows it)", r.Name, r.Name)})
	}
	out = append(out, Remedy{Kind: RemedyAccept, Do: fmt.Sprintf("plugfork fork --accept-hazard %s --reason \"...\"", r.Package),
		Note: "when no plugin will link " + r.Package})
	return out, nil
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
	r := gocmd.Runner{Dir: st.Dir, Env: gocmd.WithModFlag(s.cfg.Env, "readonly")}
	out, err := r.Run(ctx, "list", "-deps", "-tags="+strings.Join(tags, ","), "-f", "{{.ImportPath}}", "./...")
	if err != nil {
		return false, fmt.Errorf("checking -tags %s: %w", strings.Join(tags, ","), err)
	}
	return !slices.Contains(strings.Fields(string(out)), fork), nil
}
