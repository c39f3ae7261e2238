package inspect_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/testgo"
)

var (
	env     *testgo.Env
	workDir string // the scenario sources and the binaries built from them
)

func TestMain(m *testing.M) {
	var err error
	env, err = testgo.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	workDir, err = os.MkdirTemp("", "plugfork-inspect-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(workDir)
	env.Close()
	os.Exit(code)
}

// build is how one binary of the scenarios is built: from which directory
// of testdata/scenarios.txtar, as host or plugin, with which flags.
type build struct {
	dir    string
	plugin bool
	flags  []string
	copyOf string // a byte-for-byte copy of another binary, in another file
}

var builds = map[string]build{
	"host":              {dir: "host"},
	"host-trimpath":     {dir: "host", flags: []string{"-trimpath"}},
	"host-tags":         {dir: "host", flags: []string{"-tags=inspect_extra"}},
	"host-stripped":     {dir: "host", flags: []string{"-ldflags=-s -w"}},
	"host-pie":          {dir: "host", flags: []string{"-buildmode=pie"}},
	"hostbare":          {dir: "hostbare"},
	"hostindirect":      {dir: "hostindirect"},
	"hostfork":          {dir: "hostfork"},
	"plugin":            {dir: "plugin", plugin: true},
	"plugin-copy":       {copyOf: "plugin"},
	"plugin-gcflags":    {dir: "plugin", plugin: true, flags: []string{"-gcflags=all=-N -l"}},
	"plugin-stripped":   {dir: "plugin", plugin: true, flags: []string{"-ldflags=-s -w"}},
	"plugin-race":       {dir: "plugin", plugin: true, flags: []string{"-race"}},
	"plugin11":          {dir: "plugin11", plugin: true},
	"plugin11-stripped": {dir: "plugin11", plugin: true, flags: []string{"-ldflags=-s -w"}},
	"pmulti":            {dir: "pmulti", plugin: true},
	"ptag":              {dir: "ptag", plugin: true},
	"pa":                {dir: "pa", plugin: true},
	"pb":                {dir: "pb", plugin: true},
}

var (
	buildMu  sync.Mutex
	built    = map[string]string{}
	srcReady bool
)

// binary returns the path of the named binary of builds, building it once
// per test binary.
func binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := built[name]; ok {
		return path
	}
	b, ok := builds[name]
	if !ok {
		t.Fatalf("no build %q", name)
	}
	if !srcReady {
		testgo.ExtractFile(t, filepath.Join("testdata", "scenarios.txtar"), filepath.Join(workDir, "src"), "")
		for _, dir := range []string{"host", "hostbare", "hostindirect", "hostfork"} {
			testgo.WriteLoader(t, filepath.Join(workDir, "src", dir))
		}
		srcReady = true
	}
	out := filepath.Join(workDir, name)
	switch {
	case b.copyOf != "":
		buildMu.Unlock()
		src := binary(t, b.copyOf)
		buildMu.Lock()
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		out += ".so"
		if err := os.WriteFile(out, data, 0o777); err != nil {
			t.Fatal(err)
		}
	case b.plugin:
		out += ".so"
		env.BuildPlugin(t, filepath.Join(workDir, "src", b.dir), out, b.flags...)
	default:
		env.BuildHost(t, filepath.Join(workDir, "src", b.dir), out, b.flags...)
	}
	built[name] = out
	return out
}

// want is the expected verdict on one plugin: loads, or the kinds of the
// causes inspect gives, in order.
type want struct {
	loads bool
	kinds []inspect.CauseKind
	pkgs  []string // packages that must be among the mismatches
}

var scenarios = []struct {
	name    string
	host    string
	plugins []string
	want    []want
}{
	{"aligned", "host", []string{"plugin"}, []want{{loads: true}}},
	{"version-one-package", "host", []string{"plugin11"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}, pkgs: []string{"example.com/dep"}}}},
	{"version-several-packages", "host", []string{"pmulti"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}, pkgs: []string{"example.com/inspect/multi", "example.com/inspect/multi/a", "example.com/inspect/multi/b"}}}},
	{"trimpath-host-only", "host-trimpath", []string{"plugin"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseBuildSettings}, pkgs: []string{"runtime", "example.com/dep"}}}},
	{"gcflags-plugin-only", "host", []string{"plugin-gcflags"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseBuildSettings}, pkgs: []string{"runtime", "example.com/dep"}}}},
	{"race-plugin-only", "host", []string{"plugin-race"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseBuildSettings}, pkgs: []string{"runtime"}}}},
	{"build-tags", "host-tags", []string{"ptag"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseBuildSettings}, pkgs: []string{"example.com/inspect/tagged"}}}},
	{"host-links-indirectly", "hostindirect", []string{"plugin11"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}, pkgs: []string{"example.com/dep"}}}},
	{"plugin-against-plugin", "hostbare", []string{"pa", "pb"},
		[]want{{loads: true}, {kinds: []inspect.CauseKind{inspect.CauseModuleVersion}, pkgs: []string{"example.com/dep"}}}},
	{"same-file-twice", "host", []string{"plugin", "plugin"}, []want{{loads: true}, {loads: true}}},
	{"same-file-twice-failed", "host", []string{"plugin11", "plugin11"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}}, {kinds: []inspect.CauseKind{inspect.CausePrevFailure}}}},
	{"same-plugin-path-twice", "host", []string{"plugin", "plugin-copy"},
		[]want{{loads: true}, {kinds: []inspect.CauseKind{inspect.CauseAlreadyLoaded}}}},
	{"same-plugin-path-after-failure", "host", []string{"plugin11", "plugin"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}}, {kinds: []inspect.CauseKind{inspect.CauseSamePluginPath}, pkgs: []string{"example.com/plugin"}}}},
	{"stripped-aligned", "host-stripped", []string{"plugin-stripped"}, []want{{loads: true}}},
	{"stripped-version", "host-stripped", []string{"plugin11-stripped"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}, pkgs: []string{"example.com/dep"}}}},
	{"pie-host", "host-pie", []string{"pmulti", "plugin11"},
		[]want{{kinds: []inspect.CauseKind{inspect.CauseModuleVersion}}, {kinds: []inspect.CauseKind{inspect.CauseModuleVersion}, pkgs: []string{"example.com/dep"}}}},
	{"forked-host", "hostfork", []string{"plugin11"}, []want{{loads: true}}},
}

