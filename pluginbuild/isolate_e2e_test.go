package pluginbuild_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
)

// loaderHost writes a host module that links no third-party package, with
// the loader main in cmd/host, and builds it; it returns the module's
// directory and the binary.
func loaderHost(t *testing.T, dir string) (string, string) {
	t.Helper()
	host := plugin(t, filepath.Join(dir, "host"), `
-- go.mod --
module example.com/loaderhost

go 1.22
-- cmd/host/doc.go --
// Command host loads plugins.
package main
`)
	testgo.WriteLoader(t, filepath.Join(host, "cmd", "host"))
	return host, buildHost(t, host)
}

// widgetPlugin writes a plugin module name that links example.com/widget
// at version and says which copy of it it sees, and tidies it.
func widgetPlugin(t *testing.T, dir, name, version string) string {
	t.Helper()
	p := plugin(t, filepath.Join(dir, name), fmt.Sprintf(`
-- go.mod --
module example.com/%s

go 1.22

require example.com/widget %s
-- main.go --
package main

import (
	"fmt"

	"example.com/widget"
)

// Run says which widget it links, and where that copy's state is.
func Run() string {
	widget.State++
	return fmt.Sprintf("%s: widget %%s state %%d at %%s", widget.Version(), widget.State, widget.Addr())
}
`, name, version, name))
	env.Go(t, p, "mod", "tidy")
	return p
}

// outcomes loads plugins into host in one process and returns each
// plugin's Run output or its load error.
func outcomes(t *testing.T, host string, plugins ...string) []string {
	t.Helper()
	res := testgo.Load(context.Background(), host, plugins...)
	if len(res.Outcomes) != len(plugins) {
		t.Fatalf("loading %v: %v\nstdout:\n%s\nstderr:\n%s", plugins, res.Err, res.Stdout, res.Stderr)
	}
	var out []string
	for _, o := range res.Outcomes {
		if o.Loaded {
			out = append(out, "ok "+o.Output)
		} else {
			out = append(out, "error "+o.Err)
		}
	}
	return out
}

// predicted returns inspect's verdict on each plugin loaded in order.
func predicted(t *testing.T, host string, plugins ...string) []bool {
	t.Helper()
	rep, err := inspect.Check(host, plugins...)
	if err != nil {
		t.Fatal(err)
	}
	var out []bool
	for _, v := range rep.Plugins {
		out = append(out, v.Loads())
	}
	return out
}

// TestIsolatePair: two plugins linking example.com/widget at v1.0.0 and
// v1.1.0, into a host that links neither. Built plain, the second to load
// fails, whichever it is, as inspect predicts; built --isolate, both load
// in both orders, each with its own version. Two isolated plugins on the
// same version keep separate state.
func TestIsolatePair(t *testing.T) {
	dir := t.TempDir()
	host, hostBin := loaderHost(t, dir)
	alpha := widgetPlugin(t, dir, "alpha", "v1.0.0")
	beta := widgetPlugin(t, dir, "beta", "v1.1.0")
	gamma := widgetPlugin(t, dir, "gamma", "v1.1.0")

	plainA := env.BuildPlugin(t, alpha, filepath.Join(dir, "plain-alpha.so"))
	plainB := env.BuildPlugin(t, beta, filepath.Join(dir, "plain-beta.so"))
	for _, order := range [][]string{{plainA, plainB}, {plainB, plainA}} {
		got := outcomes(t, hostBin, order...)
		if !strings.HasPrefix(got[0], "ok ") || !strings.Contains(got[1], "plugin was built with a different version of package example.com/widget") {
			t.Errorf("plain %v: %q; want the second to fail on example.com/widget", order, got)
		}
		if p := predicted(t, hostBin, order...); !p[0] || p[1] {
			t.Errorf("plain %v: inspect predicts loads %v, want [true false]", order, p)
		}
	}

	isolated := func(p, out string) (string, *pluginbuild.Result) {
		res := build(t, pluginbuild.Config{Dir: p, Host: host, HostBinary: hostBin, Isolate: true, Output: out})
		if !res.Loads() || res.Isolated == nil {
			t.Fatalf("isolated build of %s: %+v", p, res)
		}
		return res.Output, res
	}
	isoA, resA := isolated(alpha, filepath.Join(dir, "iso-alpha.so"))
	isoB, _ := isolated(beta, filepath.Join(dir, "iso-beta.so"))
	isoC, _ := isolated(gamma, filepath.Join(dir, "iso-gamma.so"))

	iso := resA.Isolated
	if !strings.HasPrefix(iso.PluginPath, pluginbuild.IsolatedRoot+"/"+iso.ID+"/") || len(iso.Copies) != 2 ||
		iso.Copies[0].Module != "example.com/alpha" || iso.Copies[1].Module != "example.com/widget" || iso.Copies[1].Version != "v1.0.0" ||
		iso.Copies[1].Path != pluginbuild.IsolatedRoot+"/"+iso.DepsID+"/example.com/widget" {
		t.Errorf("alpha's isolation: %+v", iso)
	}

	for _, order := range [][]string{{isoA, isoB}, {isoB, isoA}} {
		if p := predicted(t, hostBin, order...); !p[0] || !p[1] {
			t.Errorf("isolated %v: inspect predicts loads %v, want both", order, p)
		}
		got := outcomes(t, hostBin, order...)
		for _, o := range got {
			if !strings.HasPrefix(o, "ok ") {
				t.Errorf("isolated %v: %q; want both to load", order, got)
			}
		}
	}
	got := outcomes(t, hostBin, isoA, isoB)
	if !strings.Contains(got[0], "alpha: widget v1.0.0 state 1") || !strings.Contains(got[1], "beta: widget v1.1.0 state 1") {
		t.Errorf("isolated alpha, beta: %q; want each its own version", got)
	}

	// Same version: plain, they share the widget's state; isolated, not.
	plainC := env.BuildPlugin(t, gamma, filepath.Join(dir, "plain-gamma.so"))
	got = outcomes(t, hostBin, plainB, plainC)
	if !strings.Contains(got[1], "state 2") {
		t.Errorf("plain beta, gamma: %q; want gamma to see beta's state (shared)", got)
	}
	got = outcomes(t, hostBin, isoB, isoC)
	if !strings.Contains(got[0], "state 1 at") || !strings.Contains(got[1], "gamma: widget v1.1.0 state 1 at") || addr(got[0]) == addr(got[1]) {
		t.Errorf("isolated beta, gamma: %q; want separate states", got)
	}
}

