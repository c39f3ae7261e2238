package fork

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/swap"
)

// apply swaps the stage into the host: every file that differs, the fork
// dir, and vendor/ when the host vendors, with the lock and go.mod given.
// A nil lock is a host without forks: the fork dir and the lock go. It
// reports whether anything changed; when nothing did, the host is not
// touched at all.
func (s *session) apply(ctx context.Context, st *swap.Stage, lock *lockfile.Lock, gomod []byte) (bool, error) {
	root := s.h.Root
	var j swap.Journal

	var dir string
	var forks []lockfile.Fork
	switch {
	case lock != nil:
		dir, forks = lock.Dir, lock.Forks
	case s.h.Lock != nil:
		dir = s.h.Lock.Dir
	}

	// Host sources: the stage shares unchanged files by hard link.
	changed, err := changedHostFiles(st, root, dir)
	if err != nil {
		return false, err
	}
	for _, rel := range changed {
		j.Rename(swap.StagedPath(rel), rel)
	}

	// The fork dir, whole, unless every fork in it is what the lock says.
	if dir != "" && !s.forkDirMatches(forks) {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir))); err == nil {
			j.Rename(dir, path.Join(swap.WorkDir, "old", "forks"))
		}
		if len(forks) > 0 {
			j.Rename(swap.StagedPath(dir), dir)
		} else {
			j.Prune(path.Dir(dir))
		}
	}

	// go.mod, go.sum, the lock (none: removed).
	files := map[string][]byte{"go.mod": gomod, LockFile: nil}
	if lock != nil {
		files[LockFile] = lock.Format()
	}
	hostFiles := []string{"go.mod", "go.sum", LockFile}
	var moved []string
	for _, rel := range hostFiles {
		var same bool
		if data, ok := files[rel]; ok {
			old, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil && !os.IsNotExist(err) {
				return false, err
			}
			same = data == nil && err != nil || err == nil && data != nil && bytes.Equal(old, data)
		} else if same, err = sameFile(st.Path(rel), filepath.Join(root, rel)); err != nil {
			return false, err
		}
		if !same {
			moved = append(moved, rel)
		}
	}

	// vendor/, regenerated for hosts that build with -mod=vendor: in the
	// stage, while its go.mod is the stage's own.
	if s.h.Vendor && (j.Len() > 0 || len(moved) > 0) {
		if err := s.refreshVendor(ctx, st, &j); err != nil {
			return false, err
		}
	}
	for _, rel := range moved {
		data, ok := files[rel]
		switch {
		case ok && data == nil:
			j.Remove(rel)
			continue
		case ok:
			if err := st.WriteFile(rel, data); err != nil {
				return false, err
			}
		}
		j.Rename(swap.StagedPath(rel), rel)
	}
	if j.Len() == 0 {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err // interrupted before the commit point: nothing changed
	}
	return true, j.Commit(root)
}

// refreshVendor runs go mod vendor in the stage, whose go.mod must still be
// the stage's own (local replacements made absolute, so that they resolve
// from the stage), writes vendor/modules.txt as the host's go.mod names
// them, and adds the swap of vendor/ to j.
func (s *session) refreshVendor(ctx context.Context, st *swap.Stage, j *swap.Journal) error {
	if _, err := s.runner(st).Run(ctx, "mod", "vendor"); err != nil {
		return fmt.Errorf("refreshing vendor/: %w", err)
	}
	if err := st.UnstageVendor(); err != nil {
		return fmt.Errorf("refreshing vendor/: %w", err)
	}
	j.Rename("vendor", path.Join(swap.WorkDir, "old", "vendor"))
	j.Rename(swap.StagedPath("vendor"), "vendor")
	return nil
}

// forkDirMatches reports whether the host's fork dir holds exactly the
// forks given (a new lock's), byte for byte.
func (s *session) forkDirMatches(forks []lockfile.Fork) bool {
	old := s.h.Lock
	if old == nil {
		return len(forks) == 0
	}
	if len(old.Forks) != len(forks) {
		return false
	}
	for i, f := range forks {
		if o := old.Forks[i]; o.Path != f.Path || o.TreeHash != f.TreeHash {
			return false
		}
	}
	return lockfile.Intact(s.h.Root, old)
}

// changedHostFiles returns the host's Go and assembly files (outside the
// fork dir forkDir) that differ between the stage and the host at root.
func changedHostFiles(st *swap.Stage, root, forkDir string) ([]string, error) {
	files, err := hostFiles(st.Dir, forkDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rel := range files {
		same, err := sameFile(st.Path(rel), filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		if !same {
			out = append(out, rel)
		}
	}
	return out, nil
}

// sameFile reports whether a and b have the same content (a missing file
// equals only a missing file).
func sameFile(a, b string) (bool, error) {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if os.IsNotExist(errA) || os.IsNotExist(errB) {
		return os.IsNotExist(errA) && os.IsNotExist(errB), nil
	}
	if errA != nil {
		return false, errA
	}
	if errB != nil {
		return false, errB
	}
	if os.SameFile(fa, fb) {
		return true, nil
	}
	if fa.Size() != fb.Size() {
		return false, nil
	}
	da, err := os.ReadFile(a)
	if err != nil {
		return false, err
	}
	db, err := os.ReadFile(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(da, db), nil
}
