package load

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
)

// mod is a module whose main package imports a/b through a (so b comes
// before a, and a before main), with a package that imports nothing that
// exists, a package built only with the tag extra, and a broken go.mod
// beside it.
const mod = `
-- go.mod --
module example.com/m

go 1.22
-- main.go --
package main

import _ "example.com/m/a"

func main() {}
-- a/a.go --
package a

import _ "example.com/m/a/b"
-- a/b/b.go --
package b
-- a/extra.go --
//go:build extra

package a

import _ "example.com/m/tagged"
-- tagged/tagged.go --
package tagged
-- missing/missing.go --
package missing

import _ "example.com/nosuch/pkg"
-- bad/go.mod --
module example.com/bad

go 1.22

require nonsense
`

func setup(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	if err := testgo.Extract(txtar.Parse([]byte(mod)), dir, ""); err != nil {
		t.Fatal(err)
	}
	return dir, append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local",
		"GOPACKAGESDRIVER="+filepath.Join(dir, "nosuchdriver"))
}

func paths(t *testing.T, cfg Config, patterns ...string) []string {
	t.Helper()
	pkgs, err := Packages(context.Background(), cfg, Name|Deps|Files, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		out = append(out, p.PkgPath)
	}
	return out
}

// TestDepsOrder: with Deps, every package comes after what it imports,
// the matched package last, as go list -deps prints them; a user's
// GOPACKAGESDRIVER (one that does not exist here) is not asked.
func TestDepsOrder(t *testing.T) {
	dir, env := setup(t)
	got := paths(t, Config{Dir: dir, Env: env}, ".")
	if want := []string{"example.com/m/a/b", "example.com/m/a", "example.com/m"}; !slices.Equal(got, want) {
		t.Errorf("packages %q, want %q", got, want)
	}
	// Build flags reach the go command.
	got = paths(t, Config{Dir: dir, Env: env, BuildFlags: []string{"-tags=extra"}}, ".")
	if !slices.Contains(got, "example.com/m/tagged") {
		t.Errorf("with -tags=extra: %q, want example.com/m/tagged among them", got)
	}
}

// TestOverlay: a file of an overlay (as plugin build's view has one) is
// read in place of the one on disk.
func TestOverlay(t *testing.T) {
	dir, env := setup(t)
	b := filepath.Join(dir, "b.go.overlay")
	if err := os.WriteFile(b, []byte("package b\n\nimport _ \"example.com/m/tagged\"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(dir, "a", "b", "b.go"): b}})
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, ov, 0o666); err != nil {
		t.Fatal(err)
	}
	got := paths(t, Config{Dir: dir, Env: env, BuildFlags: []string{"-overlay=" + overlay}}, ".")
	if !slices.Contains(got, "example.com/m/tagged") {
		t.Errorf("with the overlay: %q, want example.com/m/tagged among them", got)
	}
}

// TestErrors: a package that does not load has its error, positioned
// as the go command positions it; Errors gives them as go list without
// -e does.
func TestErrors(t *testing.T) {
	dir, env := setup(t)
	pkgs, err := Packages(context.Background(), Config{Dir: dir, Env: env}, Name|Deps, "./missing")
	if err != nil {
		t.Fatal(err)
	}
	err = Errors(pkgs)
	if err == nil {
		t.Fatal("no error for the missing import")
	}
	if want := "missing/missing.go:3:8: cannot find module providing package example.com/nosuch/pkg"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("errors:\n%v\nwant it to begin %q", err, want)
	}
	if Errors(pkgs[:0]) != nil {
		t.Error("Errors of no packages is not nil")
	}
}

// TestCommandError: a go command that fails as a whole is a *gocmd.Error
// that quotes its standard error.
func TestCommandError(t *testing.T) {
	dir, env := setup(t)
	_, err := Packages(context.Background(), Config{Dir: filepath.Join(dir, "bad"), Env: env}, Name, ".")
	var ge *gocmd.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v (%T), want a *gocmd.Error", err, err)
	}
	if !strings.Contains(ge.Stderr, "go.mod:5") || !strings.HasPrefix(ge.Error(), "go list .: ") {
		t.Errorf("error %q; want go list .: and the go command's words on go.mod:5", ge.Error())
	}
}