// addr returns the address a widget plugin's output ends with.
func addr(out string) string { return out[strings.LastIndex(out, " ")+1:] }

// TestIsolateReload: builds of one plugin module load into one process
// beside each other when its code or its dependency versions changed;
// rebuilding unchanged sources gives the same bytes; an edit of the
// plugin's own code leaves its dependencies' private paths as they were.
func TestIsolateReload(t *testing.T) {
	dir := t.TempDir()
	host, hostBin := loaderHost(t, dir)
	alpha := widgetPlugin(t, dir, "alpha", "v1.0.0")
	iso := func(out string) (string, *pluginbuild.Isolation) {
		res := build(t, pluginbuild.Config{Dir: alpha, Host: host, HostBinary: hostBin, Isolate: true, Output: filepath.Join(dir, out)})
		if !res.Loads() || res.Isolated == nil {
			t.Fatalf("isolated build %s: %+v", out, res)
		}
		return res.Output, res.Isolated
	}
	v1, iso1 := iso("v1.so")
	again, isoAgain := iso("again.so")
	if a, b := readFile(t, v1), readFile(t, again); a != b || iso1.Copies[1] != isoAgain.Copies[1] || iso1.ID != isoAgain.ID {
		t.Errorf("rebuilding unchanged sources: the plugins differ (%d, %d bytes) or the ids do (%+v, %+v)", len(a), len(b), iso1, isoAgain)
	}

	// An edit of the plugin's own code: a new plugin path, the same
	// dependencies' paths.
	writeFile(t, filepath.Join(alpha, "edit.go"), "package main\n\n// Edited marks the second build.\nvar Edited = true\n")
	v2, iso2 := iso("v2.so")
	if iso2.ID == iso1.ID || iso2.PluginPath == iso1.PluginPath || iso2.DepsID != iso1.DepsID {
		t.Errorf("after an edit of the plugin's code: ids %s/%s, then %s/%s; want a new own id, the same deps id", iso1.ID, iso1.DepsID, iso2.ID, iso2.DepsID)
	}
	// Another dependency version: new ids for both.
	env.Go(t, alpha, "get", "example.com/widget@v1.1.0")
	v3, iso3 := iso("v3.so")
	if iso3.DepsID == iso2.DepsID || iso3.ID == iso2.ID || iso3.Copies[1].Version != "v1.1.0" {
		t.Errorf("after moving to widget v1.1.0: %+v; want new ids", iso3)
	}
	got := outcomes(t, hostBin, v1, v2, v3)
	want := []string{"alpha: widget v1.0.0 state 1", "alpha: widget v1.0.0 state 2", "alpha: widget v1.1.0 state 1"}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("loading three builds of alpha: %q; want %q", got, want)
			break
		}
	}
	// The same build twice: the second is the same plugin.
	if got := outcomes(t, hostBin, v1, again); !strings.Contains(got[1], "plugin already loaded") {
		t.Errorf("the same build twice: %q; want plugin already loaded", got)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o666); err != nil {
		t.Fatal(err)
	}
}

