package fork

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// apply swaps the stage into the host: every file that differs, the fork
// dir, and vendor/ when the host vendors. It reports whether anything
// changed; when nothing did, the host is not touched at all.
func (r *run) apply(ctx context.Context, gomod []byte) (bool, error) {
	root, st := r.h.Root, r.st
	var j journal
	stagedRel := func(rel string) string { return path.Join(workDir, "stage", rel) }

	// Host sources: the stage shares unchanged files by hard link.
	changed, err := r.changedHostFiles()
	if err != nil {
		return false, err
	}
	for _, rel := range changed {
		j.rename(stagedRel(rel), rel)
	}

	// go.mod, go.sum, the lock.
	if err := st.writeFile("go.mod", gomod); err != nil {
		return false, err
	}
	if err := st.writeFile(LockFile, r.lock.Format()); err != nil {
		return false, err
	}
	for _, rel := range []string{"go.mod", "go.sum", LockFile} {
		same, err := sameFile(st.path(rel), filepath.Join(root, rel))
		if err != nil {
			return false, err
		}
		if !same {
			j.rename(stagedRel(rel), rel)
		}
	}

	// The fork dir, whole, unless every fork in it is what the lock says.
	forksSame, err := r.forkDirMatches()
	if err != nil {
		return false, err
	}
	if !forksSame {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(r.lock.Dir))); err == nil {
			j.rename(r.lock.Dir, path.Join(workDir, "old", "forks"))
		}
		if len(r.lock.Forks) > 0 {
			j.rename(stagedRel(r.lock.Dir), r.lock.Dir)
		}
	}

	// vendor/, regenerated for hosts that build with -mod=vendor.
	if r.h.Vendor && len(j.ops) > 0 {
		if _, err := r.runner().Run(ctx, "mod", "vendor"); err != nil {
			return false, fmt.Errorf("refreshing vendor/: %w", err)
		}
		j.rename("vendor", path.Join(workDir, "old", "vendor"))
		j.rename(stagedRel("vendor"), "vendor")
	}
	if len(j.ops) == 0 {
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err // interrupted before the commit point: nothing changed
	}
	return true, j.commit(root)
}

// forkDirMatches reports whether the host's fork dir holds exactly the
// forks of the new lock, byte for byte.
func (r *run) forkDirMatches() (bool, error) {
	old := r.h.Lock
	if old == nil {
		return len(r.lock.Forks) == 0, nil
	}
	if len(old.Forks) != len(r.lock.Forks) {
		return false, nil
	}
	for i, f := range r.lock.Forks {
		if o := old.Forks[i]; o.Path != f.Path || o.TreeHash != f.TreeHash {
			return false, nil
		}
	}
	return forksIntact(r.h.Root, old), nil
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
