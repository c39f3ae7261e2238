package rewrite

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/plugfork/plugfork/internal/edit"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/*.txtar")

// TestGolden runs every testdata/*.txtar archive. An archive holds:
//
//	-- mapping --      one "old => new" module pair per line
//	-- in/NAME --      an input: NAME is go.mod, *.s or *.go
//	-- out/NAME --     the expected output of a changed input
//	-- findings --     the expected findings of all inputs, one per line
//	-- error --        the expected errors, one per line
//
// go test ./rewrite -update rewrites out/, findings and error from the
// current results.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.txtar archives")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			testGolden(t, file)
		})
	}
}

func testGolden(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sections := make(map[string][]byte)
	var inputs []string
	for _, f := range ar.Files {
		if _, dup := sections[f.Name]; dup {
			t.Fatalf("duplicate section %s", f.Name)
		}
		sections[f.Name] = f.Data
		if name, ok := strings.CutPrefix(f.Name, "in/"); ok {
			inputs = append(inputs, name)
		}
	}
	m, err := parseMapping(string(sections["mapping"]))
	if err != nil {
		t.Fatalf("mapping section: %v", err)
	}

	outputs := make(map[string][]byte)
	var findings, errs []string
	for _, name := range inputs {
		src := sections["in/"+name]
		res, err := rewriteFile(name, src, m)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		checkResult(t, name, src, res, m)
		for _, f := range res.Findings {
			findings = append(findings, formatFinding(f))
		}
		if res.Changed() {
			outputs[name] = res.Src
		}
	}
	want := map[string][]byte{
		"findings": joinLines(findings),
		"error":    joinLines(errs),
	}
	for name, out := range outputs {
		want["out/"+name] = out
	}

	if *update {
		var kept []txtar.File
		for _, f := range ar.Files {
			if f.Name == "findings" || f.Name == "error" || strings.HasPrefix(f.Name, "out/") {
				continue
			}
			kept = append(kept, f)
		}
		for _, name := range inputs {
			if out, ok := outputs[name]; ok {
				kept = append(kept, txtar.File{Name: "out/" + name, Data: out})
			}
		}
		for _, name := range []string{"findings", "error"} {
			if len(want[name]) > 0 {
				kept = append(kept, txtar.File{Name: name, Data: want[name]})
			}
		}
		ar.Files = kept
		if err := os.WriteFile(file, txtar.Format(ar), 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}

	for name := range sections {
		if name == "findings" || name == "error" || strings.HasPrefix(name, "out/") {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: section expected, but the input is unchanged", name)
			}
		}
	}
	for name, got := range want {
		if exp := sections[name]; !bytes.Equal(got, exp) {
			t.Errorf("%s: got:\n%s\nwant:\n%s\n(run go test ./rewrite -update to accept)", name, got, exp)
		}
	}
}

// rewriteFile rewrites name according to its kind.
func rewriteFile(name string, src []byte, m *Mapping) (Result, error) {
	switch base := path.Base(name); {
	case base == "go.mod":
		return GoMod(name, src, m)
	case strings.HasSuffix(base, ".s"):
		return Asm(name, src, m)
	case strings.HasSuffix(base, ".go"):
		res, err := Go(name, src, m)
		if err == nil {
			if fast, ferr := GoFast(name, src, m); ferr != nil || !sameResult(res, fast) {
				return Result{}, fmt.Errorf("%s: GoFast differs from Go: %+v, %v; Go: %+v", name, fast, ferr, res)
			}
		}
		return res, err
	}
	return Result{}, fmt.Errorf("%s: unknown kind of file", name)
}

