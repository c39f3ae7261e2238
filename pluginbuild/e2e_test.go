package pluginbuild_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/mod/modfile"
)

var env *testgo.Env

func TestMain(m *testing.M) { testgo.Main(m, &env) }

const prefix = "gitlab.example.com/workflow"

// framework extracts the framework fixture module as a host in dir/name,
// with the loader main in cmd/host, and tidies it.
func framework(t *testing.T, dir, name string) string {
	t.Helper()
	host := filepath.Join(dir, name)
	testgo.ExtractFile(t, filepath.Join(testgo.RepoRoot(), "testdata", "mod", "example.com_framework_v1.0.0.txt"), host, "")
	env.Go(t, host, "mod", "tidy")
	testgo.WriteLoader(t, filepath.Join(host, "cmd", "host"))
	return host
}

// buildHost builds the framework's loader host into dir/name.bin.
func buildHost(t *testing.T, host string, flags ...string) string {
	t.Helper()
	return env.BuildHost(t, filepath.Join(host, "cmd", "host"), host+".bin", flags...)
}

func forkHost(t *testing.T, host string) {
	t.Helper()
	if _, err := fork.Fork(context.Background(), fork.Config{Dir: host, Env: env.Environ(), Prefix: prefix, Keep: []string{"example.com/kept"}}); err != nil {
		t.Fatal(err)
	}
}

// plugin writes the plugin module of archive into dir.
func plugin(t *testing.T, dir, archive string) string {
	t.Helper()
	if err := testgo.Extract(txtar.Parse([]byte(archive)), dir, ""); err != nil {
		t.Fatal(err)
	}
	return dir
}

const bizPlugin = `
-- go.mod --
module example.com/biz

go 1.22

require (
	example.com/framework v1.0.0
	example.com/ident v1.2.0
	example.com/kept v1.1.0
)

replace example.com/framework => ../framework
-- biz.go --
package main

import (
	"example.com/framework/sdk"
	"example.com/ident"
	"example.com/kept"
)

// Run says which copies the plugin sees: the SDK's (the host's forks) and
// its own ident.
func Run() string {
	return sdk.Describe(sdk.NewRequest("biz")) + "; own ident " + ident.Version + ", kept " + kept.Name()
}
`

