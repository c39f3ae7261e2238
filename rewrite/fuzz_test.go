package rewrite

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/mod/modfile"

	"github.com/plugfork/plugfork/internal/edit"
)

// The fuzzers use testMapping and take their seeds from
// testdata/fuzz/<FuzzName>/ and from the inputs of the golden archives.

func FuzzGo(f *testing.F) {
	addGoldenSeeds(f, func(name string) bool { return strings.HasSuffix(name, ".go") })
	m := testMapping(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := Go("fuzz.go", src, m)
		if err != nil {
			return // only sources that parse are of interest
		}
		checkEdits(t, src, res)
		if fast, err := GoFast("fuzz.go", src, m); err != nil || !sameResult(res, fast) {
			t.Fatalf("GoFast differs from Go on a file that parses: %v\nGoFast: %+v\nGo: %+v", err, fast, res)
		}
		in, err := Imports("fuzz.go", src)
		if err != nil {
			t.Fatalf("Go accepted the input, but Imports: %v", err)
		}
		again, err := Go("fuzz.go", res.Src, m)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, res.Src)
		}
		if again.Changed() {
			t.Fatalf("not idempotent: second pass edits %v", again.Edits)
		}
		out, err := Imports("fuzz.go", res.Src)
		if err != nil {
			t.Fatalf("imports of the output: %v", err)
		}
		want := make([]string, len(in))
		for i, imp := range in {
			want[i] = imp.Path
			if p, ok := m.Lookup(imp.Path); ok && imp.Path != "C" {
				want[i] = p
			}
		}
		got := make([]string, len(out))
		for i, imp := range out {
			got[i] = imp.Path
		}
		// Runs of imports gofmt sorts may be sorted again: the same imports,
		// in another order.
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("imports of the output = %q, want %q", got, want)
		}
		// A formatted file stays formatted, and its imports come back in
		// their order (the rest may come back spelled otherwise).
		if back, ok := wayBack(t, "fuzz.go", src, res.Src, m); ok {
			again, err := Imports("fuzz.go", back)
			if err != nil {
				t.Fatalf("imports of the way back: %v", err)
			}
			if !slices.EqualFunc(again, in, func(a, b Import) bool { return a.Path == b.Path }) {
				t.Fatalf("imports of the way back = %v, want %v", again, in)
			}
		}
	})
}

func FuzzAsm(f *testing.F) {
	addGoldenSeeds(f, func(name string) bool { return strings.HasSuffix(name, ".s") })
	m := testMapping(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := Asm("fuzz.s", src, m)
		if err != nil {
			t.Fatalf("Asm: %v", err)
		}
		checkEdits(t, src, res)
		again, err := Asm("fuzz.s", res.Src, m)
		if err != nil {
			t.Fatalf("Asm of the output: %v", err)
		}
		if again.Changed() {
			t.Fatalf("not idempotent: second pass edits %v", again.Edits)
		}
	})
}

func FuzzGoMod(f *testing.F) {
	addGoldenSeeds(f, func(name string) bool { return filepath.Base(name) == "go.mod" })
	m := testMapping(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := modfile.Parse("go.mod", data, nil); err != nil {
			return
		}
		res, err := GoMod("go.mod", data, m)
		if err != nil {
			if !formatRoundTrips(data) {
				return // x/mod cannot print this file either: GoMod must fail
			}
			t.Fatalf("GoMod of a go.mod that parses: %v", err)
		}
		if _, err := modfile.Parse("go.mod", res.Src, nil); err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, res.Src)
		}
		checkEdits(t, data, res)
		again, err := GoMod("go.mod", res.Src, m)
		if err != nil {
			t.Fatalf("GoMod of the output: %v", err)
		}
		if again.Changed() {
			t.Fatalf("not idempotent: second pass edits %v\n%s", again.Edits, res.Src)
		}
	})
}

// formatRoundTrips reports whether the go.mod data, parsed and printed by
// x/mod/modfile, parses again. It does not when, for instance, a path that
// needs quotes (module "(") loses them in printing.
func formatRoundTrips(data []byte) bool {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return false
	}
	out, err := f.Format()
	if err != nil {
		return false
	}
	_, err = modfile.Parse("go.mod", out, nil)
	return err == nil
}

// checkEdits checks that the edits are sorted, disjoint and turn src into
// res.Src, so that every byte outside them is unchanged, and that an
// unchanged file comes back as the input slice.
func checkEdits(t *testing.T, src []byte, res Result) {
	t.Helper()
	if !res.Changed() {
		if !bytes.Equal(res.Src, src) || len(src) > 0 && &res.Src[0] != &src[0] {
			t.Fatalf("no edits, but Src is not the input")
		}
		return
	}
	for i := 1; i < len(res.Edits); i++ {
		if res.Edits[i-1].End > res.Edits[i].Start {
			t.Fatalf("edits unsorted or overlapping: %v", res.Edits)
		}
	}
	got, err := edit.Apply(src, res.Edits)
	if err != nil {
		t.Fatalf("applying the edits: %v", err)
	}
	if !bytes.Equal(got, res.Src) {
		t.Fatalf("edits applied to the input differ from Src:\n%s\nvs\n%s", got, res.Src)
	}
}

// addGoldenSeeds adds the inputs of the golden archives that keep.
func addGoldenSeeds(f *testing.F, keep func(name string) bool) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range ar.Files {
			if name, ok := strings.CutPrefix(af.Name, "in/"); ok && keep(name) {
				f.Add(af.Data)
			}
		}
	}
}
