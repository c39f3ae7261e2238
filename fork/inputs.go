package fork

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/lockfile"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/sumdb/dirhash"
)

// inputsHash returns the h1: hash of what a fork of the host at root
// depends on: go.mod, go.sum, the Go and assembly files of the host's
// packages, the contents of local replacements outside the module, and the
// forks' tree hashes and the lock's settings (given, not read: the caller
// has them). The files are read from dir, the host itself or its stage,
// which holds the host as the swap will leave it; go.mod's relative
// replacements are resolved against root either way, as the go command
// resolves them in the host.
func inputsHash(dir, root string, gomod []byte, lock *lockfile.Lock) (string, error) {
	var names []string
	files := map[string]func() (io.ReadCloser, error){}
	add := func(name string, open func() (io.ReadCloser, error)) {
		names = append(names, name)
		files[name] = open
	}
	fromDisk := func(p string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return os.Open(p) }
	}
	fromBytes := func(b []byte) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(b))), nil }
	}
	add("go.mod", fromBytes(gomod))
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil {
		add("go.sum", fromDisk(filepath.Join(dir, "go.sum")))
	}
	srcs, err := hostFiles(dir, lock.Dir)
	if err != nil {
		return "", err
	}
	for _, name := range srcs {
		add("src/"+name, fromDisk(filepath.Join(dir, filepath.FromSlash(name))))
	}
	// Local replacements outside the module: their contents are forked.
	// The forks' own replacements are not hashed here: the lock below holds
	// their tree hashes, which upToDate checks against the trees (hashing
	// them twice doubled the time of a no-op re-run).
	forkPaths := map[string]bool{}
	for _, fk := range lock.Forks {
		forkPaths[fk.ForkPath] = true
	}
	if f, err := modfile.Parse("go.mod", gomod, nil); err == nil {
		for _, r := range f.Replace {
			p := r.New.Path
			if r.New.Version != "" || !modfile.IsDirectoryPath(p) || forkPaths[r.Old.Path] {
				continue
			}
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, filepath.FromSlash(p))
			}
			h, err := lockfile.TreeHash(p)
			if err != nil {
				h = "missing"
			}
			add("replace/"+r.Old.Path, fromBytes([]byte(h)))
		}
	}
	// The lock's settings and forks, without the inputs field itself.
	settings := *lock
	settings.Inputs = ""
	add("lock", fromBytes(settings.Format()))
	slices.Sort(names)
	return dirhash.Hash1(names, func(name string) (io.ReadCloser, error) { return files[name]() })
}

// upToDate reports whether the host is exactly as the lock's last fork left
// it, so that a re-run with the settings set has nothing to do: the inputs
// hash matches and every fork's tree is intact. A lock older than
// lockfile.Complete does not hold all a result says: the run is redone.
func (s *session) upToDate(set settings) bool {
	old := s.h.Lock
	if old == nil || old.Inputs == "" || old.Version < lockfile.Complete || len(s.cfg.Patterns) > 0 || len(s.cfg.Accept) > 0 || s.cfg.DryRun || s.recovered {
		return false
	}
	if set.Tests != old.Tests || set.Whole != old.Whole || !slices.Equal(sortedCopy(set.Keep), sortedCopy(old.Keep)) ||
		!slices.Equal(set.Scope.Platforms, sortedCopy(old.Platforms)) || !slices.Equal(set.Scope.Tags, sortedCopy(old.Tags)) {
		return false
	}
	if !lockfile.Intact(s.h.Root, old) {
		return false
	}
	h, err := inputsHash(s.h.Root, s.h.Root, s.h.GoMod, old)
	return err == nil && h == old.Inputs
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
