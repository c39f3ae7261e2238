package typecheck

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/tools/go/packages"
)

// broken is a host with a type error in its own package, in a module it
// replaces locally (as a fork is), and in a module reached only through that
// one; a syntax error; a missing import; and a cgo package that is fine.
const broken = `
-- go.mod --
module example.com/host

go 1.22

require (
	example.com/fork v0.0.0
	example.com/deep v0.0.0
)

replace (
	example.com/fork => ./third_party/fork
	example.com/deep => ./third_party/deep
)
-- main.go --
package main

import (
	"fmt"

	"example.com/fork"
	"example.com/host/cgo"
	"example.com/host/syntax"
)

func main() { fmt.Println(fork.Value() + 1, undefinedInHost, cgo.Answer(), syntax.X) }
-- api.go --
package main

import "example.com/fork"

// Uses of the fork's API that are wrong: the errors name its types.
var (
	_ fork.Doer = 3
	_           = fork.Make(1)
	_ int       = fork.Pair[string, int]{}.Swap()
	_           = fork.Pair[string, int]{}.Missing
)
-- cgo/cgo.go --
package cgo

// int answer(void) { return 42; }
import "C"

// Answer asks C.
func Answer() int { return int(C.answer()) }
-- syntax/syntax.go --
package syntax

var X = 1 +
-- missing/missing.go --
package missing

import "example.com/nosuch/pkg"

var _ = pkg.X
-- third_party/fork/go.mod --
module example.com/fork

go 1.21

require example.com/deep v0.0.0
-- third_party/fork/fork.go --
package fork

import "example.com/deep"

// Value is wrong: a string, not an int.
func Value() int { return "fork" + deep.Name() }
-- third_party/fork/api.go --
package fork

// Pair is generic.
type Pair[K comparable, V any] struct {
	Key K
	Val V
}

// Make cannot infer V.
func Make[K comparable, V any](k K) Pair[K, V] {
	var v V
	return Pair[K, V]{k, v}
}

// Swap is a method of a generic type.
func (p Pair[K, V]) Swap() Pair[K, V] { return p }

// Doer is an interface.
type Doer interface{ Do(ctx string) error }
-- third_party/deep/go.mod --
module example.com/deep

go 1.21
-- third_party/deep/deep.go --
package deep

// Name calls what is not there.
func Name() string { return notThere() }
`

// oldCheck is the type-check plugfork made with go/packages before: every
// package of the closure parsed and checked at once, from source.
func oldCheck(t *testing.T, dir string, env []string) []Error {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{
		Dir: dir, Env: env,
		Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps | packages.NeedTypes,
	}, "./...")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Error]bool{}
	var out []Error
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			pe := Error{Msg: strings.ReplaceAll(e.Msg, dir+string(filepath.Separator), "")}
			if e.Pos != "" {
				pe.Pos = e.Pos
				if rel, err := filepath.Rel(dir, e.Pos); err == nil && !strings.HasPrefix(rel, "..") {
					pe.Pos = filepath.ToSlash(rel)
				}
			}
			if !seen[pe] {
				seen[pe] = true
				out = append(out, pe)
			}
		}
	})
	slices.SortFunc(out, func(a, b Error) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// TestSameErrorsAsBefore: the bounded check reports the errors, text and
// positions, that the go/packages check reported, on type errors in the
// host, in a fork, and in a package reached only through the fork.
func TestSameErrorsAsBefore(t *testing.T) {
	dir := t.TempDir()
	for _, f := range txtar.Parse([]byte(broken)).Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(p), 0o777)
		if err := os.WriteFile(p, f.Data, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "CGO_ENABLED=1")
	want := oldCheck(t, dir, env)
	// Every package kept as checked, and every package compacted.
	for _, compact := range []bool{false, true} {
		t.Run(fmt.Sprintf("compact=%v", compact), func(t *testing.T) {
			want := slices.Clone(want)
			if compact {
				defer func(size int) { compactSize = size }(compactSize)
				compactSize = 0
				// Positions in another package's API keep no column (see
				// compact).
				for i := range want {
					want[i].Msg = declaredAt.ReplaceAllString(want[i].Msg, "$1:1)")
				}
			}
			var progress []int
			got, err := Check(context.Background(), Config{Dir: dir, Env: env, Patterns: []string{"./..."},
				Progress: func(done, total int) { progress = append(progress, done, total) }})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("errors differ from the go/packages check:\ngot:\n\t%s\nwant:\n\t%s", join(got), join(want))
			}
			for _, w := range []string{"main.go:11:", "third_party/fork/fork.go:6:", "third_party/deep/deep.go:4:",
				"api.go:7:", "api.go:8:", "api.go:9:", "api.go:10:"} {
				if !strings.Contains(join(got), w) {
					t.Errorf("no error at %s:\n\t%s", w, join(got))
				}
			}
			if n := len(progress); n < 2 || progress[n-2] != progress[n-1] {
				t.Errorf("progress %v: want it to end with done == total", progress)
			}
		})
	}
}

var declaredAt = regexp.MustCompile(`(declared at [^ ]+:[0-9]+):[0-9]+\)`)

func join(errs []Error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.String())
	}
	return strings.Join(s, "\n\t")
}
