package rewrite

import (
	"strings"
	"testing"
)

func TestNewMappingErrors(t *testing.T) {
	tests := []struct {
		name string
		mods map[string]string
		want []string // substrings of the error
	}{
		{
			name: "new path inside another forked module",
			mods: map[string]string{
				"example.com/a": "example.com/b/fork/a",
				"example.com/b": "p/example.com/b",
			},
			want: []string{"new path example.com/b/fork/a of module example.com/a lies inside the path space of forked module example.com/b", "choose a new path outside example.com/b"},
		},
		{
			name: "new path inside its own module",
			mods: map[string]string{"example.com/a": "example.com/a/fork"},
			want: []string{"new path example.com/a/fork of module example.com/a lies inside that module's own path space"},
		},
		{
			name: "identity",
			mods: map[string]string{"example.com/a": "example.com/a"},
			want: []string{"own path space"},
		},
		{
			name: "duplicate new path",
			mods: map[string]string{"example.com/a": "p/x", "example.com/b": "p/x"},
			want: []string{"modules example.com/a and example.com/b both map to p/x"},
		},
		{
			name: "invalid old path",
			mods: map[string]string{"example.com/a b": "p/a"},
			want: []string{"forked module example.com/a b: "},
		},
		{
			name: "invalid new path",
			mods: map[string]string{"example.com/a": "p//a"},
			want: []string{"new path of example.com/a: "},
		},
		{
			name: "all problems listed",
			mods: map[string]string{"a.com/x": "a.com/x/y", "b.com/x": "", "c.com/x": "q"},
			want: []string{"invalid module mapping:\n\t", "a.com/x/y", "new path of b.com/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMapping(tt.mods)
			if err == nil {
				t.Fatalf("NewMapping(%v) = %v, want an error", tt.mods, m)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLookup(t *testing.T) {
	m, err := NewMapping(map[string]string{
		"foo/bar":              "p/foo/bar",
		"example.com/lib":      "p/example.com/lib",
		"example.com/lib/nest": "q/nest",
		"gopkg.in/yaml.v3":     "p/gopkg.in/yaml.v3",
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"foo/bar", "p/foo/bar", true},
		{"foo/bar/baz", "p/foo/bar/baz", true},
		{"foo/barbaz", "", false},
		{"foo", "", false},
		{"foo/ba", "", false},
		{"example.com/lib/x/y", "p/example.com/lib/x/y", true},
		{"example.com/lib/nest", "q/nest", true},
		{"example.com/lib/nest/deep", "q/nest/deep", true},
		{"example.com/lib/nestle", "p/example.com/lib/nestle", true},
		{"gopkg.in/yaml.v3", "p/gopkg.in/yaml.v3", true},
		{"gopkg.in/yaml", "", false},
		{"gopkg.in/yaml.v2", "", false},
		{"", "", false},
		{"p/foo/bar", "", false},
	}
	for _, tt := range tests {
		got, ok := m.Lookup(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := m.Module("example.com/lib/x"); ok {
		t.Errorf("Module(a package path) = %q, true; want exact module paths only", got)
	}
	for old, want := range map[string]string{
		"example.com/lib": "p/example.com/lib", "example.com/lib/nest": "q/nest",
		"foo/bar": "p/foo/bar", "gopkg.in/yaml.v3": "p/gopkg.in/yaml.v3",
	} {
		if got, ok := m.Module(old); !ok || got != want {
			t.Errorf("Module(%q) = %q, %v; want %q", old, got, ok, want)
		}
	}
}

func TestEmptyMapping(t *testing.T) {
	m, err := NewMapping(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Lookup("example.com/a"); ok {
		t.Errorf("empty mapping maps something")
	}
	var nilMap *Mapping
	if _, ok := nilMap.Lookup("a"); ok {
		t.Errorf("nil mapping maps something")
	}
}

func TestNewMappingKeep(t *testing.T) {
	m, err := NewMappingKeep(map[string]string{
		"example.com/api":   "p/example.com/api",
		"example.com/api/x": "p/example.com/api/x",
	}, []string{"example.com/api/v2", "example.com/api/x/keep"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"example.com/api", "p/example.com/api", true},
		{"example.com/api/sub", "p/example.com/api/sub", true},
		{"example.com/api/v2", "", false},
		{"example.com/api/v2/client", "", false},
		{"example.com/api/v20", "p/example.com/api/v20", true},
		{"example.com/api/x/y", "p/example.com/api/x/y", true},
		{"example.com/api/x/keep/z", "", false},
	}
	for _, tt := range tests {
		got, ok := m.Lookup(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	res, err := Go("k.go", []byte("package k\n\nimport (\n\t\"example.com/api\"\n\t\"example.com/api/v2\"\n)\n"), m)
	if err != nil {
		t.Fatal(err)
	}
	if want := "package k\n\nimport (\n\t\"example.com/api/v2\"\n\t\"p/example.com/api\"\n)\n"; string(res.Src) != want {
		t.Errorf("Go with a kept nested module =\n%s\nwant\n%s", res.Src, want)
	}

	_, err = NewMappingKeep(map[string]string{"example.com/api": "p/example.com/api"}, []string{"example.com/api", "bad path"})
	for _, want := range []string{"module example.com/api is both kept and forked", "kept module bad path: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewMappingKeep error = %v, want it to contain %q", err, want)
		}
	}
}

func TestKeepPackages(t *testing.T) {
	m, err := NewMapping(map[string]string{"example.com/sdk": "p/example.com/sdk"})
	if err != nil {
		t.Fatal(err)
	}
	m = m.KeepPackages([]string{"example.com/sdk/api"})
	for in, want := range map[string]string{
		"example.com/sdk":         "p/example.com/sdk",
		"example.com/sdk/api":     "",
		"example.com/sdk/api/sub": "p/example.com/sdk/api/sub",
		"example.com/sdk/impl":    "p/example.com/sdk/impl",
	} {
		got, ok := m.Lookup(in)
		if got != want || ok != (want != "") {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	src := "package p\n\nimport (\n\t\"example.com/sdk\"\n\t\"example.com/sdk/api\"\n)\n"
	want := "package p\n\nimport (\n\t\"example.com/sdk/api\"\n\t\"p/example.com/sdk\"\n)\n"
	for name, rw := range map[string]func(string, []byte, *Mapping) (Result, error){"Go": Go, "GoFast": GoFast} {
		res, err := rw("p.go", []byte(src), m)
		if err != nil || string(res.Src) != want {
			t.Errorf("%s: %q, %v; want %q", name, res.Src, err, want)
		}
	}
}