// TestScenarios compares inspect's verdicts with what plugin.Open really
// does, in a child process, for every scenario of the matrix.
func TestScenarios(t *testing.T) {
	agree, ran := 0, 0
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ran++
			host := binary(t, sc.host)
			var plugins []string
			for _, p := range sc.plugins {
				plugins = append(plugins, binary(t, p))
			}
			rep, err := inspect.Check(host, plugins...)
			if err != nil {
				t.Fatal(err)
			}
			real := testgo.Load(context.Background(), host, plugins...)
			if real.Err != nil || len(real.Outcomes) != len(plugins) {
				t.Fatalf("loader: %v\nstdout:\n%s\nstderr:\n%s", real.Err, real.Stdout, real.Stderr)
			}
			ok := true
			for i, v := range rep.Plugins {
				o := real.Outcomes[i]
				w := sc.want[i]
				if v.Loads() != o.Loaded {
					ok = false
					t.Errorf("plugin %d (%s): inspect says loads=%v, plugin.Open: loaded=%v %s", i, sc.plugins[i], v.Loads(), o.Loaded, o.Err)
					continue
				}
				if !o.Loaded {
					if v.Error != o.Err {
						ok = false
						t.Errorf("plugin %d (%s): inspect predicts\n\t%s\nplugin.Open says\n\t%s", i, sc.plugins[i], v.Error, o.Err)
					}
					msg := strings.TrimSuffix(o.Err[strings.Index(o.Err, "): ")+3:], " (previous failure)")
					if pkg, found := strings.CutPrefix(msg, "plugin was built with a different version of package "); found && v.Note == "" && len(v.Mismatches) > 0 && !slices.ContainsFunc(v.Mismatches, func(m inspect.Mismatch) bool { return m.Package == pkg }) {
						ok = false
						t.Errorf("plugin %d (%s): real error's package %s not among inspect's mismatches", i, sc.plugins[i], pkg)
					}
				}
				if v.Loads() != w.loads {
					t.Errorf("plugin %d (%s): loads=%v, want %v", i, sc.plugins[i], v.Loads(), w.loads)
				}
				var kinds []inspect.CauseKind
				for _, c := range v.Causes {
					if !slices.Contains(kinds, c.Kind) {
						kinds = append(kinds, c.Kind)
					}
				}
				if w.kinds != nil && !slices.Equal(kinds, w.kinds) {
					t.Errorf("plugin %d (%s): cause kinds %v, want %v\n%s", i, sc.plugins[i], kinds, w.kinds, causes(v))
				}
				for _, pkg := range w.pkgs {
					if !slices.ContainsFunc(v.Mismatches, func(m inspect.Mismatch) bool { return m.Package == pkg }) {
						t.Errorf("plugin %d (%s): %s not among the mismatches\n%s", i, sc.plugins[i], pkg, causes(v))
					}
				}
			}
			if ok {
				agree++
			}
			if testing.Verbose() {
				for i, v := range rep.Plugins {
					t.Logf("plugin %d: loads=%v real=%q\n%s", i, v.Loads(), real.Outcomes[i].Err, causes(v))
				}
			}
		})
	}
	t.Logf("%d of %d scenarios agree with plugin.Open", agree, ran)
}

func causes(v *inspect.Verdict) string {
	var b strings.Builder
	for _, c := range v.Causes {
		fmt.Fprintf(&b, "\t%s: %s (%d packages: %s)\n\t\tfix: %s\n", c.Kind, c.Summary, len(c.Packages), strings.Join(c.Packages[:min(len(c.Packages), 4)], " "), c.Fix)
	}
	return b.String()
}
