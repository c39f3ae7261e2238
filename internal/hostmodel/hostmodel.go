// Package hostmodel is plugfork's model of a forked host, read once: its
// root, its go.mod (raw and parsed) and its lock, with the answers every
// command needs from them (what is kept, forked, shared with plugins, which
// module provides a package, the lock's hazards). Fork, check, status,
// inspect --lock and plugin build ask it instead of re-reading the files
// and re-deriving the answers, so that a rule such as the keep rule has one
// home.
//
// It is a package of its own, not a part of lockfile, because it joins
// two formats (go.mod and the lock) and the judgements made on them;
// lockfile stays the reader and writer of plugfork's own files.
package hostmodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"golang.org/x/mod/modfile"
)

// Host is a host module as found on disk.
type Host struct {
	Root  string         // absolute directory of go.mod
	Path  string         // module path
	GoMod []byte         // go.mod as read
	File  *modfile.File  // go.mod parsed
	Lock  *lockfile.Lock // nil before the first fork

	keep Keep // the lock's keep patterns and those given with Read
}

// Read reads the host module rooted at root: its go.mod and its lock.
// extraKeep are keep patterns given on the command line, which join the
// lock's in Keeps and Shared.
func Read(root string, extraKeep ...string) (*Host, error) {
	name := filepath.Join(root, "go.mod")
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is %w", root, modtree.ErrNotModule)
	}
	if err != nil {
		return nil, err
	}
	f, err := ParseGoMod(name, data)
	if err != nil {
		return nil, err
	}
	lock, err := ReadLock(root)
	if err != nil {
		return nil, err
	}
	return newHost(root, data, f, lock, extraKeep), nil
}

// Find is Read of the host module containing dir.
func Find(dir string, extraKeep ...string) (*Host, error) {
	root, _, err := modtree.FindRoot(dir)
	if err != nil {
		return nil, err
	}
	return Read(root, extraKeep...)
}

// FromLock returns the model of a host known only by its lock file (inspect
// --lock given a file): Path, GoMod and File are empty.
func FromLock(file string) (*Host, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	l, err := lockfile.Parse(file, data)
	if err != nil {
		return nil, err
	}
	return newHost(filepath.Dir(file), nil, nil, l, nil), nil
}

func newHost(root string, gomod []byte, f *modfile.File, lock *lockfile.Lock, extraKeep []string) *Host {
	h := &Host{Root: root, GoMod: gomod, File: f, Lock: lock}
	if f != nil {
		h.Path = f.Module.Mod.Path
	}
	var pats []string
	if lock != nil {
		pats = slices.Clone(lock.Keep)
	}
	h.keep = NewKeep(append(pats, extraKeep...))
	return h
}