// typedHost is a host main that asserts a plugin's symbol Make to the
// SDK's func(string) sdk.Request: it succeeds only when the plugin shares
// the SDK's types with the host.
const typedHost = `package main

import (
	"fmt"
	"os"
	"plugin"

	"example.com/framework/sdk"
)

func main() {
	for i, path := range os.Args[1:] {
		p, err := plugin.Open(path)
		if err != nil {
			fmt.Printf("plugfork-load %d error %q\n", i, err.Error())
			continue
		}
		sym, err := p.Lookup("Make")
		if err != nil {
			fmt.Printf("plugfork-load %d error %q\n", i, err.Error())
			continue
		}
		mk, ok := sym.(func(string) sdk.Request)
		if !ok {
			fmt.Printf("plugfork-load %d error %q\n", i, fmt.Sprintf("Make is %T, not func(string) sdk.Request", sym))
			continue
		}
		fmt.Printf("plugfork-load %d ok %q\n", i, sdk.Describe(mk("x")))
	}
}
`

// TestIsolateSDK: two plugins that import a forked host's SDK and link
// example.com/ident at their own versions (the host links its fork),
// built isolated, both load, in both orders, and the host's assertion of
// their symbols to the SDK's types succeeds: the SDK, a host package,
// stays shared.
func TestIsolateSDK(t *testing.T) {
	dir := t.TempDir()
	host := framework(t, dir, "framework")
	if err := os.MkdirAll(filepath.Join(host, "cmd", "typed"), 0o777); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(host, "cmd", "typed", "main.go"), typedHost)
	mk := "\n// Make makes a request with the SDK.\nfunc Make(s string) sdk.Request { return sdk.NewRequest(s + \" \" + ident.Version) }\n"
	biz := plugin(t, filepath.Join(dir, "biz"), bizPlugin+mk)
	env.Go(t, biz, "mod", "tidy")
	old := plugin(t, filepath.Join(dir, "old"), strings.NewReplacer("example.com/biz", "example.com/old", "example.com/ident v1.2.0", "example.com/ident v1.0.0").Replace(bizPlugin)+mk)
	env.Go(t, old, "mod", "tidy")
	forkHost(t, host)
	hostBin := env.BuildHost(t, filepath.Join(host, "cmd", "typed"), filepath.Join(dir, "typed.bin"))

	var sos []string
	for _, p := range []string{biz, old} {
		res := build(t, pluginbuild.Config{Dir: p, Host: host, HostBinary: hostBin, Isolate: true})
		if !res.Loads() || res.Isolated == nil {
			t.Fatalf("isolated build of %s: %+v", p, res)
		}
		sos = append(sos, res.Output)
	}
	for _, order := range [][]string{{sos[0], sos[1]}, {sos[1], sos[0]}} {
		got := outcomes(t, hostBin, order...)
		for i, o := range got {
			want := "ok id-x v1.2.0 ident v1.0.0 kept v1.0.0 tag none"
			if strings.Contains(order[i], "old") {
				want = "ok id-x v1.0.0 ident v1.0.0 kept v1.0.0 tag none"
			}
			if o != want {
				t.Errorf("isolated %v: %q; want %q", order, got, want)
			}
		}
	}
}

// TestIsolateHazard: two isolated plugins that each link github.com/lib/pq,
// which registers "postgres" in database/sql at init. Their private copies
// are two packages, so the second panics in plugin.Open: plugin build
// predicts it with --also and writes no plugin, and the real load panics
// as predicted.
func TestIsolateHazard(t *testing.T) {
	dir := t.TempDir()
	host, hostBin := loaderHost(t, dir)
	var mods []string
	for _, name := range []string{"one", "two"} {
		p := plugin(t, filepath.Join(dir, name), fmt.Sprintf(`
-- go.mod --
module example.com/%s

go 1.22

require github.com/lib/pq v1.0.0
-- main.go --
package main

import _ "github.com/lib/pq"

func Run() string { return "%s" }
`, name, name))
		env.Go(t, p, "mod", "tidy")
		mods = append(mods, p)
	}
	one := build(t, pluginbuild.Config{Dir: mods[0], Host: host, HostBinary: hostBin, Isolate: true}).Output
	out := filepath.Join(dir, "two.so")
	res := build(t, pluginbuild.Config{Dir: mods[1], Host: host, HostBinary: hostBin, Isolate: true, Also: []string{one}, Output: out})
	if res.Loads() || res.Output != "" || res.Verdict.Panic == nil || !strings.Contains(res.Verdict.Panic.Text, "sql: Register called twice for driver postgres") {
		t.Fatalf("two, isolated, after one: %+v; want a predicted panic and no plugin", res.Verdict)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("%s written", out)
	}
	two := build(t, pluginbuild.Config{Dir: mods[1], Host: host, HostBinary: hostBin, Isolate: true, Output: out}).Output
	r := testgo.Load(context.Background(), hostBin, one, two)
	if r.Err == nil || !strings.Contains(r.Stderr, "sql: Register called twice for driver postgres") {
		t.Errorf("loading one, two: %v\n%s\n%s; want the predicted panic", r.Err, r.Stdout, r.Stderr)
	}
}

