package fork

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/dirhash"
)

// treeFiles returns the files of the fork in dir, slash-separated and
// sorted, leaving out nested modules (another fork living below this one,
// as example.com/nest/sub below example.com/nest).
func treeFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(files)
	return files, err
}

// TreeHash returns the h1: hash of the fork in dir (nested modules left out),
// the hash the lock records.
func TreeHash(dir string) (string, error) {
	files, err := treeFiles(dir)
	if err != nil {
		return "", err
	}
	return dirhash.Hash1(files, func(name string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	})
}

// fileSum returns the hex SHA-256 of data, as the marker's manifest lists it.
func fileSum(data []byte) string { return fmt.Sprintf("%x", sha256.Sum256(data)) }

// sumsHash returns the h1: hash of a tree holding exactly the files of sums
// (name -> fileSum) and one more, extra with sum extraSum: what TreeHash of
// that tree returns (dirhash.Hash1), without reading the files again.
func sumsHash(sums map[string]string, extra, extraSum string) string {
	all := maps.Clone(sums)
	all[extra] = extraSum
	h := sha256.New()
	for _, name := range sortedKeys(all) {
		fmt.Fprintf(h, "%s  %s\n", all[name], name)
	}
	return "h1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// forksIntact reports whether the host's fork dir holds exactly the lock's
// forks, byte for byte: every tree hash matches and no stray fork lies
// beside them. The trees are hashed in parallel: reading and hashing them
// is most of a no-op re-run.
func forksIntact(root string, lock *Lock) bool {
	var (
		wg    sync.WaitGroup
		stale atomic.Bool
		next  atomic.Int64
	)
	for range min(runtime.GOMAXPROCS(0), len(lock.Forks)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(lock.Forks) && !stale.Load(); i = int(next.Add(1) - 1) {
				f := lock.Forks[i]
				h, err := TreeHash(filepath.Join(root, filepath.FromSlash(f.ForkDir)))
				if err != nil || h != f.TreeHash {
					stale.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return !stale.Load() && len(strayForks(root, lock)) == 0
}

// strayForks returns the fork directories (those holding a marker) below
// the lock's dir that the lock does not list, relative to root, sorted.
func strayForks(root string, lock *Lock) []string {
	if lock.Dir == "" {
		return nil
	}
	known := map[string]bool{}
	for _, f := range lock.Forks {
		known[f.ForkDir] = true
	}
	var stray []string
	filepath.WalkDir(filepath.Join(root, filepath.FromSlash(lock.Dir)), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != MarkerFile {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		if rel = filepath.ToSlash(rel); !known[rel] {
			stray = append(stray, rel)
		}
		return nil
	})
	slices.Sort(stray)
	return stray
}
