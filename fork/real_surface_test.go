package fork_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
)

// TestRealSurface: the shared surface on real modules (see
// testdata/real/surface.txtar). A host keeps go.uber.org/zap shared; a
// plugin uses a newer go.uber.org/multierr, which zap imports internally,
// and fails to load into the host before the fork. Kept as a module, zap's
// packages that import multierr are forked with it (reported as not
// shared), the surface proved on real code, and the plain-built plugin
// loads. Kept by package (go.uber.org/zap/...), zap's packages are all
// shared, so multierr is too, imported by them; plugfork plugin build
// aligns the plugin's multierr to the host's, and it loads.
func TestRealSurface(t *testing.T) {
	env := realEnv(t)
	ctx := context.Background()
	dir := realFixture(t, env, "surface", "host", "plugin")
	host, plug := filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	plugin := env.BuildPlugin(t, plug, filepath.Join(dir, "plain.so"))
	before := env.BuildHost(t, host, filepath.Join(dir, "before.bin"))
	if res := testgo.Load(ctx, before, plugin); len(res.Outcomes) != 1 || !strings.Contains(res.Outcomes[0].Err, "plugin was built with a different version of package go.uber.org/") {
		t.Fatalf("before the fork: %+v\n%s", res.Outcomes, res.Stderr)
	}

	// Kept as a module.
	res, err := fork.Fork(ctx, fork.Config{Dir: host, Env: env.Environ(), Prefix: "gitlab.example.com/workflow", Keep: []string{"go.uber.org/zap"}})
	if err != nil {
		t.Fatal(err)
	}
	forked := map[string]bool{}
	for _, f := range res.Forks {
		forked[f.Path] = true
	}
	notShared := map[string]string{}
	for _, n := range res.NotShared {
		notShared[n.Package] = n.Imports
	}
	if !forked["go.uber.org/multierr"] || !forked["go.uber.org/zap"] || notShared["go.uber.org/zap"] != "go.uber.org/multierr" || notShared["go.uber.org/zap/zapcore"] != "go.uber.org/multierr" {
		t.Fatalf("forks %v, not shared %v; want zap's packages that import multierr forked with it", forked, notShared)
	}
	for _, e := range res.Surface {
		if e.Package == "go.uber.org/multierr" || e.Package == "go.uber.org/zap" || len(e.Fingerprint) != 16 {
			t.Errorf("surface entry %+v", e)
		}
	}
	after := env.BuildHost(t, host, filepath.Join(dir, "after.bin"))
	load := testgo.Load(ctx, after, plugin)
	if load.Err != nil || len(load.Outcomes) != 1 || !load.Outcomes[0].Loaded {
		t.Fatalf("kept as a module: %+v\nstdout: %s\nstderr: %s", load.Outcomes, load.Stdout, load.Stderr)
	}
	if got := load.Outcomes[0].Output; !strings.Contains(got, `"error":"a; b"`) {
		t.Errorf("plugin says %q", got)
	}

	// Kept by package: all of zap shared, and multierr with it.
	res, err = fork.Fork(ctx, fork.Config{Dir: host, Env: env.Environ(), Keep: []string{"go.uber.org/zap/..."}, KeepSet: true})
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, e := range res.Surface {
		why[e.Package] = e.Why
	}
	if why["go.uber.org/zap"] != "kept" || !strings.HasPrefix(why["go.uber.org/multierr"], "imported by go.uber.org/zap") || len(res.NotShared) != 0 {
		t.Fatalf("surface %v, not shared %+v", why, res.NotShared)
	}
	kept := env.BuildHost(t, host, filepath.Join(dir, "kept.bin"))
	b, err := pluginbuild.Build(ctx, pluginbuild.Config{Dir: plug, Env: env.Environ(), Host: host, HostBinary: kept, Output: "aligned.so"})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Loads() || len(b.Aligned) != 1 || b.Aligned[0].Module != "go.uber.org/multierr" || b.Aligned[0].To != "v1.10.0" {
		t.Fatalf("plugin build: aligned %+v, verdict %+v", b.Aligned, b.Verdict)
	}
	load = testgo.Load(ctx, kept, b.Output)
	if load.Err != nil || len(load.Outcomes) != 1 || !load.Outcomes[0].Loaded {
		t.Fatalf("kept by package: %+v\nstdout: %s\nstderr: %s", load.Outcomes, load.Stdout, load.Stderr)
	}
}

