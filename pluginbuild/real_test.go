package pluginbuild_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
)

// TestRealPluginBuild: a real framework whose SDK exposes a real
// third-party type (github.com/google/uuid's UUID) is forked, keeping
// github.com/cespare/xxhash/v2 shared; a plugin written against the SDK,
// with newer uuid and xxhash of its own, does not build with a plain go
// build, and built with plugfork plugin build (xxhash aligned to the host's
// version, -trimpath from the host binary) it loads, its own uuid beside
// the host's fork.
func TestRealPluginBuild(t *testing.T) {
	real, dir, host, plug := realFramework(t)
	ctx := context.Background()
	for _, d := range []string{host, plug} {
		if out := real.Go(t, d, "mod", "tidy", "-diff"); out != "" {
			t.Fatalf("%s is not tidy (update testdata/real/sdk.txtar):\n%s", filepath.Base(d), out)
		}
	}
	testgo.WriteLoader(t, filepath.Join(host, "cmd", "host"))
	res, err := fork.Fork(ctx, fork.Config{Dir: host, Env: real.Environ(), Prefix: prefix, Keep: []string{"github.com/cespare/xxhash/v2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Forks) != 1 || res.Forks[0].Path != "github.com/google/uuid" || len(res.Exposed) != 1 || res.Exposed[0].Package != "example.com/realframework/sdk" {
		t.Fatalf("fork: forks %+v, exposed %+v; want uuid forked, sdk exposed", res.Forks, res.Exposed)
	}
	hostBin := real.BuildHost(t, filepath.Join(host, "cmd", "host"), filepath.Join(dir, "host.bin"), "-trimpath")

	if _, err := real.Runner(plug).Run(ctx, "build", "-buildmode=plugin", "-o", filepath.Join(dir, "plain.so"), "."); err == nil {
		t.Fatal("a plain go build of the plugin succeeded against the forked host")
	}
	b, err := pluginbuild.Build(ctx, pluginbuild.Config{Dir: plug, Env: real.Environ(), Host: host, HostBinary: hostBin})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Loads() || len(b.Aligned) != 1 || b.Aligned[0].Module != "github.com/cespare/xxhash/v2" || b.Aligned[0].To != "v2.2.0" {
		t.Fatalf("plugin build: %+v", b)
	}
	out := testgo.Load(ctx, hostBin, b.Output)
	if out.Err != nil || len(out.Outcomes) != 1 || !out.Outcomes[0].Loaded {
		t.Fatalf("loading: %+v\n%s\n%s", out.Outcomes, out.Stdout, out.Stderr)
	}
	got := strings.Fields(out.Outcomes[0].Output)
	if len(got) != 4 || got[0] != "6ba7b810-9dad-11d1-80b4-00c04fd430c8" || got[2] != "ab933c76-cd1c-51f6-b1fb-1041e00704ae" {
		t.Errorf("plugin says %q", out.Outcomes[0].Output)
	}
}

// TestRealPublishedHost: the real framework, forked with the inline layout
// and published as v1.0.0 through a file:// proxy in front of the real one
// (GONOSUMDB for it, as for a company's private modules), is the host of a
// plugin that requires it by version: plugfork plugin build --host
// example.com/realframework@v1.0.0 builds it with no checkout, and it loads
// into the -trimpath host built from the tag's source.
func TestRealPublishedHost(t *testing.T) {
	real, dir, host, plug := realFramework(t)
	ctx := context.Background()
	testgo.WriteLoader(t, filepath.Join(host, "cmd", "host"))
	forkInline(t, host, real.Environ(), "github.com/cespare/xxhash/v2")
	upstream := strings.TrimSpace(real.Go(t, host, "env", "GOPROXY"))
	goEnv := publishTo(t, append(real.Environ(), "GONOSUMDB=example.com/realframework"), upstream, host, "example.com/realframework", "v1.0.0")
	hostBin := real.BuildHost(t, filepath.Join(host, "cmd", "host"), filepath.Join(dir, "host.bin"), "-trimpath")

	r := gocmd.Runner{Dir: plug, Env: goEnv}
	for _, args := range [][]string{
		{"mod", "edit", "-dropreplace=example.com/realframework", "-require=example.com/realframework@v1.0.0"},
		{"mod", "tidy"},
	} {
		if _, err := r.Run(ctx, args...); err != nil {
			t.Fatal(err)
		}
	}
	gomod, _ := os.ReadFile(filepath.Join(plug, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(plug, "go.sum"))
	b, err := pluginbuild.Build(ctx, pluginbuild.Config{Dir: plug, Env: goEnv, Host: "example.com/realframework@v1.0.0", HostBinary: hostBin})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Loads() || b.Host.Version != "v1.0.0" {
		t.Fatalf("plugin build: %+v", b)
	}
	out := testgo.Load(ctx, hostBin, b.Output)
	if out.Err != nil || len(out.Outcomes) != 1 || !out.Outcomes[0].Loaded {
		t.Fatalf("loading: %+v\n%s\n%s", out.Outcomes, out.Stdout, out.Stderr)
	}
	if got := strings.Fields(out.Outcomes[0].Output); len(got) != 4 || got[0] != "6ba7b810-9dad-11d1-80b4-00c04fd430c8" {
		t.Errorf("plugin says %q", out.Outcomes[0].Output)
	}
	unchanged(t, plug, gomod, gosum)
}

// realFramework skips a test unless real modules may be fetched
// (PLUGFORK_REAL), and extracts the real framework and its plugin as
// realSDK does; it returns the environment, the directory, and the
// framework's and the plugin's directories in it.
func realFramework(t *testing.T) (real *testgo.Env, dir, host, plug string) {
	t.Helper()
	if os.Getenv("PLUGFORK_REAL") == "" {
		t.Skip("needs real modules from the module proxy: run make test-real (PLUGFORK_REAL=1)")
	}
	real, dir = realSDK(t)
	return real, dir, filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
}

// realSDK skips a test that cannot build plugins here, and extracts the real
// framework and its plugin of testdata/real/sdk.txtar into a new directory,
// with the archives named, extracted beside them; it returns the
// environment that reaches the module proxy, and the directory.
func realSDK(tb testing.TB, archives ...string) (*testgo.Env, string) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("builds and loads Go plugins: linux only")
	}
	dir := tb.TempDir()
	for _, a := range append([]string{"sdk.txtar"}, archives...) {
		testgo.ExtractFile(tb, filepath.Join("testdata", "real", a), dir, "")
	}
	return &testgo.Env{Vars: []string{"GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=1"}}, dir
}
