package fork_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plugfork/plugfork/fork"
)

// TestRealSize: the size report and the scope on a real module of
// prebuilt libraries (see testdata/real/size.txtar). Unscoped, the forks
// hold go.duckdb.org/libduckdb/linux-amd64, as go mod vendor would, and the
// size report names its 128 MB libduckdb_static.a, which git hosts refuse,
// with the tagged file that reaches it. Scoped to the host's build
// (linux/amd64, no tags), the fork leaves it out, the host builds, and
// check passes, noting the tagged file's import.
func TestRealSize(t *testing.T) {
	env := realEnv(t)
	ctx := context.Background()
	dir := realFixture(t, env, "size", "host")
	host := filepath.Join(dir, "host")
	const big = "third_party/forked/go.duckdb.org/libduckdb/linux-amd64/libduckdb_static.a"

	start := time.Now()
	res, err := fork.Fork(ctx, fork.Config{Dir: host, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unscoped: %d forks, %s in %d files, %v", len(res.Forks), fork.FormatSize(res.Size.Bytes), res.Size.Files, time.Since(start).Round(time.Millisecond))
	if len(res.Size.Largest) == 0 {
		t.Fatalf("no largest files: %+v", res.Size)
	}
	top := res.Size.Largest[0]
	if top.Path != big || top.Level != fork.SizeRefused || top.Bytes < 100<<20 {
		t.Errorf("largest file %+v, want %s refused", top, big)
	}
	if chain := top.ReachedFrom; len(chain) != 2 || chain[0].Package != "example.com/realsizehost/gateway" || chain[0].File != "extra.go" || chain[0].Constraint != "x_bento_extra" {
		t.Errorf("reached from %+v, want example.com/realsizehost/gateway through extra.go (x_bento_extra)", chain)
	}
	var refused []fork.Finding
	for _, f := range res.Findings {
		if f.Kind == fork.FindingLargeFile {
			refused = append(refused, f)
		}
	}
	if len(refused) != 1 || refused[0].Pos != big || !strings.Contains(refused[0].Message, "only builds with x_bento_extra reach it (extra.go of example.com/realsizehost/gateway imports go.duckdb.org/libduckdb/linux-amd64)") {
		t.Errorf("large-file findings %+v", refused)
	}

	start = time.Now()
	res, err = fork.Fork(ctx, fork.Config{Dir: host, Env: env.Environ(), Platforms: []string{"linux/amd64"}, PlatformsSet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scoped to linux/amd64: %d forks, %s in %d files, %v", len(res.Forks), fork.FormatSize(res.Size.Bytes), res.Size.Files, time.Since(start).Round(time.Millisecond))
	if len(res.Forks) != 1 || res.Forks[0].Path != "github.com/google/uuid" || len(res.Removed) != 1 || res.Size.Bytes > 1<<20 {
		t.Errorf("scoped fork: forks %+v, removed %v, size %+v", res.Forks, res.Removed, res.Size)
	}
	env.Go(t, host, "build", "./...")
	env.Go(t, host, "vet", "./...")
	chk, err := fork.Check(fork.CheckConfig{Dir: host})
	if err != nil {
		t.Fatal(err)
	}
	if !chk.OK || len(chk.Notes) != 1 || chk.Notes[0].Kind != fork.KindOutsideScope || chk.Notes[0].Path != "go.duckdb.org/libduckdb/linux-amd64" {
		t.Errorf("check: ok %v, findings %+v, notes %+v", chk.OK, chk.Findings, chk.Notes)
	}
}
