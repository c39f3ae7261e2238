package sarif

import (
	"reflect"
	"testing"
)

func TestAt(t *testing.T) {
	for _, c := range []struct {
		pos    string
		file   string
		region *Region
	}{
		{"main.go:8:22", "main.go", &Region{StartLine: 8, StartColumn: 22}},
		{"go.mod:5", "go.mod", &Region{StartLine: 5}},
		{"third_party/forked", "third_party/forked", nil},
		{"a:b/c.go:3:1", "a:b/c.go", &Region{StartLine: 3, StartColumn: 1}},
		{"host.bin", "host.bin", nil},
	} {
		got := At(c.pos).PhysicalLocation
		if got.ArtifactLocation.URI != c.file || got.ArtifactLocation.URIBaseID != SrcRoot || !reflect.DeepEqual(got.Region, c.region) {
			t.Errorf("At(%q) = %+v %+v, want %s %+v", c.pos, got.ArtifactLocation, got.Region, c.file, c.region)
		}
	}
}