// checkResult checks the invariants every rewrite keeps: the edits explain
// the output, nothing changed means the input slice comes back, and a second
// rewrite changes nothing.
func checkResult(t *testing.T, name string, src []byte, res Result, m *Mapping) {
	t.Helper()
	if !res.Changed() {
		if len(src) > 0 && &res.Src[0] != &src[0] {
			t.Errorf("%s: unchanged, but Src is not the input slice", name)
		}
		return
	}
	got, err := edit.Apply(src, res.Edits)
	if err != nil {
		t.Fatalf("%s: applying Edits: %v", name, err)
	}
	if !bytes.Equal(got, res.Src) {
		t.Errorf("%s: Edits applied to the input differ from Src", name)
	}
	again, err := rewriteFile(name, res.Src, m)
	if err != nil {
		t.Fatalf("%s: rewriting the output: %v", name, err)
	}
	if again.Changed() {
		t.Errorf("%s: rewrite is not idempotent: second pass edits %v", name, again.Edits)
	}
	checkGofmt(t, name, src, res.Src, m)
}

// checkGofmt checks that a Go file gofmt had formatted stays formatted and
// that the mapping's inverse (an unfork) gives it back byte for byte.
func checkGofmt(t *testing.T, name string, src, out []byte, m *Mapping) {
	t.Helper()
	back, ok := wayBack(t, name, src, out, m)
	if !ok || bytes.ContainsRune(src, '\\') {
		return // a path spelled with escapes comes back plainly quoted
	}
	if !bytes.Equal(back, src) {
		t.Errorf("%s: rewriting back does not give the input:\n%s", name, diffLines(back, src))
	}
}

// wayBack checks that a Go file gofmt had formatted stays formatted, and
// returns it rewritten back with the mapping's inverse (an unfork). It
// reports false when there is no way back to check: the input is not
// formatted, or already imports a new path, or the mapping keeps modules.
func wayBack(t *testing.T, name string, src, out []byte, m *Mapping) ([]byte, bool) {
	t.Helper()
	if !strings.HasSuffix(name, ".go") || len(m.kept) > 0 || len(m.keptPkgs) > 0 {
		return nil, false
	}
	if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
		return nil, false
	}
	if formatted, err := format.Source(out); err != nil || !bytes.Equal(formatted, out) {
		t.Errorf("%s: gofmt-clean input, output not gofmt-clean:\n%s", name, diffLines(out, formatted))
	}
	inv := map[string]string{}
	for _, p := range m.pairs {
		inv[p.New] = p.Old
	}
	back, err := NewMapping(inv)
	if err != nil {
		t.Fatalf("%s: inverse mapping: %v", name, err)
	}
	imports, err := Imports(name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, imp := range imports {
		if _, ok := back.Lookup(imp.Path); ok {
			return nil, false
		}
	}
	res, err := Go(name, out, back)
	if err != nil {
		t.Fatalf("%s: rewriting back: %v", name, err)
	}
	return res.Src, true
}

// diffLines returns the lines of got and want that differ, for a message.
func diffLines(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	var out []string
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("line %d: got %q, want %q", i+1, a, b))
		}
	}
	return strings.Join(out, "\n")
}

func formatFinding(f Finding) string {
	s := fmt.Sprintf("%s: %s", f.Pos, f.Kind)
	if f.Path != "" {
		s += " " + f.Path
	}
	return s + ": " + f.Message
}

func joinLines(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// parseMapping parses "old => new" lines; blank lines and # comments are skipped.
func parseMapping(text string) (*Mapping, error) {
	mods := make(map[string]string)
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		oldPath, newPath, ok := strings.Cut(line, "=>")
		if !ok {
			return nil, fmt.Errorf("bad line %q: want old => new", line)
		}
		mods[strings.TrimSpace(oldPath)] = strings.TrimSpace(newPath)
	}
	return NewMapping(mods)
}

// sameResult reports whether two rewrites of one file agree: bytes, edits
// and findings.
func sameResult(a, b Result) bool {
	return bytes.Equal(a.Src, b.Src) && reflect.DeepEqual(a.Edits, b.Edits) && reflect.DeepEqual(a.Findings, b.Findings)
}
