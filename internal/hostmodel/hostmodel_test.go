package hostmodel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/lockfile"
)

func TestKeeps(t *testing.T) {
	for _, tt := range []struct {
		keep           []string
		pkg, mod       string
		kept, byModule bool
	}{
		{[]string{"example.com/api"}, "example.com/api", "example.com/api", true, true},
		{[]string{"example.com/api"}, "example.com/api/sub", "example.com/api", true, true},
		// Another module below the pattern's path is not named by it.
		{[]string{"example.com/api"}, "example.com/api/v2/x", "example.com/api/v2", false, false},
		{[]string{"example.com/api"}, "example.com/api/v2/x", "", false, false},
		{[]string{"example.com/api/..."}, "example.com/api/v2/x", "example.com/api/v2", true, false},
		{[]string{"example.com/api/sub"}, "example.com/api/sub", "example.com/api", true, false},
		{[]string{"example.com/api/sub"}, "example.com/api", "example.com/api", false, false},
		{[]string{"example.com/apis"}, "example.com/api", "example.com/api", false, false},
		// A module unknown: only the package counts.
		{[]string{"example.com/api"}, "example.com/api/sub", "", false, false},
		{nil, "example.com/api", "example.com/api", false, false},
	} {
		kept, byModule := NewKeep(tt.keep).Keeps(tt.pkg, tt.mod)
		if kept != tt.kept || byModule != tt.byModule {
			t.Errorf("Keeps %q (%q) with %q = %v, %v; want %v, %v", tt.pkg, tt.mod, tt.keep, kept, byModule, tt.kept, tt.byModule)
		}
	}
}

// writeHost writes a host module with go.mod and, when lock is not nil,
// its lock, and returns its root.
func writeHost(t *testing.T, gomod string, lock *lockfile.Lock) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte(gomod), 0o666); err != nil {
		t.Fatal(err)
	}
	if lock != nil {
		if err := os.WriteFile(filepath.Join(root, lockfile.Name), lock.Format(), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const forkedGoMod = `module example.com/host

go 1.22

require (
	example.com/api v1.0.0
	example.com/api/v2 v2.0.0
	p.example/w/example.com/dep v0.0.0-00010101000000-000000000000
)

replace p.example/w/example.com/dep => ./forks/example.com/dep
`

func forkedLock() *lockfile.Lock {
	return &lockfile.Lock{
		Prefix: "p.example/w", Dir: "forks", Keep: []string{"example.com/api"},
		Forks: []lockfile.Fork{{Path: "example.com/dep", Version: "v1.0.0", Sum: "h1:x=", ForkPath: "p.example/w/example.com/dep",
			ForkDir: "forks/example.com/dep", TreeHash: "h1:y=", Require: lockfile.RequireIndirect}},
		Surface: []lockfile.Shared{{Package: "example.com/other/s", Module: "example.com/other", Version: "v1.0.0", Fingerprint: "0123456789abcdef", Why: "imported by example.com/api"}},
	}
}

func TestShared(t *testing.T) {
	h, err := Read(writeHost(t, forkedGoMod, forkedLock()), "example.com/extra/...")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"fmt":                         false,
		"example.com/host/sub":        false, // the host's own
		"example.com/api":             false, // kept by the lock, as a module
		"example.com/api/sub":         false,
		"example.com/api/v2/x":        true,  // another module: not named by --keep example.com/api
		"p.example/w/example.com/dep": false, // a fork
		"example.com/dep":             true,  // forked, but imported by its upstream path
		"example.com/other/s":         false, // the shared surface
		"example.com/other/t":         true,
		"example.com/extra/y":         false, // kept by a pattern given to Read
		"example.com/hostile/x":       true,
	} {
		if got := h.Shared(path); got != want {
			t.Errorf("Shared(%q) = %v, want %v", path, got, want)
		}
	}
	for path, want := range map[string]string{
		"example.com/api/v2/x":            "example.com/api/v2",
		"example.com/api/v2x":             "example.com/api",
		"example.com/dep/sub":             "example.com/dep",
		"p.example/w/example.com/dep/sub": "p.example/w/example.com/dep",
		"example.com/other/s":             "example.com/other",
		"example.com/unknown":             "",
	} {
		if got := h.ModuleOf(path); got != want {
			t.Errorf("ModuleOf(%q) = %q, want %q", path, got, want)
		}
	}
	if got, ok := h.Forked("example.com/dep/sub"); !ok || got != "p.example/w/example.com/dep/sub" {
		t.Errorf("Forked = %q, %v", got, ok)
	}
	if got, ok := h.Upstream("p.example/w/example.com/dep/sub"); !ok || got != "example.com/dep/sub" {
		t.Errorf("Upstream = %q, %v", got, ok)
	}
	if _, ok := h.Upstream("p.example/w"); ok {
		t.Errorf("the prefix itself is no fork")
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("no go.mod: %v", err)
	}
	if _, err := Read(writeHost(t, "go 1.22\n", nil)); err == nil || !strings.Contains(err.Error(), "no module directive") {
		t.Errorf("no module directive: %v", err)
	}
	h, err := Read(writeHost(t, "module example.com/host\n", nil))
	if err != nil || h.Lock != nil || h.Path != "example.com/host" || !h.Shared("example.com/dep") {
		t.Errorf("unforked host: %+v, %v", h, err)
	}
}

func TestCheckKeep(t *testing.T) {
	h, err := Read(writeHost(t, "module example.com/host\n\nrequire example.com/host/nested v1.0.0\n", nil))
	if err != nil {
		t.Fatal(err)
	}
	for pat, refused := range map[string]bool{
		"example.com/host":          true,
		"example.com/host/api":      true,
		"example.com/host/...":      true,
		"example.com/host/a.../x":   true,
		"example.com/hostile":       false,
		"example.com/...":           false, // also third-party packages
		"...":                       false,
		"example.com/host/nested":   false, // a module of its own
		"example.com/host/nested/x": false,
		"example.com/dep":           false,
	} {
		err := h.CheckKeep([]string{"example.com/dep", pat})
		if (err != nil) != refused {
			t.Errorf("CheckKeep(%q) = %v, want refused %v", pat, err, refused)
		}
		if err != nil && !strings.Contains(err.Error(), "drop --keep "+pat) {
			t.Errorf("CheckKeep(%q): %v does not name the fix", pat, err)
		}
	}
}
