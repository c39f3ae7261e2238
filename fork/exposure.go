package fork

import (
	"go/types"
	"strings"
	"sync"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"github.com/plugfork/plugfork/internal/surface"
)

// Exposure is a forked module whose types the exported API of host
// packages plugins can import hands out (a field, a parameter or result,
// an embedded type, an alias): a plugin that uses those declarations with
// values of its own copy of the module does not compile. Keeping the
// module (Keep) shares it with plugins, which pins Pins for them.
type Exposure struct {
	Module string      `json:"module"`
	Keep   string      `json:"keep"` // the --keep that shares it
	Pins   []string    `json:"pins"` // what that pins for plugins: module@version
	By     []ExposedBy `json:"by"`
}

// ExposedBy is a declaration of a host package's exported API that refers
// to a type of a fork.
type ExposedBy struct {
	Package string               `json:"package"` // the host package
	Decl    string               `json:"decl"`    // as plugins name it in the package: "Request.ID"
	Kind    surface.ExposureKind `json:"kind"`    // what part of it refers to the type
	Type    string               `json:"type"`    // the forked package whose type it is, by upstream path
}

// exposures finds, as the forked host is type-checked (its look is the
// check's API hook), the exported API of the host packages plugins can
// import that refers to the types of forks, by forked module.
type exposures struct {
	hosts map[string]bool // host packages plugins can import that reach forks
	forks []forkPlan
	c     *closure.Closure

	mu sync.Mutex
	by map[string][]lockfile.ExposedBy // by upstream module
}

func newExposures(p *plan) *exposures {
	e := &exposures{hosts: map[string]bool{}, forks: p.forks, c: p.closure, by: map[string][]lockfile.ExposedBy{}}
	for _, x := range p.exposed {
		e.hosts[x.Package] = true
	}
	return e
}

// upstream returns the fork whose package path is (in the forked view),
// and the package's upstream path.
func (e *exposures) upstream(path string) (*forkPlan, string) {
	for i := range e.forks {
		fp := &e.forks[i]
		if pkgpath.Within(path, fp.ForkPath) {
			return fp, fp.Mod.Path + strings.TrimPrefix(path, fp.ForkPath)
		}
	}
	return nil, ""
}

// look records the exposures of pkg, when it is a host package plugins can
// import. It is called from the checking goroutines.
func (e *exposures) look(pkg *types.Package) {
	if !e.hosts[pkg.Path()] {
		return
	}
	forked := func(path string) bool { fp, _ := e.upstream(path); return fp != nil }
	// Only a third-party package that is forked, or the host's own, can
	// refer to a fork's types: the standard library and the shared surface
	// cannot.
	skip := func(path string) bool {
		first, _, _ := strings.Cut(path, "/")
		return !strings.Contains(first, ".") || e.c.Pinned[path] != nil
	}
	found := surface.Exposes(pkg, forked, skip)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range found {
		fp, up := e.upstream(x.Package)
		e.by[fp.Mod.Path] = append(e.by[fp.Mod.Path], lockfile.ExposedBy{Package: pkg.Path(), Decl: x.Decl, Kind: string(x.Kind), Type: up})
	}
}

// forModule returns the exposures of the forked module, and what keeping
// it would pin for plugins (nil when nothing exposes it).
func (e *exposures) forModule(fp forkPlan) ([]lockfile.ExposedBy, []string) {
	if e == nil || len(e.by[fp.Mod.Path]) == 0 {
		return nil, nil
	}
	return e.by[fp.Mod.Path], modulePins(e.c, fp.Mod)
}

// lockExposures returns the exposures the forks of lock l record.
func lockExposures(l *lockfile.Lock) []Exposure {
	var out []Exposure
	for _, f := range l.Forks {
		if len(f.ExposedBy) == 0 {
			continue
		}
		x := Exposure{Module: f.Path, Keep: f.Path, Pins: f.KeepPins}
		for _, b := range f.ExposedBy {
			x.By = append(x.By, ExposedBy{Package: b.Package, Decl: b.Decl, Kind: surface.ExposureKind(b.Kind), Type: b.Type})
		}
		out = append(out, x)
	}
	return out
}
