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
