package rewrite

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

func testMapping(t testing.TB) *Mapping {
	t.Helper()
	m, err := NewMapping(map[string]string{
		"example.com/lib":  "gitlab.example.com/workflow/example.com/lib",
		"gopkg.in/yaml.v3": "gitlab.example.com/workflow/gopkg.in/yaml.v3",
		"foo/bar":          "gitlab.example.com/workflow/foo/bar",
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPlaceholderVersion(t *testing.T) {
	tests := []struct{ path, want string }{
		{"gitlab.example.com/workflow/example.com/lib", "v0.0.0-00010101000000-000000000000"},
		{"gitlab.example.com/workflow/example.com/mod/v2", "v2.0.0-00010101000000-000000000000"},
		{"gitlab.example.com/workflow/example.com/mod/v17", "v17.0.0-00010101000000-000000000000"},
		{"gitlab.example.com/workflow/gopkg.in/yaml.v3", "v0.0.0-00010101000000-000000000000"},
		{"gopkg.in/yaml.v3", "v3.0.0-00010101000000-000000000000"},
		{"gopkg.in/check.v1", "v1.0.0-00010101000000-000000000000"},
		{"example.com/v1", "v0.0.0-00010101000000-000000000000"},
		{"example.com/lib.v2", "v0.0.0-00010101000000-000000000000"},
	}
	for _, tt := range tests {
		got := PlaceholderVersion(tt.path)
		if got != tt.want {
			t.Errorf("PlaceholderVersion(%q) = %q, want %q", tt.path, got, tt.want)
		}
		if err := module.Check(tt.path, got); err != nil && tt.path != "example.com/v1" {
			t.Errorf("module.Check(%q, %q) = %v", tt.path, got, err)
		}
	}
}

func TestUpstreamVersion(t *testing.T) {
	tests := []struct{ path, version, want string }{
		{"gitlab.example.com/workflow/example.com/lib", "v1.4.2", "v1.4.2"},
		{"gitlab.example.com/workflow/example.com/lib", "v0.3.0", "v0.3.0"},
		{"gitlab.example.com/workflow/example.com/lib", "v0.0.0-20240101120000-0123456789ab", "v0.0.0-20240101120000-0123456789ab"},
		{"gitlab.example.com/workflow/example.com/mod/v2", "v2.1.0", "v2.1.0"},
		{"gitlab.example.com/workflow/example.com/mod/v2", "v2.1.0-rc.1", "v2.1.0-rc.1"},
		// A path ending .vN is a major version only under gopkg.in/.
		{"gitlab.example.com/workflow/gopkg.in/yaml.v3", "v3.0.1", "v0.0.0-00010101000000-000000000000"},
		{"gitlab.example.com/workflow/gopkg.in/check.v1", "v1.0.0-20201130134442-10cb98267c6c", "v1.0.0-20201130134442-10cb98267c6c"},
		{"gitlab.example.com/workflow/github.com/old/lib", "v2.3.0+incompatible", "v0.0.0-00010101000000-000000000000"},
		{"gitlab.example.com/workflow/example.com/lib", "", "v0.0.0-00010101000000-000000000000"},
	}
	for _, tt := range tests {
		got := UpstreamVersion(tt.path, tt.version)
		if got != tt.want {
			t.Errorf("UpstreamVersion(%q, %q) = %q, want %q", tt.path, tt.version, got, tt.want)
		}
		if err := module.Check(tt.path, got); err != nil {
			t.Errorf("module.Check(%q, %q) = %v", tt.path, got, err)
		}
	}
}

func TestRewriteLinkname(t *testing.T) {
	m := testMapping(t)
	tests := []struct{ in, want string }{
		{"example.com/lib.F", "gitlab.example.com/workflow/example.com/lib.F"},
		{"example.com/lib/impl.secret", "gitlab.example.com/workflow/example.com/lib/impl.secret"},
		{"example.com/lib.(*T).M", "gitlab.example.com/workflow/example.com/lib.(*T).M"},
		{"example.com/lib.G[go.shape.int]", "gitlab.example.com/workflow/example.com/lib.G[go.shape.int]"},
		{"gopkg.in/yaml%2ev3.Marshal", "gitlab.example.com/workflow/gopkg.in/yaml%2ev3.Marshal"},
		{"gopkg.in/yaml.v3.Marshal", "gitlab.example.com/workflow/gopkg.in/yaml.v3.Marshal"},
		{"gopkg.in/yaml.v3.(*Node).Decode", "gitlab.example.com/workflow/gopkg.in/yaml.v3.(*Node).Decode"},
		{"foo/bar.X", "gitlab.example.com/workflow/foo/bar.X"},
		{"foo/barbaz.X", ""},
		{"gopkg.in/yaml%2ev2.Marshal", ""},
		{"gopkg.in/yaml%zz.Marshal", ""},
		{"runtime.nanotime", ""},
		{"localname", ""},
		{".local", ""},
		{"example.com/lib", ""}, // a package path without a symbol
	}
	for _, tt := range tests {
		got, ok := rewriteLinkname(tt.in, m)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("rewriteLinkname(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestPathToPrefix(t *testing.T) {
	tests := []struct{ path, prefix string }{
		{"example.com/lib", "example.com/lib"},
		{"gopkg.in/yaml.v3", "gopkg.in/yaml%2ev3"},
		{"a.b/c.d/e.f", "a.b/c.d/e%2ef"},
		{"x%y\"z", "x%25y%22z"},
		{"nodots", "nodots"},
	}
	for _, tt := range tests {
		if got := pathToPrefix(tt.path); got != tt.prefix {
			t.Errorf("pathToPrefix(%q) = %q, want %q", tt.path, got, tt.prefix)
		}
		if got, ok := prefixToPath(tt.prefix); !ok || got != tt.path {
			t.Errorf("prefixToPath(%q) = %q, %v; want %q", tt.prefix, got, ok, tt.path)
		}
	}
	for _, bad := range []string{"a%", "a%2", "a%g0"} {
		if got, ok := prefixToPath(bad); ok {
			t.Errorf("prefixToPath(%q) = %q, true; want false", bad, got)
		}
	}
}

func TestForkedPathsIn(t *testing.T) {
	m := testMapping(t)
	tests := []struct {
		s    string
		want []string
	}{
		{"example.com/lib", []string{"example.com/lib"}},
		{"example.com/lib/x", []string{"example.com/lib/x"}},
		{"example.com/libx", nil},
		{"xexample.com/lib", nil},
		{"see example.com/lib.", []string{"example.com/lib"}},
		{"example.com/lib.Func", []string{"example.com/lib"}},
		{"gopkg.in/yaml.v3.Node", []string{"gopkg.in/yaml.v3"}},
		{`"foo/bar" and foo/bar again, foo/barbaz`, []string{"foo/bar"}},
		{"go get example.com/lib@v1.0.0", []string{"example.com/lib"}},
		{"", nil},
		{"///...", nil},
	}
	for _, tt := range tests {
		if got := forkedPathsIn(tt.s, m); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("forkedPathsIn(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestImports(t *testing.T) {
	src := `//go:build windows

package p // import "example.com/p"

import "fmt"

import (
	lib "example.com/lib"
	. "example.com/dot"
	_ ` + "`example.com/blank`" + `
)

import "C"

func f() { x := }
`
	got, err := Imports("p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Import{
		{"fmt", Position{"p.go", 5, 8}},
		{"example.com/lib", Position{"p.go", 8, 6}},
		{"example.com/dot", Position{"p.go", 9, 4}},
		{"example.com/blank", Position{"p.go", 10, 4}},
		{"C", Position{"p.go", 13, 8}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Imports() =\n%v\nwant\n%v", got, want)
	}
	if _, err := Imports("bad.go", []byte("package p\nimport (\n\t\"fmt\"\n")); err == nil || err.Error() != "bad.go:3:8: expected ')', found 'EOF'" {
		t.Errorf("Imports(bad) error = %v, want bad.go:3:8: ...", err)
	}
}

func TestGoUnchangedReturnsInput(t *testing.T) {
	src := []byte("package p\n\nimport \"fmt\"\n\nvar _ = fmt.Sprint\n")
	res, err := Go("p.go", src, testMapping(t))
	if err != nil {
		t.Fatal(err)
	}
	if &res.Src[0] != &src[0] || res.Edits != nil || res.Findings != nil || res.Changed() {
		t.Errorf("Go(unchanged) = %+v, want the input slice and no edits", res)
	}
}

func TestFindingJSON(t *testing.T) {
	f := Finding{Pos: Position{"a.go", 3, 4}, Kind: FindingStringLiteral, Path: "example.com/lib", Message: "m"}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"pos":{"file":"a.go","line":3,"col":4},"kind":"string-literal","path":"example.com/lib","message":"m"}`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	if got := f.String(); got != "a.go:3:4: m" {
		t.Errorf("String() = %q", got)
	}
}

// TestLongInputs checks that lookups stay linear on long paths, symbols and
// literals: a quadratic scan would not finish within the test timeout.
func TestLongInputs(t *testing.T) {
	m := testMapping(t)
	const n = 1 << 20
	dots := strings.Repeat("a.", n/2)
	slashes := strings.Repeat("a/", n/2)
	src := "package p\n\n//go:linkname x " + dots + "\n//go:linkname y " + slashes + "x.y\nvar s = []string{\"" + dots + "\", \"" + slashes + "\", \"example.com/lib/" + dots + "\"}\n"
	res, err := Go("long.go", []byte(src), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Path != "example.com/lib/"+strings.TrimSuffix(dots, ".") {
		t.Errorf("findings = %d, want the one literal that starts with example.com/lib/", len(res.Findings))
	}
	asm := "CALL " + strings.Repeat("a·", n/2) + "(SB)\nCALL " + strings.Repeat("a∕", n/2) + "b·c(SB)\n"
	if res, err := Asm("long.s", []byte(asm), m); err != nil || res.Changed() {
		t.Errorf("Asm(long) = %v, %v; want no change", res.Edits, err)
	}
}
