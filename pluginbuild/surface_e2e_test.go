package pluginbuild_test

import (
	"context"
	"errors"
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

// The shared surface, end to end: a host keeps its plugin contract
// (example.com/acme/sdk) shared; what the contract uses privately
// (example.com/widget) is forked unless a type of it crosses the contract
// or the proof finds its fingerprint changed.

// contractHost writes a host that imports the contract's packages through
// report.go (which sets the loader's hostReport), with the loader main.
func contractHost(t *testing.T, dir, report string) string {
	t.Helper()
	host := filepath.Join(dir, "host")
	ar := txtar.Parse([]byte(`
-- go.mod --
module example.com/host

go 1.22

require example.com/acme/sdk v1.0.0
-- report.go --
` + report))
	if err := testgo.Extract(ar, host, ""); err != nil {
		t.Fatal(err)
	}
	testgo.WriteLoader(t, host)
	env.Go(t, host, "mod", "tidy")
	return host
}

// serveReport is a host that serves a plugin of its own through the
// contract's sdk package.
const serveReport = `package main

import (
	"example.com/acme/sdk"
	"example.com/acme/sdk/api"
)

type local struct{}

func (local) Handle(req string) string { return "host handled " + req }

var _ api.Plugin = local{}

func init() { hostReport = func() string { return sdk.Serve(local{}, "req") } }
`

// contractGoMod is the go.mod of a plugin on the contract with a newer
// widget than the host's.
const contractGoMod = `
-- go.mod --
module example.com/biz

go 1.22

require (
	example.com/acme/sdk v1.0.0
	example.com/widget v1.1.0
)
`

// contractPlugin implements the contract and serves itself through the
// contract's sdk package (its own copy: the host's is forked).
const contractPlugin = contractGoMod + `-- biz.go --
package main

import (
	"example.com/acme/sdk"
	"example.com/acme/sdk/api"
	"example.com/widget"
)

type biz struct{}

func (biz) Handle(req string) string { return "biz on widget " + widget.Version() + " " + widget.Addr() }

var Plugin api.Plugin = biz{}

func Run() string { return sdk.Serve(biz{}, "req") }
`

func forkContract(t *testing.T, host string, keep ...string) *fork.Result {
	t.Helper()
	res, err := fork.Fork(context.Background(), fork.Config{Dir: host, Env: env.Environ(), Prefix: prefix, Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// surfaceOf returns the result's surface as "package: why" lines.
func surfaceOf(res []fork.Surface) map[string]string {
	out := map[string]string{}
	for _, e := range res {
		out[e.Package] = e.Why
	}
	return out
}

var addrRE = regexp.MustCompile(`0x[0-9a-f]+`)

// TestContractPrivateDependencyForked is scenario (1): the contract kept
// (as a module, or by its api package), its sdk package using widget
// privately. A shared package's fingerprint covers every package it
// imports, so sharing sdk would share widget: sdk is forked with widget,
// api stays shared at its path, and a plugin with a newer widget, built
// with plain go build, loads into the forked host.
func TestContractPrivateDependencyForked(t *testing.T) {
	for _, tt := range []struct {
		keep      string
		names     string // why the contract's internal package is shared
		notShared []fork.NotShared
	}{
		{"example.com/acme/sdk", "kept", []fork.NotShared{{Package: "example.com/acme/sdk", Imports: "example.com/widget"}}},
		{"example.com/acme/sdk/api", "imported by example.com/acme/sdk/api", nil},
	} {
		t.Run(strings.ReplaceAll(tt.keep, "/", "_"), func(t *testing.T) {
			dir := t.TempDir()
			host := contractHost(t, dir, serveReport)
			biz := plugin(t, filepath.Join(dir, "biz"), contractPlugin)
			env.Go(t, biz, "mod", "tidy")
			plug := env.BuildPlugin(t, biz, filepath.Join(dir, "biz.so"))

			before := env.BuildHost(t, host, filepath.Join(dir, "before.bin"))
			if res := testgo.Load(context.Background(), before, plug); len(res.Outcomes) != 1 || !strings.Contains(res.Outcomes[0].Err, "plugin was built with a different version of package example.com/") {
				t.Fatalf("before the fork: %+v\n%s", res.Outcomes, res.Stderr)
			}

			res := forkContract(t, host, tt.keep)
			var forked []string
			for _, f := range res.Forks {
				forked = append(forked, f.Path)
			}
			if strings.Join(forked, " ") != "example.com/acme/sdk example.com/widget" {
				t.Fatalf("forks %v; want the contract module (its sdk package) and widget", forked)
			}
			// The internal package is shared (api imports it) and forked
			// too (the forked sdk package may import only a copy in its
			// own module).
			if got := surfaceOf(res.Surface); len(got) != 2 || got["example.com/acme/sdk/api"] != "kept" || got["example.com/acme/sdk/internal/names"] != tt.names {
				t.Fatalf("surface %v; want example.com/acme/sdk/api and its internal package", got)
			}
			if !slices.Equal(res.NotShared, tt.notShared) {
				t.Errorf("not shared %+v; want %+v", res.NotShared, tt.notShared)
			}

			after := env.BuildHost(t, host, filepath.Join(dir, "after.bin"))
			load := testgo.Load(context.Background(), after, plug)
			if load.Err != nil || len(load.Outcomes) != 1 || !load.Outcomes[0].Loaded {
				t.Fatalf("after the fork: %+v\nstdout: %s\nstderr: %s", load.Outcomes, load.Stdout, load.Stderr)
			}
			// Each side serves through its own sdk, on its own widget.
			hostAddr, out := addrRE.FindString(load.HostReport), load.Outcomes[0].Output
			if !strings.HasPrefix(load.HostReport, "host handled req (sdk on widget v1.0.0 ") || !strings.HasSuffix(load.HostReport, ")[]") ||
				!strings.HasPrefix(out, "biz on widget v1.1.0 ") || !strings.Contains(out, "(sdk on widget v1.1.0 ") || strings.Contains(out, hostAddr) {
				t.Errorf("host %q, plugin %q: want each on its own widget", load.HostReport, out)
			}
		})
	}
}

// TestContractExposesDependency is scenario (2): the contract's API
// exposes a widget type, so widget stays shared, and plugfork says why; a
// plugin that needs a newer widget is refused by plugfork plugin build
// before it is built.
func TestContractExposesDependency(t *testing.T) {
	dir := t.TempDir()
	host := contractHost(t, dir, `package main

import (
	"example.com/acme/sdk/typed"
	"example.com/widget"
)

func init() { hostReport = func() string { return typed.Describe(&widget.Widget{Name: "w"}) } }
`)
	res := forkContract(t, host, "example.com/acme/sdk/typed")
	got := surfaceOf(res.Surface)
	if got["example.com/acme/sdk/typed"] != "kept" || got["example.com/widget"] != "exposed by example.com/acme/sdk/typed.Describe" {
		t.Fatalf("surface %v; want widget exposed by example.com/acme/sdk/typed.Describe", got)
	}
	if len(res.Forks) != 0 {
		t.Fatalf("forks: %+v; want none", res.Forks)
	}
	hostBin := env.BuildHost(t, host, filepath.Join(dir, "host.bin"))
	biz := plugin(t, filepath.Join(dir, "biz"), contractGoMod+`-- biz.go --
package main

import (
	"example.com/acme/sdk/typed"
	"example.com/widget"
)

func Run() string { return typed.Describe(&widget.Widget{Name: widget.Color()}) }
`)
	env.Go(t, biz, "mod", "tidy")
	_, err := pluginbuild.Build(context.Background(), pluginbuild.Config{Dir: biz, Env: env.Environ(), Host: host, HostBinary: hostBin})
	var nn *pluginbuild.NeedsNewerError
	if !errors.As(err, &nn) || !strings.Contains(err.Error(), "example.com/widget: the host links v1.0.0, the plugin requires v1.1.0") {
		t.Fatalf("error %v; want a NeedsNewerError for example.com/widget", err)
	}
	if _, err := os.Stat(filepath.Join(biz, "biz.so")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a plugin was written: %v", err)
	}
}

// TestContractInlinableBody is scenario (3): an exported function of the
// contract that the compiler can inline calls into widget. No type of
// widget crosses the API, but the contract package imports it, so widget
// stays shared, pinned, with the reason; the fingerprints the fork proved
// are those of the host built with -trimpath, and check --binary says so;
// moving widget afterwards is caught, in go.mod and in the binary.
// (internal/surface's tests show the fingerprint itself changing.)
func TestContractInlinableBody(t *testing.T) {
	dir := t.TempDir()
	host := contractHost(t, dir, `package main

import "example.com/acme/sdk/inline"

func init() { hostReport = inline.WidgetAddr }
`)
	res := forkContract(t, host, "example.com/acme/sdk/inline")
	got := surfaceOf(res.Surface)
	if got["example.com/acme/sdk/inline"] != "kept" || got["example.com/widget"] != "imported by example.com/acme/sdk/inline" || len(got) != 2 {
		t.Fatalf("surface %v; want widget imported by example.com/acme/sdk/inline", got)
	}
	if len(res.Forks) != 0 {
		t.Fatalf("forks %+v; want none", res.Forks)
	}
	hostBin := env.BuildHost(t, host, filepath.Join(dir, "host.bin"), "-trimpath")
	if cr, err := fork.Check(checkConfig(t, host, hostBin)); err != nil || !cr.OK {
		t.Fatalf("check --binary: %+v, %v", cr, err)
	}

	env.Go(t, host, "get", "example.com/widget@v1.1.0")
	moved := env.BuildHost(t, host, filepath.Join(dir, "moved.bin"), "-trimpath")
	cr, err := fork.Check(checkConfig(t, host, moved))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, f := range cr.Findings {
		if f.Kind == fork.KindSurface {
			msgs = append(msgs, f.Pos+": "+f.Message)
		}
	}
	all := strings.Join(msgs, "\n")
	if len(msgs) != 3 || !strings.Contains(all, "go.mod:7: go.mod requires example.com/widget v1.1.0, but the shared surface was proved at v1.0.0") ||
		!strings.Contains(all, "links example.com/widget with fingerprint") || !strings.Contains(all, "links example.com/acme/sdk/inline with fingerprint") {
		t.Fatalf("check after go get: %s", strings.Join(msgs, "\n"))
	}
	// A binary for another platform than the proof's has fingerprints of
	// its own: they are not compared.
	other := checkConfig(t, host, moved)
	other.Binary.Platform = "linux/other"
	if cr, err := fork.Check(other); err != nil || len(cr.Findings) != 1 || !strings.Contains(cr.Findings[0].Message, "go.mod requires example.com/widget v1.1.0") {
		t.Fatalf("check of a binary for another platform: %+v, %v", cr, err)
	}
}

// TestHostSDKPrivateDependency is scenario (4): the host's own SDK package
// uses widget privately. widget is forked, and a plugin that imports the
// SDK, built with plugfork plugin build, loads with its own newer widget.
func TestHostSDKPrivateDependency(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "host")
	if err := testgo.Extract(txtar.Parse([]byte(`
-- go.mod --
module example.com/host

go 1.22

require example.com/widget v1.0.0
-- sdk/sdk.go --
// Package sdk is the host's own plugin SDK.
package sdk

import "example.com/widget"

// Greet greets, on the host's widget.
//
//go:noinline
func Greet(name string) string { return "hello " + name + " from widget " + widget.Version() }
-- report.go --
package main

import "example.com/host/sdk"

func init() { hostReport = func() string { return sdk.Greet("host") } }
`)), host, ""); err != nil {
		t.Fatal(err)
	}
	testgo.WriteLoader(t, host)
	env.Go(t, host, "mod", "tidy")
	res := forkContract(t, host)
	if len(res.Forks) != 1 || res.Forks[0].Path != "example.com/widget" || len(res.Surface) != 0 {
		t.Fatalf("forks %+v, surface %+v; want widget forked, nothing shared", res.Forks, res.Surface)
	}
	hostBin := env.BuildHost(t, host, filepath.Join(dir, "host.bin"))
	biz := plugin(t, filepath.Join(dir, "biz"), `
-- go.mod --
module example.com/biz

go 1.22

require (
	example.com/host v0.0.0
	example.com/widget v1.1.0
)

replace example.com/host => ../host
-- biz.go --
package main

import (
	"example.com/host/sdk"
	"example.com/widget"
)

func Run() string { return sdk.Greet("biz") + "; own widget " + widget.Color() + " " + widget.Version() }
`)
	br := build(t, pluginbuild.Config{Dir: biz, Host: host, HostBinary: hostBin})
	if !br.Loads() {
		t.Fatalf("plugin build: %+v", br.Verdict)
	}
	out := loads(t, hostBin, br.Output)
	if out[0] != "hello biz from widget v1.0.0; own widget blue v1.1.0" {
		t.Errorf("plugin said %q", out[0])
	}
}

// checkConfig returns the check of host judged against the built binary.
func checkConfig(t *testing.T, host, binary string) fork.CheckConfig {
	t.Helper()
	b, err := inspect.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	return fork.CheckConfig{Dir: host, Binary: b.Built()}
}
