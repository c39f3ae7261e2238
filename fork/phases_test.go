package fork_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
)

// TestPlanSurface runs the plan phase alone (no copy, no type-check) on
// hosts that keep a plugin contract, as a module or by package: the
// shared surface is the kept packages and what they import, transitively;
// the rest of a kept module is forked with what it imports privately. A
// shared internal package of a forked module is pinned and forked too:
// the forked packages of its module import a forked copy.
func TestPlanSurface(t *testing.T) {
	const host = `
-- go.mod --
module example.com/host

go 1.22

require example.com/acme/sdk v1.0.0
-- main.go --
package main

import (
	"fmt"

	"example.com/acme/sdk"
	"example.com/acme/sdk/api"
)

type local struct{}

func (local) Handle(req string) string { return "handled " + req }

var _ api.Plugin = local{}

func main() { fmt.Println(sdk.Serve(local{}, "req")) }
`
	for _, tt := range []struct {
		name   string
		keep   string
		forked map[string][]string
		pinned []string
	}{
		{
			name: "module", keep: "example.com/acme/sdk",
			forked: map[string][]string{
				"example.com/acme/sdk": {"example.com/acme/sdk", "example.com/acme/sdk/internal/names"},
				"example.com/widget":   {"example.com/widget"},
			},
			pinned: []string{"example.com/acme/sdk/api", "example.com/acme/sdk/internal/names"},
		},
		{
			name: "nothing kept",
			forked: map[string][]string{
				"example.com/acme/sdk": {"example.com/acme/sdk", "example.com/acme/sdk/api", "example.com/acme/sdk/internal/names"},
				"example.com/widget":   {"example.com/widget"},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := testgo.Extract(txtar.Parse([]byte(host)), dir, ""); err != nil {
				t.Fatal(err)
			}
			env.Go(t, dir, "mod", "tidy")
			cfg := fork.Config{Dir: dir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"}
			if tt.keep != "" {
				cfg.Keep = []string{tt.keep}
			}
			ph, err := fork.OpenPhases(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ph.Close()
			got, err := ph.Plan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Forked, tt.forked) || !reflect.DeepEqual(got.Pinned, tt.pinned) {
				t.Errorf("plan: forked %v, pinned %v\nwant forked %v, pinned %v", got.Forked, got.Pinned, tt.forked, tt.pinned)
			}
		})
	}
}

// TestPhases runs the four phases one at a time on a host: the plan forks
// the chain and the lib, materialize makes its trees, verify type-checks them, apply
// swaps them in, and check then finds the host clean, each fork's tree the
// one materialize made.
func TestPhases(t *testing.T) {
	dir := t.TempDir()
	if err := testgo.Extract(txtar.Parse([]byte(killHost)), dir, ""); err != nil {
		t.Fatal(err)
	}
	env.Go(t, dir, "mod", "tidy")
	ctx := context.Background()
	ph, err := fork.OpenPhases(ctx, fork.Config{Dir: dir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	p, err := ph.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Forked) != 4 || len(p.Pinned) != 0 {
		t.Fatalf("plan: forked %v, pinned %v", p.Forked, p.Pinned)
	}
	trees, err := ph.Materialize()
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if changed, err := ph.Apply(ctx); err != nil || !changed {
		t.Fatalf("apply: changed %v, %v", changed, err)
	}
	res, err := fork.Check(fork.CheckConfig{Dir: dir})
	if err != nil || !res.OK || res.Forks != 4 {
		t.Fatalf("check after the phases: %+v, %v", res, err)
	}
	st, err := fork.Status(ctx, dir, env.Environ(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range st.Forks {
		if trees[f.Path] == "" {
			t.Errorf("%s: forked, but materialize made no tree for it", f.Path)
		}
	}
}
