package lockfile

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plugfork/plugfork/internal/modtree"
	"golang.org/x/mod/sumdb/dirhash"
)

// TreeFiles returns the files of the fork in dir, slash-separated and
// sorted: every file but those of another fork living below this one (as
// example.com/nest/sub below example.com/nest): a nested module, or, in
// the inline layout, a directory holding a marker.
func TreeFiles(dir string) ([]string, error) {
	var files []string
	err := modtree.Walk(dir, modtree.All&^modtree.Nested, nil, func(rel string, d fs.DirEntry) error {
		switch {
		case d.IsDir():
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel), MarkerName)); err == nil {
				return fs.SkipDir
			}
		case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
			files = append(files, rel)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

// TreeHash returns the h1: hash of the fork in dir (nested modules left out),
// the hash the lock records.
func TreeHash(dir string) (string, error) {
	files, err := TreeFiles(dir)
	if err != nil {
		return "", err
	}
	return hashFiles(dir, files)
}

// hashFiles returns the h1: hash of the files of dir, named relative to it
// and sorted.
func hashFiles(dir string, files []string) (string, error) {
	return dirhash.Hash1(files, func(name string) (io.ReadCloser, error) {
		return os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	})
}

// FileSum returns the hex SHA-256 of data, as the marker's manifest lists it.
func FileSum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// SumsHash returns the h1: hash of a tree holding exactly the files of sums
// (name -> FileSum) and one more, extra with sum extraSum: what TreeHash of
// that tree returns (dirhash.Hash1), without reading the files again.
func SumsHash(sums map[string]string, extra, extraSum string) string {
	all := maps.Clone(sums)
	all[extra] = extraSum
	return HashSums(all)
}

// HashSums returns the h1: hash of a tree holding exactly the files of
// sums (name -> FileSum): what TreeHash of that tree returns.
func HashSums(sums map[string]string) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(sums)) {
		io.WriteString(h, sums[name]+"  "+name+"\n")
	}
	return "h1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Intact reports whether the fork dir below root holds exactly the lock's
// forks, byte for byte: every tree hash matches and no stray fork lies
// beside them. One walk of the fork dir lists every fork's files (each
// file belongs to the fork whose directory holds it nearest, unless a
// nested module lies between) and finds the strays; the trees are then
// hashed in parallel. Reading and hashing them is most of a no-op re-run.
func Intact(root string, lock *Lock) bool {
	if len(lock.Forks) == 0 {
		return len(Strays(root, lock)) == 0
	}
	index := map[string]int{} // fork dir, relative to root -> fork
	for i, f := range lock.Forks {
		index[f.ForkDir] = i
	}
	files := make([][]string, len(lock.Forks))
	seen := make([]bool, len(lock.Forks))
	owner := map[string]int{".": -1} // directory, relative to the fork dir -> fork holding its files, or -1
	dir := filepath.Join(root, filepath.FromSlash(lock.Dir))
	errStray := errors.New("stray fork")
	err := modtree.Walk(dir, modtree.All, nil, func(rel string, d fs.DirEntry) error {
		parent := path.Dir(rel)
		if d.IsDir() {
			o := owner[parent]
			if i, ok := index[path.Join(lock.Dir, rel)]; ok {
				o, seen[i] = i, true
			} else if modtree.IsModuleRoot(filepath.Join(dir, filepath.FromSlash(rel))) {
				o = -1 // a nested module no fork is: none of its files belongs to a fork
			}
			owner[rel] = o
			return nil
		}
		if d.Name() == MarkerName {
			if _, ok := index[path.Join(lock.Dir, parent)]; !ok {
				return errStray
			}
		}
		if o := owner[parent]; o >= 0 && (d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0) {
			files[o] = append(files[o], rel)
		}
		return nil
	})
	if err != nil || slices.Contains(seen, false) {
		return false
	}
	var (
		wg    sync.WaitGroup
		stale atomic.Bool
		next  atomic.Int64
	)
	for range min(runtime.GOMAXPROCS(0), len(lock.Forks)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(lock.Forks) && !stale.Load(); i = int(next.Add(1) - 1) {
				f := lock.Forks[i]
				rel := strings.TrimPrefix(f.ForkDir, lock.Dir+"/")
				names := make([]string, len(files[i]))
				for j, name := range files[i] {
					names[j] = strings.TrimPrefix(name, rel+"/")
				}
				slices.Sort(names)
				if h, err := hashFiles(filepath.Join(root, filepath.FromSlash(f.ForkDir)), names); err != nil || h != f.TreeHash {
					stale.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return !stale.Load()
}

// Strays returns the fork directories (those holding a marker) below the
// lock's dir that the lock does not list, relative to root, sorted.
func Strays(root string, lock *Lock) []string {
	if lock.Dir == "" {
		return nil
	}
	known := map[string]bool{}
	for _, f := range lock.Forks {
		known[f.ForkDir] = true
	}
	var stray []string
	dir := filepath.Join(root, filepath.FromSlash(lock.Dir))
	modtree.Walk(dir, modtree.All, nil, func(rel string, d fs.DirEntry) error {
		if d.IsDir() || d.Name() != MarkerName {
			return nil
		}
		if fd := path.Join(lock.Dir, path.Dir(rel)); !known[fd] {
			stray = append(stray, fd)
		}
		return nil
	})
	slices.Sort(stray)
	return stray
}
