package rewrite

import "testing"

func TestKind(t *testing.T) {
	for _, tt := range []struct {
		rel, kind string
	}{
		{"a.go", "go"},
		{"sub/a_amd64.s", "asm"},
		{"sub/a.c", ""},
		{"testdata/a.go", ""},
		{"vendor/x/a.go", ""},
		{"_tools/a.go", ""},
		{".hidden/a.go", ""},
		{"sub/go.mod", ""},
	} {
		kind, ok := Kind(tt.rel)
		if kind != tt.kind || ok != (tt.kind != "") {
			t.Errorf("Kind(%q) = %q, %v; want %q", tt.rel, kind, ok, tt.kind)
		}
	}
}
