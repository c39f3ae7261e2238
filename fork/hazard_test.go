package fork_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
	"github.com/rogpeppe/go-internal/txtar"
)

// hazardPair writes a host that imports pkg (of module mod at v1.0.0),
// with the loader main, and a plugin that imports it too, and tidies both.
func hazardPair(t *testing.T, mod, pkg string, extra ...string) (dir, host, plugin string) {
	t.Helper()
	dir = t.TempDir()
	req := "require " + mod + " v1.0.0\n" + strings.Join(extra, "\n")
	ar := txtar.Parse([]byte(`
-- host/go.mod --
module example.com/host

go 1.22

` + req + `
-- host/deps.go --
package main

import _ "` + pkg + `"
-- plugin/go.mod --
module example.com/plugin

go 1.22

` + req + `
-- plugin/plugin.go --
package main

import _ "` + pkg + `"

func Run() string { return "loaded" }
`))
	if err := testgo.Extract(ar, dir, ""); err != nil {
		t.Fatal(err)
	}
	host, plugin = filepath.Join(dir, "host"), filepath.Join(dir, "plugin")
	testgo.WriteLoader(t, host)
	env.Go(t, host, "mod", "tidy")
	env.Go(t, plugin, "mod", "tidy")
	return dir, host, plugin
}

func readBinary(t *testing.T, path string) *inspect.Binary {
	t.Helper()
	b, err := inspect.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// predict returns inspect's verdicts on loading plugins into host, knowing
// the host's lock.
func predict(t *testing.T, host, hostDir string, plugins ...string) []*inspect.Verdict {
	t.Helper()
	hz, err := inspect.ReadLock(filepath.Join(hostDir, fork.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	h, err := inspect.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	var ps []*inspect.Binary
	for _, p := range plugins {
		b, err := inspect.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, b)
	}
	rep, err := inspect.CheckWith(hz, h, ps...)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Plugins
}

// panicRE turns a predicted panic text into a pattern of what the real
// host prints: the runtime indents the lines of a panic's value after the
// first, and "..." stands for what inspect cannot know (source positions).
func panicRE(text string) *regexp.Regexp {
	printed := "panic: " + strings.ReplaceAll(text, "\n", "\n\t")
	return regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(printed), `\.\.\.`, `.*`))
}

// mustPanic checks that inspect predicts the last plugin panics with the
// text the real host then dies with.
func mustPanic(t *testing.T, hostDir, host string, plugins ...string) *inspect.Verdict {
	t.Helper()
	vs := predict(t, host, hostDir, plugins...)
	v := vs[len(vs)-1]
	if v.Outcome != inspect.OutcomePanics || v.Panic == nil {
		t.Fatalf("inspect: %s %+v; want it to predict a panic", v.Outcome, v)
	}
	for _, early := range vs[:len(vs)-1] {
		if !early.Loads() {
			t.Fatalf("inspect: %s %s before the panic", early.Plugin.Path, early.Outcome)
		}
	}
	res := testgo.Load(context.Background(), host, plugins...)
	if res.Err == nil || !panicRE(v.Panic.Text).MatchString(res.Stderr) {
		t.Fatalf("the real host: %v\nstderr:\n%s\nwant the panic inspect predicted:\n%s", res.Err, res.Stderr, v.Panic.Text)
	}
	if len(res.Outcomes) != len(plugins)-1 {
		t.Fatalf("the real host loaded %d plugins before the panic, want %d", len(res.Outcomes), len(plugins)-1)
	}
	return v
}

// mustLoad checks that inspect predicts every plugin loads, and that they do.
func mustLoad(t *testing.T, hostDir, host string, plugins ...string) {
	t.Helper()
	for _, v := range predict(t, host, hostDir, plugins...) {
		if !v.Loads() {
			t.Fatalf("inspect: %s %s: %+v", v.Plugin.Path, v.Outcome, v.Causes)
		}
	}
	res := testgo.Load(context.Background(), host, plugins...)
	if res.Err != nil || len(res.Outcomes) != len(plugins) {
		t.Fatalf("the real host: %v\nstdout:\n%s\nstderr:\n%s", res.Err, res.Stdout, res.Stderr)
	}
	for _, o := range res.Outcomes {
		if !o.Loaded {
			t.Fatalf("%s does not load: %s", o.Plugin, o.Err)
		}
	}
}

