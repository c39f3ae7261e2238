package sbom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testBill is a host with one plain module (a +incompatible version) and
// one fork.
var testBill = &Bill{
	Host: "example.com/host",
	Modules: []Module{
		{Path: "example.com/kept", Version: "v2.0.0+incompatible", Sum: "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
	},
	Forks: []Fork{{
		Module:   Module{Path: "gitlab.example.com/workflow/example.com/vulnlib", Version: "v0.0.0-00010101000000-000000000000", Sum: "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="},
		Dir:      "third_party/forked/example.com/vulnlib",
		Upstream: Module{Path: "example.com/vulnlib", Version: "v1.0.0", Sum: "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA="},
	}},
}

func write(t *testing.T, b *Bill, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := b.Write(&buf, f, Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden: each format's output is byte for byte the golden file, and
// the same bill gives the same bytes twice (no clock, no random serial).
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		format Format
		golden string
	}{{CycloneDX, "bill.cdx.json"}, {SPDX, "bill.spdx.json"}} {
		got := write(t, testBill, c.format)
		if again := write(t, testBill, c.format); !bytes.Equal(got, again) {
			t.Errorf("%s: two writes of the same bill differ", c.format)
		}
		name := filepath.Join("testdata", c.golden)
		if *update {
			if err := os.WriteFile(name, got, 0o666); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (go test ./sbom -update rewrites it):\n%s", c.format, name, got)
		}
	}
}

// cycloneDXSchema compiles the official CycloneDX 1.6 JSON schema, as the
// CycloneDX specification publishes it (copied from the schema directory
// of github.com/CycloneDX/cyclonedx-go v0.12.0, with the documents it
// references).
func cycloneDXSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, name := range []string{"bom-1.6.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"} {
		f, err := os.Open(filepath.Join("testdata", "schema", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("http://cyclonedx.org/schema/bom-1.6.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestCycloneDXValidates: the output validates against the official
// schema, and a BOM the schema forbids (a hash that is not hex) does not,
// so the validation can fail.
func TestCycloneDXValidates(t *testing.T) {
	sch := cycloneDXSchema(t)
	out := write(t, testBill, CycloneDX)
	for _, c := range []struct {
		name  string
		doc   []byte
		valid bool
	}{
		{"plugfork's", out, true},
		{"bad hash", bytes.Replace(out, []byte(`"content": "0000`), []byte(`"content": "zzzz`), 1), false},
		{"empty host", write(t, &Bill{Host: "example.com/empty"}, CycloneDX), true},
	} {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); (err == nil) != c.valid {
			t.Errorf("%s: validation error %v, want valid %v", c.name, err, c.valid)
		}
	}
}

// TestForkFacts: the CycloneDX fork component names its upstream in
// pedigree.ancestors, and the upstream is also a top-level component; the
// SPDX fork is DESCENDANT_OF the upstream package.
func TestForkFacts(t *testing.T) {
	var bom struct {
		Components []struct {
			BOMRef   string `json:"bom-ref"`
			Name     string `json:"name"`
			Purl     string `json:"purl"`
			Pedigree *struct {
				Ancestors []struct {
					Purl   string `json:"purl"`
					Hashes []struct{ Alg, Content string }
				} `json:"ancestors"`
			} `json:"pedigree"`
		} `json:"components"`
	}
	if err := json.Unmarshal(write(t, testBill, CycloneDX), &bom); err != nil {
		t.Fatal(err)
	}
	up := "pkg:golang/example.com/vulnlib@v1.0.0"
	var ancestor, topLevel bool
	for _, c := range bom.Components {
		if c.Purl == up && c.Pedigree == nil {
			topLevel = true
		}
		if c.Name == "gitlab.example.com/workflow/example.com/vulnlib" && c.Pedigree != nil {
			a := c.Pedigree.Ancestors
			ancestor = len(a) == 1 && a[0].Purl == up && len(a[0].Hashes) == 1 && a[0].Hashes[0].Content == sha256Hex(testBill.Forks[0].Upstream.Sum)
		}
	}
	if !ancestor || !topLevel {
		t.Errorf("CycloneDX: fork with ancestor %s and its hash: %v; %s top-level: %v", up, ancestor, up, topLevel)
	}
	doc, err := spdxjson.Read(bytes.NewReader(write(t, testBill, SPDX)))
	if err != nil {
		t.Fatal(err)
	}
	var descends bool
	for _, r := range doc.Relationships {
		if r.Relationship == "DESCENDANT_OF" && r.RefA.ElementRefID == spdxID(testBill.Forks[0].Module) && r.RefB.ElementRefID == spdxID(testBill.Forks[0].Upstream) {
			descends = true
		}
	}
	if !descends {
		t.Errorf("SPDX: no fork DESCENDANT_OF upstream in %+v", doc.Relationships)
	}
}
