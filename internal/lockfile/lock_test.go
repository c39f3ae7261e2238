package lockfile

import (
	"reflect"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/hazard"
)

func sampleLock() *Lock {
	return &Lock{
		Prefix:    "gitlab.example.com/workflow",
		Dir:       "third_party/forked",
		Keep:      []string{"example.com/api/...", "example.com/b"},
		Tests:     true,
		Platforms: []string{"linux/amd64", "darwin/arm64"},
		Tags:      []string{"goplugin"},
		Largest: []LargeFile{
			{Path: "third_party/forked/example.com/a/lib/lib a.a", Module: "example.com/a", Bytes: 60 << 20, Chain: []Step{
				{Package: "example.com/host/extra", File: "extra.go", Constraint: "x_extra"}, {Package: "example.com/a/lib"}}},
			{Path: "third_party/forked/example.com/a/LICENSE", Module: "example.com/a", Bytes: 1000},
		},
		Forks: []Fork{
			{Path: "example.com/UpperCase", Version: "v1.0.0", Sum: "h1:abc=", ForkPath: "gitlab.example.com/workflow/example.com/UpperCase",
				ForkDir: "third_party/forked/example.com/!upper!case", TreeHash: "h1:def=", Require: RequireDirect, Packages: 2},
			{Path: "example.com/a", Version: "v0.0.0-20200101000000-abcdefabcdef", Replace: "../a b", Sum: "h1:x=", ForkPath: "gitlab.example.com/workflow/example.com/a",
				ForkDir: "third_party/forked/example.com/a", TreeHash: "h1:y=", Require: RequireNone, Files: 7, Bytes: 12345,
				Remedies: []Remedy{
					{Package: "example.com/a/db", Tags: []string{"nodb", "x"}, Pins: []string{"example.com/a@v0.0.0-20200101000000-abcdefabcdef"}},
					{Package: "example.com/a", Root: true},
				},
				ExposedBy: []ExposedBy{
					{Package: "example.com/host/sdk", Decl: "Request.ID", Kind: "field", Type: "example.com/a/id"},
					{Package: "example.com/host/sdk", Decl: "New", Kind: "result", Type: "example.com/a"},
				},
				KeepPins: []string{"example.com/z@v1.0.0", "example.com/a@v0.0.0-20200101000000-abcdefabcdef"},
				Registrations: []hazard.Registration{
					{Package: "example.com/a/db", Registry: hazard.SQL, Name: "a db", Var: "driverName", Pos: "third_party/forked/example.com/a/db/db.go:9:2", Call: `sql.Register(driverName, &Driver{})`},
					{Package: "example.com/a", Registry: hazard.HTTP, Name: "/debug/a", Pos: "third_party/forked/example.com/a/a.go:3:4", Call: `http.HandleFunc("/debug/a", h)`, Panic: "/debug/a is taken:\n\t\"twice\""},
				}},
		},
		Exposed:   []Exposed{{Package: "example.com/host/sdk", Forks: []string{"example.com/UpperCase", "example.com/a"}}},
		NotShared: []NotShared{{Package: "example.com/b/y", Imports: "example.com/z"}},
		HostFiles: []string{"main.go", "sdk/sdk.go"},
		Findings: []Finding{
			{Pos: "main.go:3:4", Kind: "string-literal", Path: "example.com/a", Message: "holds \"example.com/a\"", Behaviour: "compared with a path at run time"},
			{Pos: "third_party/forked/example.com/a/c.go:1:1", Kind: "cgo", Message: "uses cgo"},
		},
		Accepted: []Acceptance{{Package: "example.com/a", Reason: "plugins never link \"a\"; checked 2026-12-01"}},
		Surface: []Shared{
			{Package: "example.com/b/x", Module: "example.com/b", Version: "v1.2.0", Fingerprint: "0123456789abcdef", Why: "exposed by example.com/api.Plugin.Handle"},
			{Package: "example.com/api", Module: "example.com/api", Version: "v1.0.0", Fingerprint: "fedcba9876543210", Why: "kept"},
			{Package: "example.com/b/win", Module: "example.com/b", Version: "v1.2.0", Unbuilt: true, Why: "imported by example.com/b/x"},
		},
		Platform: "linux/amd64",
	}
}

