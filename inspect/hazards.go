package inspect

import (
	"path"
	"strings"

	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/pkgpath"
)

// Registration is a package that registers a fixed name in a process-wide
// registry when it initializes (see package hazard's table): a second copy
// of it in the process panics inside plugin.Open.
type Registration = hazard.Registration

// Hazards is what inspect knows, beyond its table of well-known libraries,
// of the names packages register at init: what plugfork found in a host's
// forks, and the forks' prefix, as plugfork.lock records them.
type Hazards struct {
	Prefix        string
	Registrations []Registration
}

// ReadLock reads the Hazards of a plugfork.lock.
func ReadLock(path string) (*Hazards, error) {
	h, err := hostmodel.FromLock(path)
	if err != nil {
		return nil, err
	}
	return LockHazards(h), nil
}

// LockHazards returns the Hazards the lock of host h records; nil for a
// host never forked.
func LockHazards(h *hostmodel.Host) *Hazards {
	if h.Lock == nil {
		return nil
	}
	return &Hazards{Prefix: h.Prefix(), Registrations: h.Registrations()}
}

// registrar models the registries of one process: which package
// registered which name, as the host and then each plugin initialize.
type registrar struct {
	hz          *Hazards
	byPkg       map[string][]Registration // the lock's, by upstream package
	registered  map[string]owner          // registry ID + name -> who registered it
	inited      map[string]bool           // packages initialized in the process, by path
	program     string                    // the host program, as the flag package names it
	hostLdflags string                    // the host's -ldflags
}

type owner struct {
	against, pkg string
}

func newRegistrar(hz *Hazards, host *Binary) *registrar {
	r := &registrar{hz: hz, byPkg: map[string][]Registration{}, registered: map[string]owner{}, inited: map[string]bool{}, program: host.Path, hostLdflags: host.Setting("-ldflags")}
	if hz != nil {
		for _, reg := range hz.Registrations {
			r.byPkg[reg.Package] = append(r.byPkg[reg.Package], reg)
		}
	}
	return r
}

// upstream returns the upstream path of package pkg of b, and whether b
// links it as a copy under another path: by the lock's prefix, or, without
// one, for a library in hazard's table (copyOf).
func (r *registrar) upstream(b *Binary, pkg string) (string, bool) {
	if r.hz != nil && r.hz.Prefix != "" && pkgpath.Within(pkg, r.hz.Prefix) && pkg != r.hz.Prefix {
		return strings.TrimPrefix(pkg, r.hz.Prefix+"/"), true
	}
	if k, ok := copyOf(b.Modules, pkg); ok {
		return k, true
	}
	return pkg, false
}

// copyOf returns the package of hazard's table that package pkg, of a
// binary whose buildinfo lists mods, is a copy of under another path, and
// whether it is one. A copy is known by its path, which ends in the
// library's on whole elements (plugfork's forks, P/github.com/lib/pq, and
// forks named that way by hand), or by the buildinfo of the module that
// provides it: replaced by the library's module (P/pq => github.com/lib/pq
// v1.12.3), or by a directory whose path ends in the library's
// (./third_party/github.com/lib/pq). The library itself, under its own path,
// is no copy: a plugin's is then the same package.
func copyOf(mods []Module, pkg string) (string, bool) {
	candidates := []string{pkg}
	var mod *Module
	for i := range mods {
		m := &mods[i]
		if pkgpath.Within(pkg, m.Path) && (mod == nil || len(m.Path) > len(mod.Path)) {
			mod = m
		}
	}
	if mod != nil && mod.Replace != nil {
		to := mod.Replace.Path
		if v := mod.Replace.Version; v == "" || v == "(devel)" { // a directory (buildinfo says (devel)), maybe a windows one
			to = path.Clean(strings.ReplaceAll(to, `\`, "/"))
		}
		candidates = append(candidates, to+strings.TrimPrefix(pkg, mod.Path))
	}
	for _, c := range candidates {
		for _, k := range hazard.Known {
			if k.Package != pkg && (c == k.Package || strings.HasSuffix(c, "/"+k.Package)) {
				return k.Package, true
			}
		}
	}
	return "", false
}

// registrations returns what package pkg (upstream path) registers: the
// table's entries where it knows the library, the lock's otherwise.
func (r *registrar) registrations(pkg string) []Registration {
	if known := hazard.Lookup(pkg); len(known) > 0 {
		return known
	}
	return r.byPkg[pkg]
}

// registryID names the instance of registry reg that package pkg of b
// registers in: the standard library's are one per process; the protobuf
// registry is the runtime's copy that b links for it (a forked runtime has
// its own).
func (r *registrar) registryID(b *Binary, pkg string, forked bool, reg hazard.Registry) string {
	if reg != hazard.Protobuf {
		return string(reg)
	}
	if forked {
		prefix := strings.TrimSuffix(pkg, "/"+mustUpstream(r, b, pkg))
		if _, ok := b.Fingerprint(prefix + "/" + hazard.ProtoRegistry); ok {
			return prefix + "/" + hazard.ProtoRegistry
		}
	}
	return hazard.ProtoRegistry
}

func mustUpstream(r *registrar, b *Binary, pkg string) string {
	u, _ := r.upstream(b, pkg)
	return u
}

// init initializes b's packages that the process has not initialized yet,
// in table order, and returns the first panic a registration causes.
// against names b ("host", or the plugin's path).
func (r *registrar) init(b *Binary, against string) *Panic {
	for _, p := range b.Packages {
		if r.inited[p.Path] {
			continue // bound to the copy already initialized
		}
		r.inited[p.Path] = true
		up, forked := r.upstream(b, p.Path)
		for _, reg := range r.registrations(up) {
			if reg.Var != "" {
				// Renamed (or, empty, skipped) with -X by this binary's build.
				if v, ok := hazard.VarValue(b.Setting("-ldflags"), p.Path+"."+reg.Var); ok {
					if v == "" {
						continue
					}
					reg.Name = v
				}
			}
			id := r.registryID(b, p.Path, forked, reg.Registry)
			key := id + "\x00" + reg.Name
			if prev, ok := r.registered[key]; ok {
				if reg.Registry == hazard.Protobuf && hazard.SetsVar(r.hostLdflags, id+".conflictPolicy") {
					continue // the host set the shared runtime to warn (or ignore)
				}
				return &Panic{
					Text: reg.PanicText(prev.pkg, p.Path, r.program), Package: p.Path, Registry: string(reg.Registry),
					Name: reg.Name, Against: prev.against, First: prev.pkg,
				}
			}
			r.registered[key] = owner{against, p.Path}
		}
	}
	return nil
}

// panicCause explains a predicted panic, with its fix.
func panicCause(pn *Panic, up string) Cause {
	side := "the host"
	if pn.Against != "host" {
		side = pn.Against
	}
	summary, fix := hazard.InitPanic(pn.Package, pn.Name, pn.Registry, side, pn.First, up)
	return Cause{Kind: CauseInitPanic, Against: pn.Against, Module: up, Summary: summary, Fix: fix}
}
