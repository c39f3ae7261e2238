package testgo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/testgo"
)

var env *testgo.Env

func TestMain(m *testing.M) { testgo.Main(m, &env) }

// TestConflict proves the harness: a host and a plugin requiring different
// versions of a fixture module really fail in plugin.Open, and the same
// versions really load.
func TestConflict(t *testing.T) {
	dir := t.TempDir()
	testgo.ExtractFile(t, filepath.Join("testdata", "conflict.txtar"), dir, "")
	hostDir, pluginDir := filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	testgo.WriteLoader(t, hostDir)
	host := env.BuildHost(t, hostDir, filepath.Join(dir, "host.bin"))
	bad := env.BuildPlugin(t, pluginDir, filepath.Join(dir, "bad.so"))

	// Align the plugin with the host: it loads.
	env.Go(t, pluginDir, "get", "example.com/dep@v1.0.0")
	good := env.BuildPlugin(t, pluginDir, filepath.Join(dir, "good.so"))

	// Separate processes: both plugins have the plugin path
	// example.com/plugin, and a failed dlopen still binds its symbols.
	res := load(t, host, bad)
	want := fmt.Sprintf("plugin.Open(%q): plugin was built with a different version of package example.com/dep", strings.TrimSuffix(bad, ".so"))
	if o := res.Outcomes[0]; o.Loaded || o.Err != want {
		t.Errorf("conflicting plugin: loaded=%v err=%q, want error %q", o.Loaded, o.Err, want)
	}
	res = load(t, host, good)
	o := res.Outcomes[0]
	if !o.Loaded {
		t.Fatalf("aligned plugin did not load: %s", o.Err)
	}
	// Same version, same package: host and plugin share State.
	if o.Output != res.HostReport {
		t.Errorf("aligned plugin sees %q, host %q: want the same copy", o.Output, res.HostReport)
	}
}

func load(t *testing.T, host string, plugins ...string) testgo.LoadResult {
	t.Helper()
	res := testgo.Load(context.Background(), host, plugins...)
	if res.Err != nil {
		t.Fatalf("host: %v\nstdout:\n%s\nstderr:\n%s", res.Err, res.Stdout, res.Stderr)
	}
	if len(res.Outcomes) != len(plugins) {
		t.Fatalf("got %d outcomes, want %d:\n%s", len(res.Outcomes), len(plugins), res.Stdout)
	}
	return res
}
