package rewrite

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"golang.org/x/mod/module"
)

// Mapping maps forked module paths (old) to their new module paths.
// A Mapping is immutable and safe for concurrent use.
type Mapping struct {
	old2new  map[string]string
	kept     map[string]bool // modules that stay shared though nested in a forked one
	keptPkgs map[string]bool // packages that stay shared though their module is forked
	pairs    []ModulePair    // sorted by Old
	maxLen   int             // length of the longest old or kept path
}

// ModulePair is one forked module: its original path and its new path.
type ModulePair struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// NewMapping validates mods, a map from original module path to new module
// path, and returns the Mapping. Both sides must be valid import paths, no two
// modules may share a new path, and no new path may lie in the path space of a
// forked module (it would be rewritten again).
func NewMapping(mods map[string]string) (*Mapping, error) {
	return NewMappingKeep(mods, nil)
}

// NewMappingKeep is NewMapping for a host that keeps some modules shared
// while forking a module whose path space holds them: packages of a kept
// module, such as example.com/api/v2 when example.com/api is forked, are not
// mapped. A kept module must not also be forked.
func NewMappingKeep(mods map[string]string, keep []string) (*Mapping, error) {
	m := &Mapping{old2new: make(map[string]string, len(mods))}
	for oldPath, newPath := range mods {
		m.old2new[oldPath] = newPath
		m.pairs = append(m.pairs, ModulePair{Old: oldPath, New: newPath})
		m.maxLen = max(m.maxLen, len(oldPath))
	}
	sort.Slice(m.pairs, func(i, j int) bool { return m.pairs[i].Old < m.pairs[j].Old })

	var errs []string
	for _, k := range slices.Sorted(slices.Values(keep)) {
		if err := module.CheckImportPath(k); err != nil {
			errs = append(errs, fmt.Sprintf("kept module %s: %v", k, err))
			continue
		}
		if _, ok := m.old2new[k]; ok {
			errs = append(errs, fmt.Sprintf("module %s is both kept and forked", k))
			continue
		}
		if m.kept == nil {
			m.kept = make(map[string]bool)
		}
		m.kept[k] = true
		m.maxLen = max(m.maxLen, len(k))
	}
	byNew := make(map[string]string, len(mods))
	for _, p := range m.pairs {
		if err := module.CheckImportPath(p.Old); err != nil {
			errs = append(errs, fmt.Sprintf("forked module %s: %v", p.Old, err))
		}
		if err := module.CheckImportPath(p.New); err != nil {
			errs = append(errs, fmt.Sprintf("new path of %s: %v", p.Old, err))
			continue
		}
		if other, dup := byNew[p.New]; dup {
			errs = append(errs, fmt.Sprintf("modules %s and %s both map to %s", other, p.Old, p.New))
			continue
		}
		byNew[p.New] = p.Old
		if owner, ok := m.owner(p.New); ok {
			if owner == p.Old {
				errs = append(errs, fmt.Sprintf("new path %s of module %s lies inside that module's own path space: it would be rewritten again; choose a new path outside %s", p.New, p.Old, p.Old))
			} else {
				errs = append(errs, fmt.Sprintf("new path %s of module %s lies inside the path space of forked module %s: it would be rewritten again; choose a new path outside %s", p.New, p.Old, owner, owner))
			}
		}
	}
	if len(errs) > 0 {
		if len(errs) == 1 {
			return nil, fmt.Errorf("invalid module mapping: %s", errs[0])
		}
		return nil, fmt.Errorf("invalid module mapping:\n\t%s", strings.Join(errs, "\n\t"))
	}
	return m, nil
}

// owner returns the longest old module path whose path space holds pkgPath:
// pkgPath equals it or continues it after a "/". It reports false when there
// is none, or when a kept module nested in it holds pkgPath.
func (m *Mapping) owner(pkgPath string) (string, bool) {
	p := pkgPath
	if len(p) > m.maxLen {
		// Only a prefix ending before a "/" can match.
		i := strings.LastIndexByte(p[:m.maxLen+1], '/')
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
	for {
		if _, ok := m.old2new[p]; ok {
			return p, true
		}
		if m.kept[p] {
			return "", false
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

// Lookup maps a package path. It maps when pkgPath equals a forked module
// path or continues it after a "/" (so "foo/bar" maps "foo/bar/x" but not
// "foo/barbaz"); when modules nest, the longest module path wins, and a
// kept module (NewMappingKeep) maps nothing, nor does a kept package
// (KeepPackages), exactly.
func (m *Mapping) Lookup(pkgPath string) (newPath string, ok bool) {
	if m == nil || len(m.old2new) == 0 || m.keptPkgs[pkgPath] {
		return "", false
	}
	old, ok := m.owner(pkgPath)
	if !ok {
		return "", false
	}
	return m.old2new[old] + pkgPath[len(old):], true
}

// Module returns the new path of the module whose path is exactly oldPath.
func (m *Mapping) Module(oldPath string) (newPath string, ok bool) {
	if m == nil {
		return "", false
	}
	newPath, ok = m.old2new[oldPath]
	return newPath, ok
}

// KeepPackages returns the mapping with the packages pkgs left shared,
// though their modules are forked: a forked module's other packages map,
// these do not (a plugin contract package kept, its module's helpers
// forked). Only the packages themselves, not those below them.
func (m *Mapping) KeepPackages(pkgs []string) *Mapping {
	if len(pkgs) == 0 {
		return m
	}
	c := *m
	c.keptPkgs = make(map[string]bool, len(pkgs))
	for _, p := range pkgs {
		c.keptPkgs[p] = true
	}
	return &c
}
