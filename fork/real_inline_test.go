package fork_test

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// TestRealInline forks the real host of TestRealModules with --layout
// inline: the same modules are forked, as packages of the host module; the
// host builds and vets, ./... is what it was, the plugin built with newer
// versions of four of those modules loads, and the host's module zip, as a
// tag would publish it, holds the forks.
func TestRealInline(t *testing.T) {
	env := realEnv(t)
	ctx := context.Background()
	step := stepLogger(t)
	ar, want := realModules(t)
	dir := t.TempDir()
	if err := testgo.Extract(ar, dir, ""); err != nil {
		t.Fatal(err)
	}
	hostDir, pluginDir := filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	testgo.WriteLoader(t, hostDir)
	listBefore := env.Go(t, hostDir, "list", "./...")

	out, err := fork.Fork(ctx, fork.Config{Dir: hostDir, Env: env.Environ(), Layout: fork.LayoutInline})
	if err != nil {
		t.Fatal(err)
	}
	step("forked inline: %+v", out.Timings)
	const prefix = "example.com/realhost/" + fork.DefaultDir
	var got []string
	for _, f := range out.Forks {
		got = append(got, f.Path)
		if f.ForkPath != prefix+"/"+f.Path {
			t.Errorf("fork %+v: want fork path %s/%s", f, prefix, f.Path)
		}
	}
	if !slices.Equal(got, realForks) {
		t.Fatalf("forked modules:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(realForks, "\n\t"))
	}

	plugin, after := filepath.Join(dir, "biz.so"), filepath.Join(dir, "host-after")
	concurrently(t,
		func() error { return runGo(ctx, env, pluginDir, "build", "-buildmode=plugin", "-o", plugin, ".") },
		func() error {
			if err := runGo(ctx, env, hostDir, "build", "-o", after, "."); err != nil {
				return err
			}
			return runGo(ctx, env, hostDir, "vet", "./...")
		})
	step("host built and vetted, plugin built")
	if list := env.Go(t, hostDir, "list", "./..."); list != listBefore {
		t.Errorf("go list ./... after the fork:\n%s\nwant:\n%s", list, listBefore)
	}
	if diff := env.Go(t, hostDir, "mod", "tidy", "-diff"); diff != "" {
		t.Errorf("go mod tidy -diff after fork:\n%s", diff)
	}
	loadsAsWanted(t, ctx, after, plugin, want)

	var zipped countWriter
	if err := zip.CreateFromDir(&zipped, module.Version{Path: "example.com/realhost", Version: "v1.0.0"}, hostDir); err != nil {
		t.Fatal(err)
	}
	if zipped < countWriter(out.Size.Bytes/4) {
		t.Errorf("the host's module zip is %d bytes, the forks %d: want the forks in it", zipped, out.Size.Bytes)
	}
	step("module zip: %d bytes (forks: %d bytes in %d files)", zipped, out.Size.Bytes, out.Size.Files)
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countWriter)(nil)
