package fork_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
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

const largeHost = `
-- go.mod --
module example.com/host

go 1.22

require (
	example.com/bigbind v1.0.0
	example.com/dep v1.0.0
	example.com/winonly v1.0.0
)
-- main.go --
package main

import (
	"fmt"

	"example.com/dep"
)

func main() { fmt.Println(dep.Version, extra) }
-- noextra.go --
//go:build !x_extra

package main

var extra = ""
-- extra.go --
//go:build x_extra

package main

import "example.com/bigbind"

var extra = bigbind.Lib
`

// TestSizeLevels: a fork's file over the size git hosts refuse is a
// finding that names the tagged file reaching it and the flags that leave
// it out; one over the warning size is listed with its level, and every
// file over it is listed however many the report lists otherwise.
func TestSizeLevels(t *testing.T) {
	// bigbind's libbig.a holds 6,600 bytes, big.lib 3,400.
	defer fork.SetSizeLimits(3000, 5000, 1)()
	dir := t.TempDir()
	if err := testgo.Extract(txtar.Parse([]byte(largeHost)), dir, ""); err != nil {
		t.Fatal(err)
	}
	env.Go(t, dir, "mod", "tidy")
	res, err := fork.Fork(context.Background(), fork.Config{Dir: dir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Size.Largest {
		got = append(got, fmt.Sprintf("%s %d %s", f.Path, f.Bytes, f.Level))
	}
	want := []string{
		"third_party/forked/example.com/bigbind/linuxamd64/libbig.a 6600 refused",
		"third_party/forked/example.com/bigbind/windowsamd64/big.lib 3400 warning",
	}
	if !slices.Equal(got, want) {
		t.Errorf("largest files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var large []fork.Finding
	for _, f := range res.Findings {
		if f.Kind == fork.FindingLargeFile {
			large = append(large, f)
		}
	}
	wantMsg := "third_party/forked/example.com/bigbind/linuxamd64/libbig.a is 6.4 KiB: git hosts refuse files over 4.9 KiB; only builds with x_extra reach it (extra.go of example.com/host imports example.com/bigbind): --platform and --tags can leave it out"
	if len(large) != 1 || large[0].Message != wantMsg || large[0].Path != "example.com/bigbind" {
		t.Errorf("large-file findings: %+v\nwant one: %s", large, wantMsg)
	}
	if res.Size.Files == 0 || res.Size.Bytes < 10000 || len(res.Size.Modules) != 1 || res.Size.Modules[0].Module != "example.com/bigbind" {
		t.Errorf("size: %+v", res.Size)
	}

	// Scoped to linux/amd64: the tagged file's closure is not forked, and
	// nothing is over the limits.
	res, err = fork.Fork(context.Background(), fork.Config{Dir: dir, Env: env.Environ(), Platforms: []string{"linux/amd64"}, PlatformsSet: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Size.Largest {
		if f.Level != "" || f.Module == "example.com/bigbind" {
			t.Errorf("scoped fork still lists %+v", f)
		}
	}
}
