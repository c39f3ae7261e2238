package inspect

import "testing"

// TestCopyOf: a package is a copy of a library in hazard's table when its
// path ends in the library's on whole elements, or when its module is
// replaced by the library's module or by a directory whose path ends in it.
func TestCopyOf(t *testing.T) {
	mods := []Module{
		{Path: "gitlab.example.com/workflow/github.com/lib/pq", Version: "v0.0.0-00010101000000-000000000000",
			Replace: &Module{Path: "./third_party/forked/github.com/lib/pq", Version: "(devel)"}},
		{Path: "gitlab.example.com/workflow/github.com/google/martian", Version: "v2.1.0+incompatible"}, // a fork that travels: no replace
		{Path: "example.com/forks/pq", Version: "v1.0.0", Replace: &Module{Path: "github.com/lib/pq", Version: "v1.12.3"}},
		{Path: "example.com/vendored/sqlite", Version: "v1.0.0", Replace: &Module{Path: "../patches/./github.com/mattn/go-sqlite3", Version: "(devel)"}},
		{Path: "example.com/win", Version: "v1.0.0", Replace: &Module{Path: `C:\src\github.com\golang\glog`}},
		{Path: "github.com/lib/pq", Version: "v1.12.3", Replace: &Module{Path: "./third_party/github.com/lib/pq"}},
		{Path: "example.com/mirror", Version: "v1.0.0"},
		{Path: "github.com/jackc/pgx/v5", Version: "v5.7.0"},
	}
	for _, tt := range []struct {
		pkg, want string
	}{
		{"gitlab.example.com/workflow/github.com/lib/pq", "github.com/lib/pq"},
		{"gitlab.example.com/workflow/github.com/google/martian", "github.com/google/martian"},
		{"gitlab.example.com/workflow/github.com/google/martian/log", ""}, // registers nothing
		{"example.com/forks/pq", "github.com/lib/pq"},
		{"example.com/vendored/sqlite", "github.com/mattn/go-sqlite3"},
		{"example.com/win", "github.com/golang/glog"},
		{"example.com/mirror/github.com/jackc/pgx/v5/stdlib", "github.com/jackc/pgx/v5/stdlib"}, // by its path, whatever its module
		{"github.com/lib/pq", ""},              // the library itself, patched in place
		{"github.com/jackc/pgx/v5/stdlib", ""}, // the library itself
		{"example.com/mirror/xgithub.com/lib/pq", ""},
		{"example.com/mirror/github.com/lib/pqx", ""},
		{"example.com/mirror/github.com/lib/pq/oid", ""},
	} {
		got, ok := copyOf(mods, tt.pkg)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("copyOf(%s) = %q, %v; want %q", tt.pkg, got, ok, tt.want)
		}
	}
}
