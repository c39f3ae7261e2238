package modtree

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree writes files (slash-separated names; a name ending in "@" is a
// symbolic link to the rest of the name's directory) below a new root.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, name := range files {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(name, "@")))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "@") {
			if err := os.Symlink(".", p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte("package x\n"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var sample = []string{
	"go.mod", "root.go",
	"a/a.go", "a/a_test.go", "a/data.txt",
	"a/b/b.s", // assembly only: not a package directory
	"a/b/c/c.go",
	"a/testdata/t.go",
	"a/vendor/v/v.go",
	"a/.hidden/h.go", "a/_under/u.go", "a/.dot.go", "a/_x.go",
	"only_hidden/_h.go",
	"nested/go.mod", "nested/n.go",
	"a/link@", // a symbolic link to a directory: never followed
}

func TestPackages(t *testing.T) {
	root := tree(t, sample...)
	got, err := Packages(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "a", "a/b/c"}
	if !slices.Equal(got, want) {
		t.Errorf("Packages = %q, want %q", got, want)
	}
}

func TestFiles(t *testing.T) {
	root := tree(t, sample...)
	for _, tt := range []struct {
		include Class
		want    []string
	}{
		{Plain, []string{"a/a.go", "a/a_test.go", "a/b/b.s", "a/b/c/c.go", "a/data.txt", "go.mod", "root.go"}},
		{All &^ Nested, []string{
			"a/.dot.go", "a/.hidden/h.go", "a/_under/u.go", "a/_x.go", "a/a.go", "a/a_test.go", "a/b/b.s", "a/b/c/c.go",
			"a/data.txt", "a/link", "a/testdata/t.go", "a/vendor/v/v.go", "go.mod", "only_hidden/_h.go", "root.go"}},
		{Testdata | Vendor, []string{"a/a.go", "a/a_test.go", "a/b/b.s", "a/b/c/c.go", "a/data.txt", "a/testdata/t.go", "a/vendor/v/v.go", "go.mod", "root.go"}},
		{Nested, []string{"a/a.go", "a/a_test.go", "a/b/b.s", "a/b/c/c.go", "a/data.txt", "go.mod", "nested/go.mod", "nested/n.go", "root.go"}},
	} {
		got, err := Files(root, tt.include)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Files(%b) =\n\t%q\nwant\n\t%q", tt.include, got, tt.want)
		}
	}
}

func TestWalkSkip(t *testing.T) {
	root := tree(t, sample...)
	var got []string
	err := Walk(root, All, []string{"a", "nested/n.go"}, func(rel string, d os.DirEntry) error {
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"go.mod", "nested", "nested/go.mod", "only_hidden", "only_hidden/_h.go", "root.go"}
	if !slices.Equal(got, want) {
		t.Errorf("Walk with skip = %q, want %q", got, want)
	}
}

func TestPackageFile(t *testing.T) {
	for rel, want := range map[string]bool{
		"a.go":            true,
		"a/b/c.s":         true,
		"a/testdata/x.go": false,
		"a/vendor/x.go":   false,
		"a/.git/x.go":     false,
		"_x.go":           false,
		"a/.x.go":         false,
		"a/_b/x.go":       false,
		"testdata.go":     true,
		"vendor.go":       true,
	} {
		if got := PackageFile(rel); got != want {
			t.Errorf("PackageFile(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestFindRoot(t *testing.T) {
	root := tree(t, sample...)
	got, gomod, err := FindRoot(filepath.Join(root, "a", "b", "c"))
	if err != nil || got != root || string(gomod) != "package x\n" {
		t.Errorf("FindRoot(a/b/c) = %q, %q, %v; want %q", got, gomod, err, root)
	}
	if got, _, err := FindRoot(filepath.Join(root, "nested")); err != nil || got != filepath.Join(root, "nested") {
		t.Errorf("FindRoot(nested) = %q, %v", got, err)
	}
	_, _, err = FindRoot(string(filepath.Separator))
	if !errors.Is(err, ErrNotModule) {
		t.Errorf("FindRoot(/) = %v, want ErrNotModule", err)
	}
}