// ReadLock reads the lock at the host root; nil if there is none.
func ReadLock(root string) (*lockfile.Lock, error) {
	data, err := os.ReadFile(filepath.Join(root, lockfile.Name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return lockfile.Parse(lockfile.Name, data)
}

// ParseGoMod parses the go.mod file name (data) of a module: one that has
// a module directive.
func ParseGoMod(name string, data []byte) (*modfile.File, error) {
	f, err := modfile.Parse(name, data, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing go.mod: %w", err)
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module directive: add \"module PATH\" as its first line", name)
	}
	return f, nil
}

// Prefix is the forks' private namespace, "" before the first fork.
func (h *Host) Prefix() string {
	if h.Lock == nil {
		return ""
	}
	return h.Lock.Prefix
}

// Keeps reports whether the keep rule (the lock's patterns and those given
// to Read) keeps package pkgPath of module modPath shared with plugins, and
// whether only as a package of its module (see Keep.Keeps).
func (h *Host) Keeps(pkgPath, modPath string) (kept, byModule bool) {
	return h.keep.Keeps(pkgPath, modPath)
}

// CheckKeep returns an error naming the first keep pattern that names
// packages of the host module itself (see NamesOwn), with the fix.
func (h *Host) CheckKeep(patterns []string) error {
	nested := func(p string) bool { m := h.ModuleOf(p); return len(m) > len(h.Path) }
	for _, pat := range patterns {
		if NamesOwn(pat, h.Path, nested) {
			return fmt.Errorf("--keep %s names packages of the host module %s itself, which plugfork never forks: nothing to keep; a plugin shares them when it builds against the host's source (plugfork plugin build); drop --keep %s", pat, h.Path, pat)
		}
	}
	return nil
}

// Shared reports whether importing path shares a third-party package with
// plugins: it is not the standard library's, not the host's own, not a
// fork, not kept (by the keep rule, with the module ModuleOf says provides
// it), and not a package of the shared surface.
func (h *Host) Shared(path string) bool {
	if pkgpath.IsStd(path) || (h.Path != "" && pkgpath.Within(path, h.Path)) {
		return false
	}
	if _, ok := h.Upstream(path); ok {
		return false
	}
	if kept, _ := h.Keeps(path, h.ModuleOf(path)); kept {
		return false
	}
	return h.Lock == nil || !slices.ContainsFunc(h.Lock.Surface, func(e lockfile.Shared) bool { return e.Package == path })
}

// ModuleOf returns the module that provides import path p, as far as the
// host's files tell without the go command: the longest module path that
// contains p, whole elements, among go.mod's requires and the lock's forks
// and shared surface; "" when none does.
func (h *Host) ModuleOf(p string) string {
	best := ""
	consider := func(m string) {
		if len(m) > len(best) && pkgpath.Within(p, m) {
			best = m
		}
	}
	if h.File != nil {
		for _, r := range h.File.Require {
			consider(r.Mod.Path)
		}
	}
	if h.Lock != nil {
		for _, f := range h.Lock.Forks {
			consider(f.Path)
			consider(f.ForkPath)
		}
		for _, e := range h.Lock.Surface {
			consider(e.Module)
		}
	}
	return best
}

// Fork returns the lock's fork that provides upstream import path p (the
// longest forked module containing it), or nil.
func (h *Host) Fork(p string) *lockfile.Fork {
	if h.Lock == nil {
		return nil
	}
	var best *lockfile.Fork
	for i := range h.Lock.Forks {
		f := &h.Lock.Forks[i]
		if pkgpath.Within(p, f.Path) && (best == nil || len(f.Path) > len(best.Path)) {
			best = f
		}
	}
	return best
}

// Forked returns the fork path of upstream import path p, and whether a
// fork provides p.
func (h *Host) Forked(p string) (string, bool) {
	if h.Fork(p) == nil {
		return p, false
	}
	return h.Lock.Prefix + "/" + p, true
}

// Upstream returns the upstream path of an import path under the forks'
// prefix, and whether p is one.
func (h *Host) Upstream(p string) (string, bool) {
	prefix := h.Prefix()
	if prefix == "" || p == prefix || !pkgpath.Within(p, prefix) {
		return p, false
	}
	return p[len(prefix)+1:], true
}

// Surface returns the shared surface the lock records: the packages host
// and plugins must share, with the fingerprints the fork proved.
func (h *Host) Surface() []lockfile.Shared {
	if h.Lock == nil {
		return nil
	}
	return h.Lock.Surface
}

// Registrations returns the registrations the lock records in every fork,
// by upstream package.
func (h *Host) Registrations() []hazard.Registration {
	if h.Lock == nil {
		return nil
	}
	var out []hazard.Registration
	for _, f := range h.Lock.Forks {
		out = append(out, f.Registrations...)
	}
	return out
}

// Hazards returns the hazards the lock records (see LockHazards).
func (h *Host) Hazards() []hazard.Report {
	if h.Lock == nil {
		return nil
	}
	return LockHazards(h.Lock)
}

// LockHazards returns the hazards of the forks lock l records, worded by
// internal/hazard: each registration with its remedies (those the lock's
// checked facts tell, else those the registration alone does) and the
// reason it was accepted with, then the forked singletons.
func LockHazards(l *lockfile.Lock) []hazard.Report {
	accepted := map[string]string{}
	for _, a := range l.Accepted {
		accepted[a.Package] = a.Reason
	}
	var out []hazard.Report
	var forked []string
	for _, f := range l.Forks {
		forked = append(forked, f.Path)
		for _, r := range f.Registrations {
			var root bool
			var pins, tags []string
			if facts := f.Remedy(r.Package); facts != nil {
				root, pins, tags = facts.Root, facts.Pins, facts.Tags
			}
			out = append(out, hazard.Registered(f.Path, l.Prefix, r, hazard.Remedies(l.Prefix, r, root, pins, tags), accepted[r.Package]))
		}
	}
	for _, h := range hazard.Singletons(forked) {
		out = append(out, hazard.Singleton(h))
	}
	return out
}