func TestLockRoundTrip(t *testing.T) {
	l := sampleLock()
	text := l.Format()
	got, err := Parse("plugfork.lock", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if again := got.Format(); string(again) != string(text) {
		t.Errorf("round trip changed the lock:\n%s\nwant:\n%s", again, text)
	}
	if got.Forks[1].Replace != "../a b" || !got.Tests || len(got.Keep) != 2 || got.Forks[1].Files != 7 || got.Forks[1].Bytes != 12345 {
		t.Errorf("fields lost: %+v", got)
	}
	if !reflect.DeepEqual(got.Forks[1].Registrations, []hazard.Registration{l.Forks[1].Registrations[1], l.Forks[1].Registrations[0]}) ||
		!reflect.DeepEqual(got.Accepted, l.Accepted) || !reflect.DeepEqual(got.Surface, []Shared{l.Surface[1], l.Surface[2], l.Surface[0]}) || got.Platform != l.Platform {
		t.Errorf("registrations or accepted hazards lost:\n%+v\n%+v", got.Forks[1].Registrations, got.Accepted)
	}
	if !reflect.DeepEqual(got.Exposed, l.Exposed) || !reflect.DeepEqual(got.NotShared, l.NotShared) || !reflect.DeepEqual(got.HostFiles, l.HostFiles) ||
		!reflect.DeepEqual(got.Findings, l.Findings) || !reflect.DeepEqual(got.Forks[1].ExposedBy, []ExposedBy{l.Forks[1].ExposedBy[1], l.Forks[1].ExposedBy[0]}) ||
		!reflect.DeepEqual(got.Forks[1].KeepPins, []string{l.Forks[1].KeepPins[1], l.Forks[1].KeepPins[0]}) || !reflect.DeepEqual(got.Forks[1].Remedies, []Remedy{l.Forks[1].Remedies[1], l.Forks[1].Remedies[0]}) {
		t.Errorf("what the result needs was lost:\n%s", text)
	}
	if !reflect.DeepEqual(got.Platforms, []string{"darwin/arm64", "linux/amd64"}) || !reflect.DeepEqual(got.Tags, l.Tags) || !reflect.DeepEqual(got.Largest, l.Largest) {
		t.Errorf("scope or largest files lost:\n%s", text)
	}
	if got.Version != lockVersion {
		t.Errorf("read as version %d, want %d", got.Version, lockVersion)
	}
}

// TestParseLockVersion1: a lock plugfork wrote before registrations and
// accepted hazards is read, and written back as the current version.
func TestParseLockVersion1(t *testing.T) {
	v1 := strings.Replace(string((&Lock{Prefix: "p.example/x", Dir: "forks"}).Format()), "plugfork 4", "plugfork 1", 1)
	l, err := Parse("plugfork.lock", []byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != 1 || l.Version >= Complete {
		t.Errorf("read as version %d, want 1 (not complete)", l.Version)
	}
	if !strings.Contains(string(l.Format()), "plugfork 4\n") {
		t.Errorf("written as:\n%s", l.Format())
	}
}

func TestParseLockErrors(t *testing.T) {
	good := string(sampleLock().Format())
	for _, tt := range []struct {
		name, edit, want string
	}{
		{"not a lock", "hello\n", "plugfork.lock:1: not a plugfork lock"},
		{"future", strings.Replace(good, "plugfork 4", "plugfork 9", 1), `lock format "9" is not supported`},
		{"escape dir", strings.Replace(good, "dir third_party/forked/example.com/a\n", "dir ../../etc\n", 1), `plugfork.lock:37: fork example.com/a: dir "../../etc" is not where its fork lives (third_party/forked/example.com/a): the lock was edited by hand; restore it from version control (git checkout plugfork.lock), or write "dir third_party/forked/example.com/a" on that line`},
		{"absolute dir", strings.Replace(good, "dir third_party/forked\n", "dir /etc\n", 1), `must be relative`},
		{"dotdot dir", strings.Replace(good, "dir third_party/forked\n", "dir ../x\n", 1), `must stay inside the host module`},
		{"wrong fork path", strings.Replace(good, "path gitlab.example.com/workflow/example.com/a\n", "path evil.com/x\n", 1), `is not gitlab.example.com/workflow/example.com/a`},
		{"bad require", strings.Replace(good, "require none", "require maybe", 1), `want direct, indirect or none`},
		{"unknown", good + "frobnicate\n", `unknown directive "frobnicate"`},
		{"field outside", strings.Replace(good, "plugfork 4\n", "plugfork 4\n\tsum h1:x=\n", 1), `sum outside a fork entry`},
		{"bad files", strings.Replace(good, "files 7 12345", "files 7", 1), `files: want "files COUNT BYTES"`},
		{"negative bytes", strings.Replace(good, "files 7 12345", "files 7 -1", 1), `files: want "files COUNT BYTES"`},
		{"bad remedy", strings.Replace(good, "remedy example.com/a root", "remedy example.com/a both", 1), `remedy: want "remedy PACKAGE root|package TAGS PIN..."`},
		{"empty tag", strings.Replace(good, `"nodb,x"`, `"nodb,"`, 1), `remedy: empty tag or pin`},
		{"short exposed", strings.Replace(good, "exposed example.com/host/sdk example.com/UpperCase example.com/a", "exposed example.com/host/sdk", 1), `exposed: want`},
		{"short not-shared", strings.Replace(good, "not-shared example.com/b/y example.com/z", "not-shared example.com/b/y", 1), `not-shared: want`},
		{"host file outside", strings.Replace(good, `host-file "main.go"`, `host-file "../main.go"`, 1), `host-file "../main.go": must stay inside the host module`},
		{"short finding", strings.Replace(good, `finding cgo`, `finding cgo "x"`+"\nfinding", 1), `finding: want`},
		{"twice", good + "\nfork example.com/a v1.0.0\n", `listed twice`},
		{"short registers", strings.Replace(good, `"driverName"`, "", 1), `registers: want package, registry, name, var, pos, call and panic`},
		{"bad accept", strings.Replace(good, "accept example.com/a ", "accept ", 1), `accept: want a package and a reason`},
		{"short surface", strings.Replace(good, `surface example.com/api example.com/api v1.0.0 fedcba9876543210 "kept"`, `surface example.com/api "kept"`, 1), `surface: want "surface PACKAGE MODULE VERSION FINGERPRINT WHY"`},
		{"surface outside its module", strings.Replace(good, `surface example.com/api example.com/api`, `surface example.com/api example.com/b`, 1), `surface example.com/api: not a package of example.com/b`},
		{"bad fingerprint", strings.Replace(good, `fedcba9876543210`, `xyz`, 1), `fingerprint "xyz" is not 16 hex digits`},
		{"unbuilt without platform", strings.Replace(good, "proved-on linux/amd64\n", "", 1), `surface example.com/b/win: no fingerprint, but no platform it does not build on`},
		{"short exposed-by", strings.Replace(good, "exposed-by example.com/host/sdk New result example.com/a", "exposed-by example.com/host/sdk New result", 1), `exposed-by: want "exposed-by PACKAGE DECL KIND TYPE-PACKAGE"`},
		{"exposed-by outside", strings.Replace(good, "field example.com/a/id", "field example.com/b", 1), `fork example.com/a: exposed-by: package example.com/b is not in module example.com/a`},
		{"empty keep-pins", strings.Replace(good, "keep-pins example.com/a@v0.0.0-20200101000000-abcdefabcdef example.com/z@v1.0.0", "keep-pins", 1), `keep-pins: want`},
		{"surface twice", strings.Replace(good, `surface example.com/b/x`, "surface example.com/api example.com/api v1.0.0 fedcba9876543210 \"kept\"\nsurface example.com/b/x", 1), `surface example.com/api: listed twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("plugfork.lock", []byte(tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseLock: the lock reader never panics, and whatever it accepts
// formats to a lock it accepts again, identically.
func FuzzParseLock(f *testing.F) {
	f.Add(sampleLock().Format())
	f.Add([]byte("plugfork 1\nprefix a.b/c\ndir x\n"))
	f.Add([]byte("plugfork 4\nprefix a.b/c\ndir x\nexposed a.b/h a.b/d\nnot-shared a.b/k a.b/p\nhost-file \"m.go\"\nfinding cgo \"m.go:1:1\" \"\" \"m\" \"\"\n" +
		"\nfork a.b/d v1.0.0\n\tsum h1:x=\n\tpath a.b/c/a.b/d\n\tdir x/a.b/d\n\ttree h1:y=\n\trequire none\n\tfiles 2 30\n\tremedy a.b/d root \"t\" a.b/d@v1.0.0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("plugfork.lock", data)
		if err != nil {
			return
		}
		text := l.Format()
		l2, err := Parse("plugfork.lock", text)
		if err != nil {
			t.Fatalf("formatted lock does not parse: %v\n%s", err, text)
		}
		if string(l2.Format()) != string(text) {
			t.Fatalf("format is not stable:\n%s", text)
		}
	})
}

func sampleMarker() *Marker {
	return &Marker{
		Path: "example.com/a", Version: "v1.2.3", Replace: "example.com/b v1.0.0",
		Sum: "h1:abc=", ForkPath: "gitlab.example.com/workflow/example.com/a", Packages: 3,
		Files: map[string]string{"a.go": FileSum([]byte("package a\n")), "LICENSE": FileSum(nil), "sub dir/x y.txt": FileSum([]byte("x"))},
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	for _, m := range []*Marker{sampleMarker(), {Path: "example.com/c", Version: "v0.1.0", LocalDir: true, Sum: "h1:x=", ForkPath: "p/example.com/c"}} {
		text := m.Format()
		got, err := ParseMarker(text)
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if again := got.Format(); string(again) != string(text) {
			t.Errorf("round trip changed the marker:\n%s\nwant:\n%s", again, text)
		}
		if got.Path != m.Path || got.Version != m.Version || got.Replace != m.Replace || got.LocalDir != m.LocalDir || len(got.Files) != len(m.Files) {
			t.Errorf("fields lost: %+v, want %+v", got, m)
		}
	}
}

// TestMarkerFormat pins the marker's bytes: they are part of every
// committed fork's tree hash, so a change would report every fork as drift.
func TestMarkerFormat(t *testing.T) {
	m := &Marker{Path: "example.com/a", Version: "v1.0.0", Sum: "h1:s=", ForkPath: "p/example.com/a", Packages: 1,
		Files: map[string]string{"a.go": strings.Repeat("0", 64)}}
	want := `This directory is generated by plugfork. Do not edit it: edits are reported
by plugfork check and lost on the next plugfork fork.

upstream example.com/a@v1.0.0
sum      h1:s=
fork     p/example.com/a
packages 1

files (SHA-256):
` + strings.Repeat("0", 64) + `  a.go
`
	if got := string(m.Format()); got != want {
		t.Errorf("Format:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseMarkerErrors(t *testing.T) {
	good := string(sampleMarker().Format())
	for _, tt := range []struct {
		name, edit, want string
	}{
		{"not a marker", "hello\n", "not a plugfork marker"},
		{"bad sum", strings.Replace(good, FileSum([]byte("x"))+"  ", "xyz  ", 1), "PLUGFORK.txt:13: want"},
		{"unknown", strings.Replace(good, "sum      ", "frob     ", 1), `unknown field "frob"`},
		{"no files", good[:strings.Index(good, "files (SHA-256)")], "incomplete marker"},
		{"twice", strings.Replace(good, "fork     ", "sum      ", 1), "sum twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMarker([]byte(tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseMarker: the marker reader never panics, and whatever it accepts
// formats to a marker it accepts again, identically.
func FuzzParseMarker(f *testing.F) {
	f.Add(sampleMarker().Format())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMarker(data)
		if err != nil {
			return
		}
		text := m.Format()
		m2, err := ParseMarker(text)
		if err != nil {
			t.Fatalf("formatted marker does not parse: %v\n%s", err, text)
		}
		if string(m2.Format()) != string(text) {
			t.Fatalf("format is not stable:\n%s", text)
		}
	})
}

// TestLockInline: the layout line round-trips; an inline fork's dir is its
// module path unescaped (its import path below the host's); "layout
// modules" is the default, written as no line.
func TestLockInline(t *testing.T) {
	l := &Lock{Prefix: "example.com/host/third_party/forked", Dir: "third_party/forked", Layout: LayoutInline, Unignored: true,
		Forks: []Fork{{Path: "example.com/UpperCase", Version: "v1.0.0", Sum: "h1:abc=", ForkPath: "example.com/host/third_party/forked/example.com/UpperCase",
			ForkDir: "third_party/forked/example.com/UpperCase", TreeHash: "h1:def=", Require: RequireDirect, Packages: 1}}}
	text := string(l.Format())
	if !strings.Contains(text, "\nlayout inline\nunignored\n") {
		t.Errorf("no layout line:\n%s", text)
	}
	got, err := Parse("plugfork.lock", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Inline() || !got.Unignored {
		t.Errorf("layout lost: %+v", got)
	}
	modules, err := Parse("plugfork.lock", []byte(strings.Replace(string(sampleLock().Format()), "dir third_party/forked\n", "dir third_party/forked\nlayout modules\n", 1)))
	if err != nil || modules.Inline() || string(modules.Format()) != string(sampleLock().Format()) {
		t.Errorf("layout modules: %v, %+v", err, modules)
	}
	for _, tt := range []struct{ name, edit, want string }{
		{"unknown layout", strings.Replace(text, "layout inline", "layout flat", 1), `layout "flat": want inline`},
		{"unignored modules", strings.Replace(text, "layout inline\n", "", 1), `unignored: only the inline layout has it`},
		{"escaped inline dir", strings.Replace(text, "dir third_party/forked/example.com/UpperCase", "dir third_party/forked/example.com/!upper!case", 1), `is not where its fork lives (third_party/forked/example.com/UpperCase)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("plugfork.lock", []byte(tt.edit))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
