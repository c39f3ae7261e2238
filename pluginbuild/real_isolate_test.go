package pluginbuild_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
)

// TestRealIsolate: two real business plugins that disagree on a real
// library (github.com/sirupsen/logrus v1.8.3 and v1.9.3) and import the
// SDK of a forked real host. Built with plugfork plugin build, the second
// to load fails on logrus, whichever it is; built --isolate, both load in
// both orders.
func TestRealIsolate(t *testing.T) {
	if os.Getenv("PLUGFORK_REAL") == "" {
		t.Skip("needs real modules from the module proxy: run make test-real (PLUGFORK_REAL=1)")
	}
	real, dir := realSDK(t, "isolate.txtar")
	ctx := context.Background()
	host := filepath.Join(dir, "host")
	teams := []string{filepath.Join(dir, "teama"), filepath.Join(dir, "teamb")}
	for _, d := range teams {
		if out := real.Go(t, d, "mod", "tidy", "-diff"); out != "" {
			t.Fatalf("%s is not tidy (update testdata/real/isolate.txtar):\n%s", filepath.Base(d), out)
		}
	}
	testgo.WriteLoader(t, filepath.Join(host, "cmd", "host"))
	if _, err := fork.Fork(ctx, fork.Config{Dir: host, Env: real.Environ(), Prefix: prefix, Keep: []string{"github.com/cespare/xxhash/v2"}}); err != nil {
		t.Fatal(err)
	}
	hostBin := real.BuildHost(t, filepath.Join(host, "cmd", "host"), filepath.Join(dir, "host.bin"), "-trimpath")

	build := func(team string, isolate bool) string {
		name := filepath.Base(team) + "-plain.so"
		if isolate {
			name = filepath.Base(team) + "-isolated.so"
		}
		res, err := pluginbuild.Build(ctx, pluginbuild.Config{Dir: team, Env: real.Environ(), Host: host, HostBinary: hostBin, Isolate: isolate, Output: filepath.Join(dir, name)})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Loads() {
			t.Fatalf("%s: %+v", name, res.Verdict)
		}
		return res.Output
	}
	plainA, plainB := build(teams[0], false), build(teams[1], false)
	isoA, isoB := build(teams[0], true), build(teams[1], true)
	for _, order := range [][]string{{plainA, plainB}, {plainB, plainA}} {
		o := testgo.Load(ctx, hostBin, order...).Outcomes
		if len(o) != 2 || !o[0].Loaded || o[1].Loaded || !strings.HasSuffix(o[1].Err, "plugin was built with a different version of package github.com/sirupsen/logrus") {
			t.Errorf("plain %v: %+v; want the second to fail on logrus", order, o)
		}
	}
	for _, order := range [][]string{{isoA, isoB}, {isoB, isoA}} {
		r := testgo.Load(ctx, hostBin, order...)
		if len(r.Outcomes) != 2 {
			t.Fatalf("isolated %v: %v\n%s\n%s", order, r.Err, r.Stdout, r.Stderr)
		}
		for i, o := range r.Outcomes {
			team := strings.TrimSuffix(filepath.Base(order[i]), "-isolated.so")
			if want := `level=info msg=` + team + ` id=6ba7b810-9dad-11d1-80b4-00c04fd430c8 digest `; !o.Loaded || !strings.HasPrefix(o.Output, want) {
				t.Errorf("isolated %v: %+v; want both to load and log %q", order, r.Outcomes, want)
			}
		}
	}
}
