package fork_test

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

var env *testgo.Env

func TestMain(m *testing.M) { testgo.Main(m, &env) }

// TestForkLoadsPlugin is the promise, end to end with real binaries: a
// plugin built against another version of a module the host links fails to
// load; after plugfork fork and a rebuild of the host, it loads, its symbol
// runs, and host and plugin each have their own copy of the module.
func TestForkLoadsPlugin(t *testing.T) {
	dir, hostDir, pluginDir := conflictPair(t)
	plugin := env.BuildPlugin(t, pluginDir, filepath.Join(dir, "biz.so"))

	before := env.BuildHost(t, hostDir, filepath.Join(dir, "host-before"))
	res := testgo.Load(context.Background(), before, plugin)
	want := fmt.Sprintf("plugin.Open(%q): plugin was built with a different version of package example.com/dep", strings.TrimSuffix(plugin, ".so"))
	if len(res.Outcomes) != 1 || res.Outcomes[0].Err != want {
		t.Fatalf("before fork: got %+v\nstderr: %s\nwant error %q", res.Outcomes, res.Stderr, want)
	}

	out, err := fork.Fork(context.Background(), fork.Config{
		Dir:    hostDir,
		Env:    env.Environ(),
		Prefix: "gitlab.example.com/workflow",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Forks) != 1 || out.Forks[0].Path != "example.com/dep" || out.Forks[0].Version != "v1.0.0" {
		t.Fatalf("forks: %+v", out.Forks)
	}

	after := env.BuildHost(t, hostDir, filepath.Join(dir, "host-after"))
	loadsOwnCopy(t, after, plugin)
}

// TestUpgradeStillLoads: after plugfork upgrade moves the host's fork to
// another version, the host still loads a plugin built with yet another one.
func TestUpgradeStillLoads(t *testing.T) {
	dir, hostDir, pluginDir := conflictPair(t)
	env.Go(t, pluginDir, "get", "example.com/dep@v1.2.0")
	plugin := env.BuildPlugin(t, pluginDir, filepath.Join(dir, "biz.so"))

	cfg := fork.Config{Dir: hostDir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"}
	if _, err := fork.Fork(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	up, err := fork.Upgrade(context.Background(), fork.Config{Dir: hostDir, Env: env.Environ()}, []string{"example.com/dep@v1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Changes) != 1 || up.Changes[0] != (fork.VersionChange{Path: "example.com/dep", Old: "v1.0.0", New: "v1.1.0"}) {
		t.Fatalf("changes: %+v", up.Changes)
	}
	host := env.BuildHost(t, hostDir, filepath.Join(dir, "host.bin"))
	hostVer, _, plugVer, _ := loads(t, host, plugin)
	if hostVer != "v1.1.0" || plugVer != "v1.2.0" {
		t.Errorf("versions: host %q, plugin %q; want v1.1.0 and v1.2.0", hostVer, plugVer)
	}
}

// conflictPair writes the host and plugin of internal/testgo's conflict
// fixture (example.com/dep v1.0.0 in the host, v1.1.0 in the plugin), the
// host with the loader main, and returns their directories.
func conflictPair(t *testing.T) (dir, hostDir, pluginDir string) {
	dir = t.TempDir()
	testgo.ExtractFile(t, filepath.Join(testgo.RepoRoot(), "internal", "testgo", "testdata", "conflict.txtar"), dir, "")
	hostDir, pluginDir = filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	testgo.WriteLoader(t, hostDir)
	env.Go(t, hostDir, "mod", "tidy")
	return dir, hostDir, pluginDir
}

// TestHazardIsReal proves what fork's hazard report says: a forked
// database/sql driver and a plugin's original copy both register the same
// driver name, and plugin.Open panics.
func TestHazardIsReal(t *testing.T) {
	dir := t.TempDir()
	ar := txtar.Parse([]byte(`
-- host/go.mod --
module example.com/host

go 1.22

require example.com/driver v1.0.0
-- host/deps.go --
package main

import _ "example.com/driver"
-- plugin/go.mod --
module example.com/plugin

go 1.22

require example.com/driver v1.0.0
-- plugin/plugin.go --
package main

import _ "example.com/driver"

func Run() string { return "loaded" }
`))
	if err := testgo.Extract(ar, dir, ""); err != nil {
		t.Fatal(err)
	}
	hostDir, pluginDir := filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	testgo.WriteLoader(t, hostDir)
	env.Go(t, hostDir, "mod", "tidy")
	res, err := fork.Fork(context.Background(), fork.Config{Dir: hostDir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	reported := map[string]bool{}
	for _, h := range res.Hazards {
		reported[h.Call] = h.Kind == "registry"
	}
	if !reported[`sql.Register("fixture")`] || !reported[`flag.Bool("fixture-verbose")`] {
		t.Fatalf("registry hazards not reported: %+v", res.Hazards)
	}
	plugin := env.BuildPlugin(t, pluginDir, filepath.Join(dir, "p.so"))
	host := env.BuildHost(t, hostDir, filepath.Join(dir, "host.bin"))
	load := testgo.Load(context.Background(), host, plugin)
	// The flag's variable initializer runs before the driver's init.
	if load.Err == nil || !strings.Contains(load.Stderr, "flag redefined: fixture-verbose") {
		t.Fatalf("want plugin.Open to panic with the reported registry clash; got err %v\nstdout: %s\nstderr: %s", load.Err, load.Stdout, load.Stderr)
	}
}

// loadsOwnCopy checks that host, forked, loads plugin, each with its own
// copy of example.com/dep: v1.0.0 in the host, v1.1.0 in the plugin.
func loadsOwnCopy(t *testing.T, host, plugin string) {
	t.Helper()
	hostVer, hostAddr, plugVer, plugAddr := loads(t, host, plugin)
	if hostVer != "v1.0.0" || plugVer != "v1.1.0" {
		t.Errorf("versions: host %q, plugin %q; want v1.0.0 and v1.1.0", hostVer, plugVer)
	}
	if hostAddr == plugAddr || hostAddr == "" {
		t.Errorf("dep.State at %q in the host and %q in the plugin: want two copies", hostAddr, plugAddr)
	}
}

// loads runs host with plugin, fails the test unless it loads, and returns
// the version and dep.State address each side reports.
func loads(t *testing.T, host, plugin string) (hostVer, hostAddr, plugVer, plugAddr string) {
	t.Helper()
	res := testgo.Load(context.Background(), host, plugin)
	if res.Err != nil || len(res.Outcomes) != 1 || !res.Outcomes[0].Loaded {
		t.Fatalf("plugin does not load: %+v\nstdout: %s\nstderr: %s", res.Outcomes, res.Stdout, res.Stderr)
	}
	hostVer, hostAddr, _ = strings.Cut(res.HostReport, " ")
	plugVer, plugAddr, _ = strings.Cut(res.Outcomes[0].Output, " ")
	return hostVer, hostAddr, plugVer, plugAddr
}

// TestInlineLoadsPlugin is the promise with the inline layout: the fork is
// plain packages of the host module, which its module zip carries; the host
// builds and loads a plugin built with another version of the forked
// module.
func TestInlineLoadsPlugin(t *testing.T) {
	dir, hostDir, pluginDir := conflictPair(t)
	plugin := env.BuildPlugin(t, pluginDir, filepath.Join(dir, "biz.so"))
	out, err := fork.Fork(context.Background(), fork.Config{Dir: hostDir, Env: env.Environ(), Layout: fork.LayoutInline})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Forks) != 1 || out.Forks[0].ForkPath != "example.com/host/third_party/forked/example.com/dep" || out.Layout != fork.LayoutInline {
		t.Fatalf("forks: %+v, layout %q", out.Forks, out.Layout)
	}
	after := env.BuildHost(t, hostDir, filepath.Join(dir, "host-after"))
	loadsOwnCopy(t, after, plugin)

	// The host's module zip, as a tag would publish it, holds the fork.
	var zipped bytes.Buffer
	if err := zip.CreateFromDir(&zipped, module.Version{Path: "example.com/host", Version: "v1.0.0"}, hostDir); err != nil {
		t.Fatal(err)
	}
	zr, err := stdzip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var forked []string
	for _, f := range zr.File {
		if name := strings.TrimPrefix(f.Name, "example.com/host@v1.0.0/"); strings.HasPrefix(name, fork.DefaultDir+"/") {
			forked = append(forked, name)
		}
	}
	if !slices.Contains(forked, fork.DefaultDir+"/example.com/dep/dep.go") {
		t.Errorf("the host's module zip holds %q of the fork dir: want its dep.go", forked)
	}
}
