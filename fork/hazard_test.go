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
	"github.com/plugfork/plugfork/internal/hazard"
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

// TestHazardsOfLinkedFilesOnly: registrations no host links are no hazard:
// a generator beside the library (package main, //go:build generate, as
// otto/underscore's download.go), a program a tools.go imports (as
// go-winio's reaches stringer), a file built only for windows, and gob
// registrations of standard library types. fork finds none, check on the
// built host finds none, inspect with the lock predicts the plugin with
// its own copy loads, and it does.
func TestHazardsOfLinkedFilesOnly(t *testing.T) {
	dir, host, plugin := hazardPair(t, "example.com/hazardfiles", "example.com/hazardfiles")
	res := forkWith(t, host, fork.Config{})
	for _, h := range res.Hazards {
		if h.Kind == hazard.KindRegistry {
			t.Errorf("fork: hazard %s %s %q at %s", h.Registry, h.Call, h.Name, h.Pos)
		}
	}
	p := env.BuildPlugin(t, plugin, filepath.Join(dir, "p.so"))
	bin := env.BuildHost(t, host, filepath.Join(dir, "host.bin"))
	if hz := checkHazards(t, host, bin); len(hz) > 0 {
		t.Errorf("check --binary: hazards of %v", hz)
	}
	mustLoad(t, host, bin, p)
}

// checkHazards returns the packages whose hazards check reports, judged on
// the host binary bin built from hostDir.
func checkHazards(t *testing.T, hostDir, bin string) []string {
	t.Helper()
	chk, err := fork.Check(fork.CheckConfig{Dir: hostDir, Binary: readBinary(t, bin).Built()})
	if err != nil {
		t.Fatal(err)
	}
	var hazards []string
	for _, f := range chk.Findings {
		if f.Kind == fork.KindHazard {
			hazards = append(hazards, f.Path)
		}
	}
	return hazards
}

// mustPanicWithoutLock checks that inspect, knowing only its table,
// predicts that plugin panics with text in host, and that the real host
// dies of it.
func mustPanicWithoutLock(t *testing.T, host, plugin, text string) {
	t.Helper()
	rep, err := inspect.CheckBinaries(readBinary(t, host), readBinary(t, plugin))
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Plugins[0]
	if v.Outcome != inspect.OutcomePanics || v.Panic.Text != text {
		t.Fatalf("inspect without the lock: %s %+v %+v; want it to predict the panic %q", v.Outcome, v.Panic, v.Causes, text)
	}
	res := testgo.Load(context.Background(), host, plugin)
	if res.Err == nil || !panicRE(text).MatchString(res.Stderr) {
		t.Fatalf("the real host: %v\nstderr:\n%s\nwant the panic inspect predicted:\n%s", res.Err, res.Stderr, text)
	}
}

// TestHazardCopiesWithoutLock: inspect, without the host's lock, knows a
// copy of a library in its table (github.com/lib/pq, here a stand-in) under
// another path: a fork named P/github.com/lib/pq by hand, required at a
// real version with a directory replace; a module replaced by lib/pq's; and
// plugfork's own fork. Each host, with a plugin linking the original,
// panics in plugin.Open, as inspect predicts.
func TestHazardCopiesWithoutLock(t *testing.T) {
	const pq = "github.com/lib/pq"
	dir, host, plugin := hazardPair(t, pq, pq)
	p := env.BuildPlugin(t, plugin, filepath.Join(dir, "p.so"))
	src := filepath.Join(dir, "pq-src")
	env.Go(t, host, "mod", "download", "-json", pq) // into the module cache
	out := env.Go(t, host, "list", "-m", "-f", "{{.Dir}}", pq)
	copyDir(t, strings.TrimSpace(out), src)
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, host string) // rewires host to a copy
	}{
		{"a fork named P/M by hand, at a real version", func(t *testing.T, host string) {
			fork := filepath.Join(host, "third_party", pq)
			copyDir(t, src, fork)
			writeFile(t, filepath.Join(fork, "go.mod"), "module gitlab.example.com/workflow/"+pq+"\n\ngo 1.21\n")
			writeFile(t, filepath.Join(host, "deps.go"), "package main\n\nimport _ \"gitlab.example.com/workflow/"+pq+"\"\n")
			env.Go(t, host, "mod", "edit", "-droprequire="+pq, "-require=gitlab.example.com/workflow/"+pq+"@v1.0.0",
				"-replace=gitlab.example.com/workflow/"+pq+"=./third_party/"+pq)
		}},
		{"a module replaced by the library's", func(t *testing.T, host string) {
			writeFile(t, filepath.Join(host, "deps.go"), "package main\n\nimport _ \"example.com/forks/pq\"\n")
			env.Go(t, host, "mod", "edit", "-droprequire="+pq, "-require=example.com/forks/pq@v1.0.0", "-replace=example.com/forks/pq="+pq+"@v1.0.0")
		}},
		{"plugfork's fork", func(t *testing.T, host string) { forkWith(t, host, fork.Config{}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := filepath.Join(t.TempDir(), "host")
			copyDir(t, host, h)
			tt.setup(t, h)
			env.Go(t, h, "mod", "tidy")
			bin := env.BuildHost(t, h, filepath.Join(t.TempDir(), "host.bin"))
			mustPanicWithoutLock(t, bin, p, "sql: Register called twice for driver postgres")
		})
	}
}

// copyDir copies the regular files below src to dst, writable.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o777); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}