func forkWith(t *testing.T, dir string, cfg fork.Config) *fork.Result {
	t.Helper()
	cfg.Dir, cfg.Env = dir, env.Environ()
	if cfg.Prefix == "" {
		cfg.Prefix = "gitlab.example.com/workflow"
	}
	res, err := fork.Fork(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// remedy returns the remedy of the given kind fork offers for the hazards
// of pkg.
func remedy(t *testing.T, res *fork.Result, pkg string, kind fork.RemedyKind) fork.Remedy {
	t.Helper()
	for _, h := range res.Hazards {
		if h.Package == pkg {
			for _, r := range h.Remedies {
				if r.Kind == kind {
					return r
				}
			}
		}
	}
	t.Fatalf("no %s remedy for %s in %+v", kind, pkg, res.Hazards)
	return fork.Remedy{}
}

// TestHazardsPredicted: for each kind of init-time registration, with real
// binaries, inspect predicts the panic two copies cause, its text as the
// real host dies with it, and the remedy fork offers, applied, makes the
// plugin load.
func TestHazardsPredicted(t *testing.T) {
	keepRemedy := func(t *testing.T, dir, host, plugin, pkg string, res *fork.Result) {
		r := remedy(t, res, pkg, fork.RemedyKeep)
		keep := strings.TrimPrefix(r.Do, "plugfork fork --keep ")
		forkWith(t, host, fork.Config{Keep: []string{keep}, KeepSet: true})
		bin := env.BuildHost(t, host, filepath.Join(dir, "host-kept"))
		b, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: plugin, Env: env.Environ(), Host: host, HostBinary: bin, Output: "kept.so"})
		if err != nil {
			t.Fatal(err)
		}
		mustLoad(t, host, bin, b.Output)
	}
	for _, tt := range []struct {
		name, mod, pkg string
		panic          string // a fragment of the predicted panic
		extra          []string
		keep           []string
		remedy         func(t *testing.T, dir, host, plugin, pkg string, res *fork.Result)
	}{
		{name: "sql", mod: "example.com/pqlike", pkg: "example.com/pqlike", panic: "sql: Register called twice for driver pqlike", remedy: keepRemedy},
		{name: "sql, -X", mod: "example.com/vardriver", pkg: "example.com/vardriver", panic: "sql: Register called twice for driver vardriver",
			remedy: func(t *testing.T, dir, host, plugin, pkg string, res *fork.Result) {
				r := remedy(t, res, pkg, fork.RemedyLdflags)
				flag := strings.TrimPrefix(r.Do, "build the host with ")
				bin := env.BuildHost(t, host, filepath.Join(dir, "host-x"), flag)
				mustLoad(t, host, bin, filepath.Join(dir, "p.so"))
			}},
		{name: "sql, a module's root package with a dependency", mod: "example.com/widgetdriver", pkg: "example.com/widgetdriver", panic: "sql: Register called twice for driver widgetdriver",
			remedy: func(t *testing.T, dir, host, plugin, pkg string, res *fork.Result) {
				// --keep example.com/widgetdriver names the module, whose
				// root package imports widget, which nobody kept: with other
				// packages of the module shared, it would stay forked. The
				// remedy names the packages, which always shares it.
				r := remedy(t, res, pkg, fork.RemedyKeep)
				if r.Do != "plugfork fork --keep example.com/widgetdriver/..." || !slices.Equal(r.Pins, []string{"example.com/widget@v1.0.0", "example.com/widgetdriver@v1.0.0"}) {
					t.Errorf("keep remedy %+v", r)
				}
				keepRemedy(t, dir, host, plugin, pkg, res)
			}},
		{name: "http self-check", mod: "example.com/tracelike", pkg: "example.com/tracelike", panic: "/debug/tracelike is already registered. You may have two independent copies", remedy: keepRemedy},
		{name: "flag", mod: "example.com/flaglib", pkg: "example.com/flaglib", panic: "flag redefined: fixture-level", remedy: keepRemedy},
		{name: "expvar", mod: "example.com/expvarlib", pkg: "example.com/expvarlib", panic: "Reuse of exported var name: fixture-hits", remedy: keepRemedy},
		{name: "protobuf, shared runtime", mod: "example.com/genpb", pkg: "example.com/genpb", keep: []string{"google.golang.org/protobuf"},
			panic: `proto: file "gen/greet.proto" is already registered` + "\n\tpreviously from: \"gitlab.example.com/workflow/example.com/genpb\"\n\tcurrently from:  \"example.com/genpb\"",
			remedy: func(t *testing.T, dir, host, plugin, pkg string, res *fork.Result) {
				r := remedy(t, res, pkg, fork.RemedyLdflags)
				flag := strings.TrimPrefix(r.Do, "build the host with ")
				bin := env.BuildHost(t, host, filepath.Join(dir, "host-warn"), flag)
				mustLoad(t, host, bin, filepath.Join(dir, "p.so"))
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir, host, plugin := hazardPair(t, tt.mod, tt.pkg, tt.extra...)
			res := forkWith(t, host, fork.Config{Keep: tt.keep})
			p := env.BuildPlugin(t, plugin, filepath.Join(dir, "p.so"))
			bin := env.BuildHost(t, host, filepath.Join(dir, "host.bin"))
			v := mustPanic(t, host, bin, p)
			if !strings.Contains(v.Panic.Text, tt.panic) {
				t.Errorf("predicted panic %q, want it to say %q", v.Panic.Text, tt.panic)
			}
			tt.remedy(t, dir, host, plugin, tt.pkg, res)
		})
	}
}

