package fork_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
)

// TestForkNoLargerThanVendor: committing the forks adds no more than go
// mod vendor would, apart from each fork's go.mod and marker.
func TestForkNoLargerThanVendor(t *testing.T) {
	dir := t.TempDir()
	if err := testgo.Extract(txtar.Parse([]byte(killHost)), dir, ""); err != nil {
		t.Fatal(err)
	}
	env.Go(t, dir, "mod", "tidy")
	vendorDir := filepath.Join(t.TempDir(), "vendor")
	env.Go(t, dir, "mod", "vendor", "-o", vendorDir)
	vendored := treeBytes(t, vendorDir, map[string]bool{"modules.txt": true})

	res, err := fork.Fork(context.Background(), fork.Config{Dir: dir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	forked := treeBytes(t, filepath.Join(dir, "third_party", "forked"), map[string]bool{"go.mod": true, fork.MarkerFile: true})
	// Rewritten import paths are longer by the prefix; allow for that.
	allowance := int64(len(res.Forks)) * 4 * int64(len("gitlab.example.com/workflow/"))
	t.Logf("forks: %d bytes (besides go.mod and markers); go mod vendor: %d bytes", forked, vendored)
	if forked > vendored+allowance {
		t.Errorf("forks hold %d bytes besides go.mod and markers; go mod vendor holds %d (+%d for longer paths)", forked, vendored, allowance)
	}
	if forked < vendored/2 {
		t.Errorf("forks hold %d bytes, go mod vendor %d: files are missing", forked, vendored)
	}
}

// treeBytes sums the sizes of the files below dir, except the named ones.
func treeBytes(t *testing.T, dir string, except map[string]bool) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || except[d.Name()] {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
