package lockfile

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSumsHash checks that the tree hash materialize computes from the bytes
// it wrote is the one TreeHash computes from the directory (which check and
// a re-run compare with the lock), nested modules left out.
func TestSumsHash(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":          "module example.com/nest\n",
		"nest.go":         "package nest\n",
		"a/b/c.s":         "TEXT ·f(SB),0,$0\n",
		"LICENSE":         "licence\n",
		"sub/go.mod":      "module example.com/nest/sub\n", // another fork
		"sub/sub.go":      "package sub\n",
		"Z upper.txt":     "sorted as bytes\n",
		MarkerName:        "marker\n",
		"z/embedded.json": "{}\n",
	}
	sums := map[string]string{}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
		if name != MarkerName && filepath.Dir(name) != "sub" {
			sums[name] = FileSum([]byte(data))
		}
	}
	want, err := TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := SumsHash(sums, MarkerName, FileSum([]byte(files[MarkerName]))); got != want {
		t.Errorf("sumsHash = %s, TreeHash = %s", got, want)
	}
	if _, ok := sums[MarkerName]; ok {
		t.Error("sumsHash changed its argument")
	}
}

// TestIntact: one walk of the fork dir judges the forks as hashing each
// fork's tree (nested modules left out) and looking for strays would: a
// change to any file of a fork, testdata and hidden files included, makes
// it stale, as do a stray marker and a missing fork; a change to a nested
// module that is no fork does not.
func TestIntact(t *testing.T) {
	files := map[string]string{
		"a/go.mod":                "module example.com/a\n",
		"a/a.go":                  "package a\n",
		"a/" + MarkerName:         "marker a\n",
		"a/testdata/x.txt":        "x\n",
		"a/.hidden":               "h\n",
		"a/internal/i/i.go":       "package i\n",
		"a/sub/go.mod":            "module example.com/a/sub\n",
		"a/sub/s.go":              "package sub\n",
		"a/sub/" + MarkerName:     "marker sub\n",
		"a/other/go.mod":          "module example.com/a/other\n",
		"a/other/o.go":            "package other\n",
		"b.example/go.mod":        "module b.example\n",
		"b.example/b.go":          "package b\n",
		"b.example/" + MarkerName: "marker b\n",
	}
	const dir = "third_party/forked"
	setup := func(t *testing.T) (string, *Lock) {
		root := t.TempDir()
		for name, data := range files {
			p := filepath.Join(root, dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
				t.Fatal(err)
			}
		}
		lock := &Lock{Dir: dir}
		for _, m := range []string{"a", "a/sub", "b.example"} {
			fd := dir + "/" + m
			h, err := TreeHash(filepath.Join(root, filepath.FromSlash(fd)))
			if err != nil {
				t.Fatal(err)
			}
			lock.Forks = append(lock.Forks, Fork{Path: "example.com/" + m, ForkDir: fd, TreeHash: h})
		}
		return root, lock
	}
	write := func(name, data string) func(t *testing.T, root string) {
		return func(t *testing.T, root string) {
			p := filepath.Join(root, dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o777)
			if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, root string)
		want   bool
	}{
		{"unchanged", func(*testing.T, string) {}, true},
		{"fork file", write("a/a.go", "package a // changed\n"), false},
		{"testdata file", write("a/testdata/x.txt", "y\n"), false},
		{"hidden file", write("a/.hidden", "changed\n"), false},
		{"new file", write("a/internal/i/new.go", "package i\n"), false},
		{"nested fork file", write("a/sub/s.go", "package sub // changed\n"), false},
		{"nested module that is no fork", write("a/other/o.go", "package other // changed\n"), true},
		{"stray marker in a nested module", write("a/other/"+MarkerName, "marker\n"), false},
		{"stray fork beside", write("c.example/"+MarkerName, "marker\n"), false},
		{"missing fork", func(t *testing.T, root string) {
			if err := os.RemoveAll(filepath.Join(root, dir, "b.example")); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"symlink", func(t *testing.T, root string) {
			if err := os.Symlink("a.go", filepath.Join(root, dir, "a", "link.go")); err != nil {
				t.Skip(err)
			}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, lock := setup(t)
			tt.change(t, root)
			if got := Intact(root, lock); got != tt.want {
				t.Errorf("Intact = %v, want %v", got, tt.want)
			}
		})
	}
}