// TestHazardPluginAgainstPlugin: the host does not link its fork of a
// driver, but its SDK package does; a first plugin, built against the SDK,
// links the fork, and a second links the original: the second panics
// against the first, as inspect predicts in load order. Kept shared, both
// load.
func TestHazardPluginAgainstPlugin(t *testing.T) {
	dir := t.TempDir()
	ar := txtar.Parse([]byte(`
-- host/go.mod --
module example.com/host

go 1.22

require example.com/pqlike v1.0.0
-- host/sdk/db/db.go --
package db

import "example.com/pqlike"

// Driver is the SDK's database driver.
const Driver = pqlike.Name
-- first/go.mod --
module example.com/first

go 1.22

require example.com/host v0.0.0

replace example.com/host => ../host
-- first/first.go --
package main

import "example.com/host/sdk/db"

func Run() string { return db.Driver }
-- second/go.mod --
module example.com/second

go 1.22

require example.com/pqlike v1.0.0
-- second/second.go --
package main

import _ "example.com/pqlike"

func Run() string { return "second" }
`))
	if err := testgo.Extract(ar, dir, ""); err != nil {
		t.Fatal(err)
	}
	host, first, second := filepath.Join(dir, "host"), filepath.Join(dir, "first"), filepath.Join(dir, "second")
	testgo.WriteLoader(t, host)
	for _, d := range []string{host, first, second} {
		env.Go(t, d, "mod", "tidy")
	}
	forkWith(t, host, fork.Config{})
	bin := env.BuildHost(t, host, filepath.Join(dir, "host.bin"))
	build := func(dir, out string) string {
		b, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: dir, Env: env.Environ(), Host: host, HostBinary: bin, Output: out})
		if err != nil {
			t.Fatal(err)
		}
		if !b.Loads() {
			t.Fatalf("%s alone: %+v", dir, b.Verdict)
		}
		return b.Output
	}
	p1, p2 := build(first, "first.so"), build(second, "second.so")
	v := mustPanic(t, host, bin, p1, p2)
	if v.Panic.Against != p1 || v.Panic.Text != "sql: Register called twice for driver pqlike" {
		t.Errorf("panic %+v; want against %s", v.Panic, p1)
	}
	// plugin build, given the first with --also, refuses the second.
	b, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: second, Env: env.Environ(), Host: host, HostBinary: bin, Also: []string{p1}, Output: "second2.so"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Loads() || b.Verdict.Outcome != inspect.OutcomePanics {
		t.Errorf("plugin build --also: %+v", b.Verdict)
	}
	if _, err := os.Stat(filepath.Join(second, "second2.so")); !os.IsNotExist(err) {
		t.Errorf("a plugin predicted to panic was written")
	}

	forkWith(t, host, fork.Config{Keep: []string{"example.com/pqlike"}, KeepSet: true})
	bin = env.BuildHost(t, host, filepath.Join(dir, "host-kept"))
	mustLoad(t, host, bin, build(first, "first-kept.so"), build(second, "second-kept.so"))
}
