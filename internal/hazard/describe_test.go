package hazard

import (
	"reflect"
	"testing"
)

// TestRemedies: the remedies of a registration, in the order plugfork
// lists them, from what the registration and the checked facts tell.
func TestRemedies(t *testing.T) {
	kinds := func(rs []Remedy) []RemedyKind {
		var out []RemedyKind
		for _, r := range rs {
			out = append(out, r.Kind)
		}
		return out
	}
	for _, tt := range []struct {
		name       string
		r          Registration
		root       bool
		pins, tags []string
		want       []RemedyKind
		keep       string
	}{
		{name: "literal", r: Registration{Package: "example.com/pq", Registry: SQL, Name: "pq"},
			want: []RemedyKind{RemedyKeep, RemedyAccept}, keep: "plugfork fork --keep example.com/pq"},
		{name: "root", r: Registration{Package: "example.com/pq", Registry: SQL, Name: "pq"}, root: true, pins: []string{"example.com/pq@v1.0.0", "example.com/x@v1.0.0"},
			want: []RemedyKind{RemedyKeep, RemedyAccept}, keep: "plugfork fork --keep example.com/pq/..."},
		{name: "checked tag, var", r: Registration{Package: "example.com/tr", Registry: SQL, Name: "tr", Var: "driverName"}, tags: []string{"notrace"},
			want: []RemedyKind{RemedyKeep, RemedyBuildTag, RemedyLdflags, RemedyAccept}, keep: "plugfork fork --keep example.com/tr"},
		{name: "protobuf", r: Registration{Package: "example.com/pb", Registry: Protobuf, Name: "a.proto"},
			want: []RemedyKind{RemedyKeep, RemedyLdflags, RemedyAccept}, keep: "plugfork fork --keep example.com/pb"},
	} {
		got := Remedies("p.example/w", tt.r, tt.root, tt.pins, tt.tags)
		if !reflect.DeepEqual(kinds(got), tt.want) || got[0].Do != tt.keep || !reflect.DeepEqual(got[0].Pins, tt.pins) {
			t.Errorf("%s: %+v", tt.name, got)
		}
	}
	rename := Remedies("p.example/w", Registration{Package: "example.com/tr", Registry: SQL, Name: "tr", Var: "driverName"}, false, nil, nil)[1]
	if want := "build the host with -ldflags=-X=p.example/w/example.com/tr.driverName=tr-host"; rename.Do != want {
		t.Errorf("rename: %q, want %q", rename.Do, want)
	}
}
