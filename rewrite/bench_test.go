package rewrite

import (
	"fmt"
	"strings"
	"testing"
)

// syntheticTree returns n Go files of a few kilobytes each that import a mix
// of forked, standard and unrelated packages and hold comments, string
// literals and a //go:linkname directive, like a vendored dependency tree.
func syntheticTree(n int) [][]byte {
	files := make([][]byte, n)
	for i := range files {
		var b strings.Builder
		fmt.Fprintf(&b, "// Copyright 2024 The Authors.\n\n// Package p%d is synthetic.\npackage p%d // import \"example.com/lib/p%d\"\n\n", i, i, i)
		b.WriteString("import (\n\t\"fmt\"\n\t\"strings\"\n\t_ \"unsafe\"\n\n")
		for j := range 8 {
			switch j % 4 {
			case 0:
				fmt.Fprintf(&b, "\t\"example.com/lib/sub%d\"\n", (i+j)%50)
			case 1:
				fmt.Fprintf(&b, "\tfb%d \"foo/bar/pkg%d\"\n", j, j)
			case 2:
				fmt.Fprintf(&b, "\t\"github.com/unrelated/mod%d/x\"\n", j)
			case 3:
				fmt.Fprintf(&b, "\ty%d \"gopkg.in/yaml.v3\"\n", j)
			}
		}
		b.WriteString(")\n\n//go:linkname nanotime example.com/lib/internal/clock.nanotime\nfunc nanotime() int64\n\n")
		for k := range 12 {
			fmt.Fprintf(&b, "// F%d does work number %d.\n// It has a doc comment that mentions example.com/lib in prose.\n", k, k)
			fmt.Fprintf(&b, "func F%d(s string, n int) (string, error) {\n", k)
			fmt.Fprintf(&b, "\tif n < %d {\n\t\treturn \"\", fmt.Errorf(\"p%d: n=%%d too small\", n)\n\t}\n", k, i)
			b.WriteString("\tvar out strings.Builder\n\tfor i := 0; i < n; i++ {\n\t\tout.WriteString(s)\n\t}\n")
			if k%6 == 0 {
				b.WriteString("\t_ = \"example.com/lib/registry.Key\"\n")
			}
			b.WriteString("\treturn out.String(), nil\n}\n\n")
		}
		files[i] = []byte(b.String())
	}
	return files
}

func BenchmarkGo(b *testing.B)     { benchmarkGo(b, Go) }
func BenchmarkGoFast(b *testing.B) { benchmarkGo(b, GoFast) }

func benchmarkGo(b *testing.B, rewrite func(string, []byte, *Mapping) (Result, error)) {
	m := testMapping(b)
	files := syntheticTree(2000)
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i, src := range files {
			res, err := rewrite(fmt.Sprintf("p%d.go", i), src, m)
			if err != nil {
				b.Fatal(err)
			}
			if !res.Changed() {
				b.Fatalf("p%d.go: nothing rewritten", i)
			}
		}
	}
}
