package pluginbuild_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/modproxy"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// publish zips the module in dir as version of its path, as a tag is
// published (golang.org/x/mod/zip leaves nested modules out), into a
// file:// proxy of the test's own, and returns the go command's environment
// that reaches it before the fixture proxy, with a module cache of its own
// (the fixture proxy serves another example.com/framework v1.0.0).
func publish(t *testing.T, dir, path, version string) []string {
	return publishTo(t, env.Environ(), modproxy.URL(env.Proxy), dir, path, version)
}

// publishTo is publish on top of the environment base, with the proxy
// fallback after the test's own.
func publishTo(t *testing.T, base []string, fallback, dir, path, version string) []string {
	t.Helper()
	proxy := filepath.Join(t.TempDir(), "proxy")
	vdir := filepath.Join(proxy, filepath.FromSlash(path), "@v")
	if err := os.MkdirAll(vdir, 0o777); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(zf, module.Version{Path: path, Version: version}, dir); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(struct{ Version, Time string }{version, "2026-01-01T00:00:00Z"})
	for name, data := range map[string][]byte{version + ".mod": gomod, version + ".info": info, "list": []byte(version + "\n")} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(t.TempDir(), "modcache")
	e := append(base[:len(base):len(base)], "GOPROXY="+modproxy.URL(proxy)+","+fallback, "GOMODCACHE="+cache)
	t.Cleanup(func() { // the module cache is read-only: the go command removes it
		gocmd.Runner{Dir: dir, Env: e}.Run(context.Background(), "clean", "-modcache")
	})
	return e
}

// bizByVersion is the biz plugin requiring the framework by version only.
var bizByVersion = strings.Replace(bizPlugin, "replace example.com/framework => ../framework\n", "", 1)

// TestPublishedHost: the framework is published as v1.0.0 through a module
// proxy and its host built with -trimpath from the tag's source. A plugin
// that requires the framework by version, built by plain go build, does not
// load (its SDK compiles as a dependency, the host's as its main module);
// built with --host example.com/framework@v1.0.0 (no checkout: the source
// comes from the module cache) it loads, and its go.mod and go.sum are
// untouched.
func TestPublishedHost(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	goEnv := publish(t, host, "example.com/framework", "v1.0.0")
	hostBin := buildHost(t, host, "-trimpath")
	biz := plugin(t, filepath.Join(dir, "biz"), bizByVersion)
	r := gocmd.Runner{Dir: biz, Env: goEnv}
	if _, err := r.Run(context.Background(), "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), "get", "example.com/ident@v1.0.0", "example.com/kept@v1.0.0"); err != nil {
		t.Fatal(err)
	}
	// The failure without plugfork: aligned, same flags, still the SDK.
	if _, err := r.Run(context.Background(), "build", "-buildmode=plugin", "-trimpath", "-o", filepath.Join(dir, "plain.so"), "."); err != nil {
		t.Fatal(err)
	}
	o := testgo.Load(context.Background(), hostBin, filepath.Join(dir, "plain.so")).Outcomes
	if len(o) != 1 || o[0].Loaded || !strings.HasSuffix(o[0].Err, "different version of package example.com/framework/sdk") {
		t.Fatalf("plain go build: %+v; want the SDK to differ", o)
	}

	gomod, _ := os.ReadFile(filepath.Join(biz, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(biz, "go.sum"))
	res, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: goEnv, Host: "example.com/framework@v1.0.0", HostBinary: hostBin})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Loads() || res.Host.Version != "v1.0.0" {
		t.Fatalf("result: %+v", res)
	}
	got := loads(t, hostBin, res.Output)
	if want := "id-biz ident v1.0.0 kept v1.0.0 tag none; own ident v1.0.0, kept kept"; got[0] != want {
		t.Errorf("plugin says %q, want %q", got[0], want)
	}
	unchanged(t, biz, gomod, gosum)

	// A host built without -trimpath: its SDK's fingerprint holds the
	// directory it was built in, which the module cache's is not, and so
	// do its dependencies' (this test's module cache is not the host's).
	// Refused before anything is built, naming -trimpath as the cause and
	// the fix; no plugin is written.
	plainBin := buildHost(t, host)
	res, err = pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: goEnv, Host: "example.com/framework@v1.0.0", HostBinary: plainBin, Output: "plain-host.so"})
	if err == nil {
		t.Fatalf("against a host built without -trimpath: %+v; want it refused", res.Verdict)
	}
	for _, want := range []string{"was built without -trimpath", inspect.TrimpathWhy, "build the host with -trimpath"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("against a host built without -trimpath: %v; want it to say %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(biz, "plain-host.so")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("plain-host.so: %v; want none written", err)
	}
}