func build(t *testing.T, cfg pluginbuild.Config) *pluginbuild.Result {
	t.Helper()
	cfg.Env = env.Environ()
	res, err := pluginbuild.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// loads loads plugins into host in a child process and returns what each
// plugin's Run said, failing the test on any load error.
func loads(t *testing.T, host string, plugins ...string) []string {
	t.Helper()
	res := testgo.Load(context.Background(), host, plugins...)
	if res.Err != nil || len(res.Outcomes) != len(plugins) {
		t.Fatalf("loading %v: %v\nstdout:\n%s\nstderr:\n%s", plugins, res.Err, res.Stdout, res.Stderr)
	}
	var out []string
	for _, o := range res.Outcomes {
		if !o.Loaded {
			t.Fatalf("%s does not load: %s", o.Plugin, o.Err)
		}
		out = append(out, o.Output)
	}
	return out
}

// TestSDKPluginDirectoryReplace: a plugin that imports the host's SDK,
// whose API exposes a forked module, reaches the framework by a directory
// replace. A plain go build of it fails (replace applies only in the main
// module, so the forks are unknown); plugfork plugin build builds it, with
// the kept module aligned to the host's version, and it loads.
func TestSDKPluginDirectoryReplace(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	// The plugin was written against the framework before it was forked.
	biz := plugin(t, filepath.Join(dir, "biz"), bizPlugin)
	env.Go(t, biz, "mod", "tidy")
	forkHost(t, host)
	hostBin := buildHost(t, host)

	// The failure the plugin author hits without plugfork.
	_, err := env.Runner(biz).Run(context.Background(), "build", "-buildmode=plugin", "-o", filepath.Join(dir, "plain.so"), ".")
	if err == nil || !strings.Contains(err.Error(), prefix+"/example.com/ident") {
		t.Fatalf("plain go build: %v; want it not to find the fork of example.com/ident", err)
	}

	gomod, _ := os.ReadFile(filepath.Join(biz, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(biz, "go.sum"))
	res := build(t, pluginbuild.Config{Dir: biz, Host: "../framework", HostBinary: hostBin})
	if !res.Loads() || res.Output != filepath.Join(biz, "biz.so") {
		t.Fatalf("result: %+v", res)
	}
	if len(res.Aligned) != 1 || res.Aligned[0].Module != "example.com/kept" || res.Aligned[0].From != "v1.1.0" || res.Aligned[0].To != "v1.0.0" {
		t.Errorf("aligned: %+v; want example.com/kept v1.1.0 => v1.0.0", res.Aligned)
	}
	got := loads(t, hostBin, res.Output)
	if want := "id-biz ident v1.0.0 kept v1.0.0 tag none; own ident v1.2.0, kept kept"; got[0] != want {
		t.Errorf("plugin says %q, want %q", got[0], want)
	}
	// The plugin module is as it was.
	if g, _ := os.ReadFile(filepath.Join(biz, "go.mod")); string(g) != string(gomod) {
		t.Errorf("go.mod changed:\n%s", g)
	}
	if g, _ := os.ReadFile(filepath.Join(biz, "go.sum")); string(g) != string(gosum) {
		t.Errorf("go.sum changed")
	}
	if _, err := os.Stat(filepath.Join(biz, ".plugfork")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the view was left behind: %v", err)
	}
}

// TestSDKPluginByVersion: a plugin that requires the framework by version
// (from the module proxy), built with --host naming the host's source: the
// host's packages compile from that source, and the plugin loads. Without
// alignment, in the same workspace, it would not: its kept module's version
// differs from the host's.
func TestSDKPluginByVersion(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	biz := plugin(t, filepath.Join(dir, "biz"), strings.Replace(bizPlugin, "replace example.com/framework => ../framework\n", "", 1))
	env.Go(t, biz, "mod", "tidy")
	forkHost(t, host)
	hostBin := buildHost(t, host)

	// In a workspace with the host but not aligned, the plugin builds and
	// fails to load: kept v1.1.0 is not the host's v1.0.0.
	work := filepath.Join(dir, "go.work")
	wf, err := gocmd.WorkFile("1.22", "./biz", "./framework")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(work, modfile.Format(wf.Syntax), 0o666); err != nil {
		t.Fatal(err)
	}
	r := env.Runner(biz)
	r.Env = append(r.Env, "GOWORK="+work, "GOFLAGS=")
	if _, err := r.Run(context.Background(), "build", "-buildmode=plugin", "-o", filepath.Join(dir, "unaligned.so"), "."); err != nil {
		t.Fatal(err)
	}
	o := testgo.Load(context.Background(), hostBin, filepath.Join(dir, "unaligned.so")).Outcomes
	if len(o) != 1 || o[0].Loaded || !strings.HasSuffix(o[0].Err, "plugin was built with a different version of package example.com/kept") {
		t.Fatalf("unaligned plugin: %+v; want it to fail on example.com/kept", o)
	}

	res := build(t, pluginbuild.Config{Dir: biz, Host: host, HostBinary: hostBin, Output: "biz.so"})
	if !res.Loads() || len(res.Aligned) != 1 {
		t.Fatalf("result: %+v", res)
	}
	got := loads(t, hostBin, res.Output)
	if want := "id-biz ident v1.0.0 kept v1.0.0 tag none; own ident v1.2.0, kept kept"; got[0] != want {
		t.Errorf("plugin says %q, want %q", got[0], want)
	}
}

// TestTrimpathHostElsewhere: the host is built with -trimpath in one
// directory, the plugin against a copy of the host's source in another:
// with -trimpath (taken from the host binary) the host's packages are
// recorded by module path, not directory, and the plugin loads.
func TestTrimpathHostElsewhere(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	biz := plugin(t, filepath.Join(dir, "biz"), strings.Replace(bizPlugin, "replace example.com/framework => ../framework\n", "", 1))
	env.Go(t, biz, "mod", "tidy")
	forkHost(t, host)
	hostBin := buildHost(t, host, "-trimpath")
	copyDir := filepath.Join(dir, "elsewhere", "framework-copy")
	copyTree(t, host, copyDir)

	res := build(t, pluginbuild.Config{Dir: biz, Host: copyDir, HostBinary: hostBin})
	if !res.Loads() || !res.Checked || !slicesContains(res.Flags, "-trimpath") {
		t.Fatalf("result: %+v; want -trimpath from the host binary", res)
	}
	loads(t, hostBin, res.Output)

	// Given the flag the host was not built with, it is refused.
	plainHost := buildHost(t, copyDir)
	_, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: env.Environ(), Host: copyDir, HostBinary: plainHost,
		Flags: pluginbuild.Flags{Set: map[string]string{"-trimpath": "true"}}})
	if err == nil || !strings.Contains(err.Error(), "-trimpath: the host was built without it") {
		t.Fatalf("-trimpath against a host built without it: %v", err)
	}
}

// TestTagsFromHostBinary: the host is built with -tags x and -trimpath; the
// plugin build takes both from the host binary, the SDK compiles with tag
// x in the plugin too, and the plugin loads.
func TestTagsFromHostBinary(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	biz := plugin(t, filepath.Join(dir, "biz"), bizPlugin)
	env.Go(t, biz, "mod", "tidy")
	forkHost(t, host)
	hostBin := buildHost(t, host, "-tags=x", "-trimpath")

	res := build(t, pluginbuild.Config{Dir: biz, Host: host, HostBinary: hostBin})
	if !res.Loads() || !slicesContains(res.Flags, "-tags=x") || !slicesContains(res.Flags, "-trimpath") {
		t.Fatalf("result: %+v; want -tags=x and -trimpath", res)
	}
	if got := loads(t, hostBin, res.Output); !strings.Contains(got[0], "tag x") {
		t.Errorf("plugin says %q: the SDK was not built with tag x", got[0])
	}
	// A tag the host was not built with, which changes the SDK's files, is
	// refused; one that changes no shared package's files is not.
	_, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: env.Environ(), Host: host, HostBinary: hostBin,
		Flags: pluginbuild.Flags{Set: map[string]string{"-tags": ""}}})
	if err == nil || !strings.Contains(err.Error(), "changes the files of example.com/framework/sdk") {
		t.Fatalf("-tags= against a host built with -tags=x: %v", err)
	}
	res = build(t, pluginbuild.Config{Dir: biz, Host: host, HostBinary: hostBin, Output: "biz2.so",
		Flags: pluginbuild.Flags{Set: map[string]string{"-tags": "x,unrelated"}}})
	if !res.Loads() {
		t.Fatalf("-tags=x,unrelated: %+v", res)
	}
}

