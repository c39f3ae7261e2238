package fork_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
)

// resultHost is a host whose fork result has every part: a kept module
// (shared surface, pinned, a package not shared), a registering driver (a
// hazard with remedies), a host package plugins can import that uses a
// fork (exposed), a string literal holding a forked path (a finding).
const resultHost = `
-- go.mod --
module example.com/host

go 1.22
-- main.go --
package main

import (
	"fmt"

	"example.com/api"
	_ "example.com/pqlike"
	"example.com/host/sdk"
)

func main() { fmt.Println(api.DepVersion, sdk.Name()) }
-- sdk/sdk.go --
package sdk

import "example.com/chain/a"

// Name names the chain, unless asked for its path.
func Name() string {
	if a.Name() == "example.com/chain/a" {
		return ""
	}
	return a.Name()
}
`

// normalJSON returns the JSON of res without what differs between runs
// that agree on the result: statuses, whether work was skipped or
// changed anything, the host files a run rewrote, timings.
func normalJSON(t *testing.T, res *fork.Result) string {
	t.Helper()
	r := *res
	r.Forks = append([]fork.ForkResult(nil), res.Forks...)
	for i := range r.Forks {
		r.Forks[i].Status = ""
	}
	r.Skipped, r.Changed, r.DryRun, r.Timings, r.Rewritten = false, false, false, fork.Timings{}, nil
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestOneResult: a fresh run, a no-op re-run (answered from the lock) and a
// dry run of an up-to-date host return the same result, but for the
// statuses, timings and the fingerprints a dry run does not prove; every
// fork of the dry run and of the re-run is unchanged.
func TestOneResult(t *testing.T) {
	dir := t.TempDir()
	if err := testgo.Extract(txtar.Parse([]byte(resultHost)), dir, ""); err != nil {
		t.Fatal(err)
	}
	env.Go(t, dir, "mod", "tidy")
	ctx := context.Background()
	fresh, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow", Keep: []string{"example.com/api"}, KeepSet: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh.Surface) == 0 || len(fresh.Pinned) == 0 || len(fresh.Exposed) == 0 || len(fresh.Hazards) == 0 || len(fresh.Findings) == 0 || len(fresh.HostFiles) == 0 {
		t.Fatalf("the fixture does not exercise every part of a result:\n%s", normalJSON(t, fresh))
	}
	again, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: env.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Skipped {
		t.Errorf("the re-run redid the work")
	}
	if !slices.Equal(fresh.Rewritten, fresh.HostFiles) || len(again.Rewritten) != 0 {
		t.Errorf("rewritten: the fresh run %v (its host files using forks %v), the re-run %v (want none)", fresh.Rewritten, fresh.HostFiles, again.Rewritten)
	}
	if got, want := normalJSON(t, again), normalJSON(t, fresh); got != want {
		t.Errorf("a no-op re-run says:\n%s\nthe fresh run:\n%s", got, want)
	}
	dry, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: env.Environ(), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Rewritten) != 0 {
		t.Errorf("a dry run of an up-to-date host would rewrite %v", dry.Rewritten)
	}
	for _, r := range []*fork.Result{again, dry} {
		for _, f := range r.Forks {
			if f.Status != fork.StatusUnchanged {
				t.Errorf("dry run %v: %s is %s, want unchanged", r.DryRun, f.Path, f.Status)
			}
		}
	}
	unproved := *fresh
	unproved.Surface = append([]fork.Surface(nil), fresh.Surface...)
	for i := range unproved.Surface {
		unproved.Surface[i].Fingerprint = ""
	}
	if got, want := normalJSON(t, dry), normalJSON(t, &unproved); got != want {
		t.Errorf("a dry run says:\n%s\nthe fresh run:\n%s", got, want)
	}

	// A lock of format 2 does not hold all a result says: the run is redone
	// once, and writes format 3.
	lockPath := filepath.Join(dir, fork.LockFile)
	data, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockPath, bytes.Replace(data, []byte("\nplugfork 4\n"), []byte("\nplugfork 3\n"), 1), 0o666); err != nil {
		t.Fatal(err)
	}
	redone, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: env.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(lockPath); err != nil || redone.Skipped || !bytes.Contains(data, []byte("\nplugfork 4\n")) {
		t.Errorf("a format 2 lock: skipped %v, lock now:\n%s", redone.Skipped, data)
	}
}