// TestRealKeepLogrus: a kept module with files for another platform (see
// testdata/real/logrus.txtar). logrus imports golang.org/x/sys/windows in
// its windows files; kept, the surface holds that package, which does not
// build on linux. The fork proves the surface on the host's platform,
// lists x/sys/windows as not built there, and the forked host builds and
// loads a plugin that logs through the same logrus. The host's sdk hands
// plugins a type of the forked github.com/google/uuid: reported, with the
// --keep that shares it.
func TestRealKeepLogrus(t *testing.T) {
	env := realEnv(t)
	ctx := context.Background()
	dir := realFixture(t, env, "logrus", "host", "plugin")
	host, plug := filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	res, err := fork.Fork(ctx, fork.Config{Dir: host, Env: env.Environ(), Prefix: "gitlab.example.com/workflow", Keep: []string{"github.com/sirupsen/logrus"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := runtime.GOOS + "/" + runtime.GOARCH; res.Platform != want {
		t.Errorf("proved on %q, want %q", res.Platform, want)
	}
	forked := map[string]bool{}
	for _, f := range res.Forks {
		forked[f.Path] = true
	}
	if !forked["github.com/google/uuid"] || forked["github.com/sirupsen/logrus"] || forked["golang.org/x/sys"] {
		t.Errorf("forks %v; want uuid forked, logrus and x/sys shared", forked)
	}
	surface := map[string]fork.Surface{}
	for _, e := range res.Surface {
		surface[e.Package] = e
	}
	if e := surface["golang.org/x/sys/windows"]; !e.NotBuilt || e.Fingerprint != "" {
		t.Errorf("x/sys/windows: %+v; want it listed as not built on linux", e)
	}
	for _, p := range []string{"github.com/sirupsen/logrus", "golang.org/x/sys/unix"} {
		if e := surface[p]; e.NotBuilt || len(e.Fingerprint) != 16 {
			t.Errorf("%s: %+v; want it proved", p, e)
		}
	}
	if x := res.Exposures; len(x) != 1 || x[0].Module != "github.com/google/uuid" || x[0].Keep != "github.com/google/uuid" || len(x[0].By) != 1 ||
		x[0].By[0] != (fork.ExposedBy{Package: "example.com/realhost/sdk", Decl: "Request.ID", Kind: "field", Type: "github.com/google/uuid"}) {
		t.Errorf("exposures %+v; want sdk.Request.ID exposing the forked uuid", x)
	}
	plugin := env.BuildPlugin(t, plug, filepath.Join(dir, "plain.so"))
	after := env.BuildHost(t, host, filepath.Join(dir, "after.bin"))
	load := testgo.Load(ctx, after, plugin)
	if load.Err != nil || len(load.Outcomes) != 1 || !load.Outcomes[0].Loaded {
		t.Fatalf("%+v\nstdout: %s\nstderr: %s", load.Outcomes, load.Stdout, load.Stderr)
	}
	if got := load.Outcomes[0].Output; !strings.Contains(got, `"msg":"plugin"`) || !strings.Contains(load.HostReport, `"msg":"host"`) {
		t.Errorf("plugin says %q, host %q", got, load.HostReport)
	}
	if c, err := fork.Check(fork.CheckConfig{Dir: host}); err != nil || !c.OK {
		t.Fatalf("check: %v %+v", err, c)
	}
}