// TestNeedsNewerKept: a plugin that calls API its kept module has only at a
// newer version than the host's does not build at the host's version: the
// error names the module, both versions and the ways out, and no plugin is
// written. Forking the host is one of them when it is not forked.
func TestNeedsNewerKept(t *testing.T) {
	for _, tt := range []struct {
		name   string
		forked bool
		want   []string
		not    string
	}{
		{"forked", true, []string{"Two ways out: upgrade the host", "go get example.com/kept@v1.1.0, then plugfork fork"}, "Three ways out"},
		{"unforked", false, []string{"Three ways out: fork the host (in the host: plugfork fork --prefix PREFIX", "example.com/kept@v1.1.0, and rebuild it"}, "Two ways out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			host := framework(t, dir, "framework")
			biz := plugin(t, filepath.Join(dir, "biz"), strings.Replace(bizPlugin, `", kept " + kept.Name()`, `", kept " + kept.Extra()`, 1))
			env.Go(t, biz, "mod", "tidy")
			if tt.forked {
				forkHost(t, host)
			}
			hostBin := buildHost(t, host)

			_, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: env.Environ(), Host: host, HostBinary: hostBin})
			var nn *pluginbuild.NeedsNewerError
			if !errors.As(err, &nn) {
				t.Fatalf("error %v; want a NeedsNewerError", err)
			}
			for _, want := range append([]string{
				"example.com/kept: the host links v1.0.0, the plugin requires v1.1.0",
				"undefined: kept.Extra",
				"example.com/kept@v1.0.0) and use only",
			}, tt.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%s", want, err)
				}
			}
			if strings.Contains(err.Error(), tt.not) {
				t.Errorf("error says %q:\n%s", tt.not, err)
			}
			if _, err := os.Stat(filepath.Join(biz, "biz.so")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a plugin was written: %v", err)
			}
		})
	}
}

// TestAlsoPredictsClash: two plugins link a module the host does not link,
// at different versions: built after the first, with --also naming it, the
// second is judged against it in load order, predicted to fail as it
// really does, and not written.
func TestAlsoPredictsClash(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	mk := func(name, version string) string {
		p := plugin(t, filepath.Join(dir, name), `
-- go.mod --
module example.com/`+name+`

go 1.22

require (
	example.com/dep `+version+`
	example.com/framework v1.0.0
)

replace example.com/framework => ../framework
-- p.go --
package main

import (
	"example.com/dep"
	"example.com/framework/sdk"
)

func Run() string { return dep.Version + " " + sdk.Tag }
`)
		env.Go(t, p, "mod", "tidy")
		return p
	}
	first, second := mk("first", "v1.0.0"), mk("second", "v1.1.0")
	forkHost(t, host)
	hostBin := buildHost(t, host)

	a := build(t, pluginbuild.Config{Dir: first, Host: host, HostBinary: hostBin})
	if !a.Loads() {
		t.Fatalf("first: %+v", a)
	}
	b := build(t, pluginbuild.Config{Dir: second, Host: host, HostBinary: hostBin, Also: []string{a.Output}})
	if b.Loads() || b.Output != "" {
		t.Fatalf("second after first: %+v; want it predicted to fail and not written", b)
	}
	if v := b.Verdict; len(v.Causes) == 0 || v.Causes[0].Against != a.Output || v.Causes[0].Module != "example.com/dep" {
		t.Errorf("verdict %+v; want a clash with %s on example.com/dep", v, a.Output)
	}
	// The real outcome agrees: built anyway (alone it loads), it fails after
	// the first.
	alone := build(t, pluginbuild.Config{Dir: second, Host: host, HostBinary: hostBin})
	o := testgo.Load(context.Background(), hostBin, a.Output, alone.Output).Outcomes
	after := func(msg string) string { _, rest, _ := strings.Cut(msg, "): "); return rest } // the paths differ
	if len(o) != 2 || !o[0].Loaded || o[1].Loaded || after(o[1].Err) != after(b.Verdict.Error) {
		t.Errorf("real outcome %+v; predicted %q", o, b.Verdict.Error)
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	ar, err := testgo.ReadTree(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := testgo.Extract(ar, dst, ""); err != nil {
		t.Fatal(err)
	}
}
