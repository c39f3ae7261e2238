package surface

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/rogpeppe/go-internal/txtar"
)

// views writes two hosts of the same contract module: one on
// example.com/widget, one on a fork of it under another path (as
// plugfork's rewrite leaves a package that imports it), each with the
// modules replaced by local directories, and returns runners in them.
const contract = `
-- widget/go.mod --
module example.com/widget

go 1.21
-- widget/widget.go --
package widget

import "fmt"

type Widget struct{ Name string }

var State int

func Addr() string { return fmt.Sprintf("%p", &State) }
-- sdk/go.mod --
module example.com/sdk

go 1.21
-- sdk/api/api.go --
package api

type Plugin interface{ Handle(string) string }
-- sdk/typed/typed.go --
package typed

import (
	"example.com/sdk/api"
	"example.com/widget"
)

type Request struct {
	W *widget.Widget
}

func (r *Request) Serve(p api.Plugin) string { return p.Handle(r.W.Name) }
-- sdk/private/private.go --
package private

import "example.com/widget"

// Addr is not inlinable: its body is not in the export data.
//
//go:noinline
func Addr() string { return widget.Addr() }
-- sdk/inline/inline.go --
package inline

import "example.com/widget"

// Addr is inlinable: its body, which calls widget, is in the export data.
func Addr() string { return widget.Addr() }
-- sdk/win/win_windows.go --
package win

// Console is only on windows.
type Console struct{ Handle uintptr }
-- sdk/above/above.go --
package above

import "example.com/sdk/private"

//go:noinline
func Addr() string { return private.Addr() }
-- host/go.mod --
module example.com/host

go 1.21

require (
	example.com/sdk v1.0.0
	example.com/widget v1.0.0
)

replace example.com/sdk => ../sdk

replace example.com/widget => ../widget
-- host/main.go --
package main

import (
	_ "example.com/sdk/above"
	_ "example.com/sdk/inline"
	_ "example.com/sdk/typed"
)

func main() {}
`

var contractPkgs = []string{"example.com/sdk/api", "example.com/sdk/typed", "example.com/sdk/private", "example.com/sdk/inline", "example.com/sdk/above"}

func views(t *testing.T) (upstream, forked gocmd.Runner) {
	t.Helper()
	dir := t.TempDir()
	ar := txtar.Parse([]byte(contract))
	for _, view := range []string{"upstream", "forked"} {
		for _, f := range ar.Files {
			data := string(f.Data)
			if view == "forked" && strings.HasPrefix(f.Name, "sdk/") {
				data = strings.ReplaceAll(data, `"example.com/widget"`, `"fork.example.com/example.com/widget"`)
			}
			if view == "forked" && f.Name == "widget/go.mod" {
				data = strings.Replace(data, "module example.com/widget", "module fork.example.com/example.com/widget", 1)
			}
			if view == "forked" && f.Name == "host/go.mod" {
				data = strings.ReplaceAll(data, "example.com/widget v1.0.0", "fork.example.com/example.com/widget v0.0.0")
				data = strings.ReplaceAll(data, "replace example.com/widget", "replace fork.example.com/example.com/widget")
			}
			name := filepath.Join(dir, view, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, []byte(data), 0o666); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "GOENV=off")
	return gocmd.Runner{Dir: filepath.Join(dir, "upstream", "host"), Env: env},
		gocmd.Runner{Dir: filepath.Join(dir, "forked", "host"), Env: env}
}

// TestFingerprintCoversImports is the ground truth the shared surface
// rests on: forking a package changes the fingerprint of every package
// that imports it, transitively, whether or not an inlinable body or a
// type refers to it; a package that does not import it keeps its own.
func TestFingerprintCoversImports(t *testing.T) {
	upstream, forked := views(t)
	ctx := context.Background()
	up, err := Export(ctx, upstream, contractPkgs)
	if err != nil {
		t.Fatal(err)
	}
	fk, err := Export(ctx, forked, contractPkgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range contractPkgs {
		u, f := up.Exported[p].Fingerprint, fk.Exported[p].Fingerprint
		if len(u) != 16 {
			t.Fatalf("%s: fingerprint %q", p, u)
		}
		if want := p == "example.com/sdk/api"; (u == f) != want {
			t.Errorf("%s: fingerprint upstream %s, forked %s; want them equal: %v", p, u, f, want)
		}
	}
	// The same sources, compiled again, keep their fingerprints.
	again, err := Export(ctx, upstream, contractPkgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range contractPkgs {
		if again.Exported[p].Fingerprint != up.Exported[p].Fingerprint {
			t.Errorf("%s: fingerprint %s, then %s", p, up.Exported[p].Fingerprint, again.Exported[p].Fingerprint)
		}
	}
}

// TestCompute: a kept package's API that exposes a type names the
// declaration that exposes it.
func TestCompute(t *testing.T) {
	upstream, _ := views(t)
	ex, err := Export(context.Background(), upstream, contractPkgs)
	if err != nil {
		t.Fatal(err)
	}
	reasons, err := Compute(ex.Exported, []string{"example.com/sdk/typed"}, func(p string) bool { return strings.HasPrefix(p, "example.com/") })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range reasons {
		got[r.Package] = r.Why
	}
	want := map[string]string{
		"example.com/sdk/typed": "kept",
		"example.com/widget":    "exposed by example.com/sdk/typed.Request",
		"example.com/sdk/api":   "exposed by example.com/sdk/typed.Request.Serve",
	}
	if len(got) != len(want) {
		t.Errorf("reasons %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
}

// TestExportErrors: a package that does not compile is an error naming it.
func TestExportErrors(t *testing.T) {
	upstream, _ := views(t)
	_, err := Export(context.Background(), upstream, []string{"example.com/sdk/missing"})
	if err == nil || !strings.Contains(err.Error(), "example.com/sdk/missing") {
		t.Fatalf("error %v; want one naming example.com/sdk/missing", err)
	}
}

// TestExportPlatform: a package none of whose files build on the platform
// (a windows-only one on linux) is listed as not built there, not an
// error, and the platform is the go command's.
func TestExportPlatform(t *testing.T) {
	upstream, _ := views(t)
	upstream.Env = append(upstream.Env, "GOOS=linux", "GOARCH=amd64")
	pf, err := Export(context.Background(), upstream, []string{"example.com/sdk/api", "example.com/sdk/win"})
	if err != nil {
		t.Fatal(err)
	}
	if pf.Platform != "linux/amd64" || len(pf.Unbuilt) != 1 || pf.Unbuilt[0] != "example.com/sdk/win" || len(pf.Exported) != 1 || len(pf.Exported["example.com/sdk/api"].Fingerprint) != 16 {
		t.Errorf("proof %+v; want linux/amd64, api exported, win not built", pf)
	}
}