// TestIsolateCgo: a plugin whose private copy uses cgo, with headers in a
// directory that is no Go package, builds isolated and loads; the result
// says that the copy's C symbols keep their names.
func TestIsolateCgo(t *testing.T) {
	dir := t.TempDir()
	host, hostBin := loaderHost(t, dir)
	p := plugin(t, filepath.Join(dir, "c"), `
-- go.mod --
module example.com/c

go 1.22

require example.com/cgolib v1.0.0
-- main.go --
package main

import (
	"strconv"

	"example.com/cgolib"
)

func Run() string { return strconv.Itoa(cgolib.Answer()) }
`)
	env.Go(t, p, "mod", "tidy")
	res := build(t, pluginbuild.Config{Dir: p, Host: host, HostBinary: hostBin, Isolate: true})
	if !res.Loads() || !slices.Equal(res.Isolated.Cgo, []string{"example.com/cgolib"}) || !slices.ContainsFunc(res.Notes, func(n string) bool {
		return strings.Contains(n, "example.com/cgolib: their C symbols keep their names")
	}) {
		t.Fatalf("result: %+v, notes %q", res.Isolated, res.Notes)
	}
	if got := outcomes(t, hostBin, res.Output); got[0] != "ok 42" {
		t.Errorf("loading: %q", got)
	}
}

// TestIsolateUserWorkspace: a module of the user's own go.work that the
// plugin links (a library checked out beside it) gets a private copy too,
// with its source in the dependencies' id, as it has no version.
func TestIsolateUserWorkspace(t *testing.T) {
	dir := t.TempDir()
	host, hostBin := loaderHost(t, dir)
	p := plugin(t, filepath.Join(dir, "ws"), `
-- go.work --
go 1.22

use (
	./alpha
	./lib
)
-- lib/go.mod --
module example.com/lib

go 1.22
-- lib/lib.go --
package lib

// Name is the library's.
func Name() string { return "lib" }
-- alpha/go.mod --
module example.com/alpha

go 1.22
-- alpha/main.go --
package main

import "example.com/lib"

func Run() string { return "alpha on " + lib.Name() }
`)
	cfg := pluginbuild.Config{Dir: filepath.Join(p, "alpha"), Host: host, HostBinary: hostBin, Isolate: true}
	cfg.Env = append(env.Environ(), "GOWORK="+filepath.Join(p, "go.work"), "GOFLAGS=")
	res, err := pluginbuild.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	iso := res.Isolated
	if len(iso.Copies) != 2 || iso.Copies[1].Module != "example.com/lib" || iso.Copies[1].Path != pluginbuild.IsolatedRoot+"/"+iso.DepsID+"/example.com/lib" {
		t.Fatalf("copies: %+v", iso.Copies)
	}
	if got := outcomes(t, hostBin, res.Output); got[0] != "ok alpha on lib" {
		t.Errorf("loading: %q", got)
	}
	// An edit of the library changes the dependencies' id.
	writeFile(t, filepath.Join(p, "lib", "lib.go"), "package lib\n\n// Name is the library's.\nfunc Name() string { return \"lib2\" }\n")
	res2, err := pluginbuild.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Isolated.DepsID == iso.DepsID {
		t.Errorf("the library changed and the dependencies' id did not: %s", iso.DepsID)
	}
}

// TestIsolateNested: a module nested in another (example.com/nest/sub in
// example.com/nest), both private, gets a copy of its own.
func TestIsolateNested(t *testing.T) {
	dir := t.TempDir()
	host, hostBin := loaderHost(t, dir)
	p := plugin(t, filepath.Join(dir, "n"), `
-- go.mod --
module example.com/n

go 1.22

require example.com/nest v1.0.0
-- main.go --
package main

import "example.com/nest"

func Run() string { return nest.Name() }
`)
	env.Go(t, p, "mod", "tidy")
	res := build(t, pluginbuild.Config{Dir: p, Host: host, HostBinary: hostBin, Isolate: true})
	var mods []string
	for _, c := range res.Isolated.Copies {
		mods = append(mods, c.Module+" "+c.Version)
	}
	if want := []string{"example.com/n ", "example.com/nest v1.0.0", "example.com/nest/sub v1.0.0"}; !slices.Equal(mods, want) {
		t.Errorf("copies %q, want %q", mods, want)
	}
	if got := outcomes(t, hostBin, res.Output); got[0] != "ok nest/sub" {
		t.Errorf("loading: %q", got)
	}
}
