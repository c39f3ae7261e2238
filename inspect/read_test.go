package inspect_test

import (
	"bytes"
	"debug/elf"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plugfork/plugfork/inspect"
)

// TestStrippedSame checks that the plugin table and the host fingerprints
// read from stripped binaries are those of the unstripped ones (-s -w does
// not change fingerprints), and that the readers used what they must.
func TestStrippedSame(t *testing.T) {
	for _, pair := range [][2]string{{"host", "host-stripped"}, {"plugin", "plugin-stripped"}} {
		full, err := inspect.ReadFile(binary(t, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		stripped, err := inspect.ReadFile(binary(t, pair[1]))
		if err != nil {
			t.Fatal(err)
		}
		if full.Stripped || !stripped.Stripped {
			t.Errorf("%s: stripped=%v, %s: stripped=%v", pair[0], full.Stripped, pair[1], stripped.Stripped)
		}
		if !slices.Equal(full.Packages, stripped.Packages) || full.PluginPath != stripped.PluginPath {
			t.Errorf("%s and %s differ: %d and %d packages, plugin paths %q and %q", pair[0], pair[1], len(full.Packages), len(stripped.Packages), full.PluginPath, stripped.PluginPath)
		}
		if len(full.Packages) < 20 {
			t.Errorf("%s: only %d packages", pair[0], len(full.Packages))
		}
	}
	p, err := inspect.ReadFile(binary(t, "plugin"))
	if err != nil {
		t.Fatal(err)
	}
	if p.PluginPath != "example.com/plugin" || p.Kind != inspect.KindPlugin {
		t.Errorf("plugin: kind %s, plugin path %q", p.Kind, p.PluginPath)
	}
	// The table read from relocations is the one the symbol table names.
	f, err := elf.Open(binary(t, "plugin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == "go:link.pkghashes" })
	if i < 0 {
		t.Fatal("no go:link.pkghashes in the plugin's symbol table")
	}
	if n := int(syms[i].Size / 40); n != len(p.Packages) {
		t.Errorf("go:link.pkghashes has %d entries, inspect read %d", n, len(p.Packages))
	}
}

// TestReadCorrupt truncates and corrupts real binaries: Read returns
// errors or a binary, never panics.
func TestReadCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"host-stripped", "plugin-stripped"} {
		data, err := os.ReadFile(binary(t, name))
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		// The regions the readers use: headers, and the sections they read.
		type region struct{ off, size uint64 }
		regions := []region{{0, 4096}}
		for _, s := range f.Sections {
			switch s.Name {
			case ".dynsym", ".dynstr", ".rela.dyn", ".go.module", ".go.buildinfo", ".data.rel.ro", ".rodata":
				regions = append(regions, region{s.Offset, s.Size})
			}
		}
		for i := range 100 {
			n := rng.IntN(len(data))
			if i < 10 {
				n = i * 16
			}
			inspect.Read(bytes.NewReader(data[:n]))
		}
		buf := make([]byte, len(data))
		for range 300 {
			copy(buf, data)
			r := regions[rng.IntN(len(regions))]
			for range 1 + rng.IntN(8) {
				if r.size == 0 {
					break
				}
				buf[r.off+rng.Uint64N(r.size)] = byte(rng.Uint32())
			}
			b, err := inspect.Read(bytes.NewReader(buf))
			if (b == nil) == (err == nil) {
				t.Fatalf("Read = %v, %v", b, err)
			}
		}
	}
}

// BenchmarkCheckLarge inspects a large host (the standard library's big
// packages and 80 MB of embedded data: about 100 MB) and a plugin.
func BenchmarkCheckLarge(b *testing.B) {
	host := largeHost(b)
	plugin := binary(b, "plugin")
	fi, err := os.Stat(host)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := inspect.Check(host, plugin); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size())/1e6, "host-MB")
}

func largeHost(b *testing.B) string {
	dir := filepath.Join(workDir, "src", "hostlarge")
	out := filepath.Join(workDir, "hostlarge")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		b.Fatal(err)
	}
	blob := make([]byte, 80<<20)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < len(blob); i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			blob[i+j] = byte(v >> (8 * j))
		}
	}
	files := map[string]string{
		"go.mod":  "module example.com/inspect/hostlarge\n\ngo 1.21\n",
		"blob.go": "package main\n\nimport _ \"embed\"\n\n//go:embed blob.bin\nvar blob []byte\n\nfunc init() { _ = blob[0] }\n",
		"main.go": `package main

import (
	_ "crypto/tls"
	_ "database/sql"
	_ "encoding/xml"
	_ "go/parser"
	_ "go/types"
	_ "html/template"
	_ "image/png"
	_ "net/http"
	"os"
	"plugin"
	_ "runtime/pprof"
)

func main() {
	for _, p := range os.Args[1:] {
		plugin.Open(p)
	}
}
`,
		"blob.bin": string(blob),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o666); err != nil {
			b.Fatal(err)
		}
	}
	return env.BuildHost(b, dir, out)
}