// TestPublishedHostModulesLayout: a framework forked with nested modules
// (the default layout) and published has no forks in its version; plugin
// build and plugin env with --host MODULE@VERSION say so and give the ways
// out, naming the version, never the module cache's directory; the
// plugin's go.mod and go.sum are untouched.
func TestPublishedHostModulesLayout(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	forkHost(t, host)
	goEnv := publish(t, host, "example.com/framework", "v1.0.0")
	biz := plugin(t, filepath.Join(dir, "biz"), bizByVersion)
	gomod, _ := os.ReadFile(filepath.Join(biz, "go.mod"))

	_, buildErr := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: goEnv, Host: "example.com/framework@v1.0.0"})
	_, envErr := pluginbuild.Env(context.Background(), pluginbuild.EnvConfig{Dir: biz, Env: goEnv, Host: "example.com/framework@v1.0.0"})
	cache := gocmd.Getenv(goEnv, "GOMODCACHE")
	for name, err := range map[string]error{"plugin build": buildErr, "plugin env": envErr} {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		msg := err.Error()
		for _, want := range []string{
			"--host example.com/framework@v1.0.0: the host's forks are nested modules",
			"\t" + prefix + "/example.com/ident => ./third_party/forked/example.com/ident\n",
			"plugfork fork --layout inline",
			"a checkout of the host at v1.0.0, with --host DIR",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %s\nwant it to say %q", name, msg, want)
			}
		}
		if strings.Contains(msg, cache) {
			t.Errorf("%s names the module cache's directory: %s", name, msg)
		}
	}
	unchanged(t, biz, gomod, nil)
}

// TestPublishedHostInline: the framework forked with --layout inline and
// published carries its forks; a plugin that requires it by version builds
// with --host example.com/framework@v1.0.0 and loads into the -trimpath host
// built from the tag.
func TestPublishedHostInline(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	forkInline(t, host, env.Environ(), "example.com/kept")
	goEnv := publish(t, host, "example.com/framework", "v1.0.0")
	hostBin := buildHost(t, host, "-trimpath")
	biz := plugin(t, filepath.Join(dir, "biz"), bizByVersion)
	if _, err := (gocmd.Runner{Dir: biz, Env: goEnv}).Run(context.Background(), "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	gomod, _ := os.ReadFile(filepath.Join(biz, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(biz, "go.sum"))
	res, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: goEnv, Host: "example.com/framework@v1.0.0", HostBinary: hostBin})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Loads() || res.Host.Forks == 0 {
		t.Fatalf("result: %+v", res)
	}
	got := loads(t, hostBin, res.Output)
	if want := "id-biz ident v1.0.0 kept v1.0.0 tag none; own ident v1.2.0, kept kept"; got[0] != want {
		t.Errorf("plugin says %q, want %q", got[0], want)
	}
	unchanged(t, biz, gomod, gosum)
}

// forkInline forks host with the inline layout in the go environment
// goEnv, keeping keep shared.
func forkInline(t *testing.T, host string, goEnv []string, keep ...string) {
	t.Helper()
	if _, err := fork.Fork(context.Background(), fork.Config{Dir: host, Env: goEnv, Keep: keep, Layout: fork.LayoutInline}); err != nil {
		t.Fatal(err)
	}
}

// unchanged fails the test if the plugin's go.mod or go.sum (nil: not
// checked) differ from what they were.
func unchanged(t *testing.T, biz string, gomod, gosum []byte) {
	t.Helper()
	if g, _ := os.ReadFile(filepath.Join(biz, "go.mod")); string(g) != string(gomod) {
		t.Errorf("go.mod changed:\n%s", g)
	}
	if gosum == nil {
		return
	}
	if g, _ := os.ReadFile(filepath.Join(biz, "go.sum")); string(g) != string(gosum) {
		t.Errorf("go.sum changed")
	}
}
