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
	"slices"

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
