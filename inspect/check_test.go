package inspect

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestClassify checks the cause of each kind of difference on binaries
// made by hand; the scenario matrix checks them on real ones.
func TestClassify(t *testing.T) {
	host := func() *Binary {
		return &Binary{
			Path: "host", Kind: KindHost, GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26.8",
			Main:     Module{Path: "example.com/host", Version: "(devel)"},
			Modules:  []Module{{Path: "github.com/pkg/errors", Version: "v0.8.1", Sum: "h1:a="}},
			Settings: []Setting{{"-buildmode", "exe"}, {"CGO_ENABLED", "1"}},
			Packages: []Package{{"runtime", "01"}, {"github.com/pkg/errors", "02"}, {"github.com/pkg/errors/sub", "03"}, {"example.com/host/sdk", "05"}},
		}
	}
	plugin := func(edit func(p *Binary)) *Binary {
		p := &Binary{
			Path: "p.so", Kind: KindPlugin, GOOS: "linux", GOARCH: "amd64", GoVersion: "go1.26.8", PluginPath: "example.com/p",
			Main:     Module{Path: "example.com/p", Version: "(devel)"},
			Modules:  []Module{{Path: "github.com/pkg/errors", Version: "v0.8.1", Sum: "h1:a="}},
			Settings: []Setting{{"-buildmode", "plugin"}, {"CGO_ENABLED", "1"}},
			Packages: []Package{{"runtime", "01"}, {"github.com/pkg/errors", "f2"}, {"github.com/pkg/errors/sub", "f3"}, {"example.com/p", "04"}},
		}
		edit(p)
		return p
	}
	tests := []struct {
		name    string
		plugin  *Binary
		kind    CauseKind
		summary string
		fix     string
	}{
		{"version", plugin(func(p *Binary) { p.Modules[0].Version = "v0.9.1" }),
			CauseModuleVersion, "github.com/pkg/errors: host v0.8.1, plugin v0.9.1",
			"require github.com/pkg/errors v0.8.1"},
		{"replace", plugin(func(p *Binary) { p.Modules[0].Replace = &Module{Path: "../errors"} }),
			CauseModuleSource, "github.com/pkg/errors: host v0.8.1, plugin v0.8.1 => ../errors: same version, another source",
			"plugfork fork"},
		{"toolchain", plugin(func(p *Binary) { p.GoVersion = "go1.26.7" }),
			CauseToolchain, "toolchain: host go1.26.8, plugin go1.26.7", "GOTOOLCHAIN=go1.26.8"},
		{"settings", plugin(func(p *Binary) {
			p.Settings = append(p.Settings, Setting{"-trimpath", "true"}, Setting{"-race", "true"}, Setting{"GOAMD64", "v3"})
		}),
			CauseBuildSettings, `build settings: -trimpath host unset, plugin "true"; -race host unset, plugin "true"`,
			"without -trimpath, without -race"},
		{"trimpath-host-package", plugin(func(p *Binary) {
			p.Modules = append(p.Modules, Module{Path: "example.com/host", Version: "(devel)"})
			p.Packages = []Package{{"runtime", "01"}, {"github.com/pkg/errors", "02"}, {"github.com/pkg/errors/sub", "03"}, {"example.com/host/sdk", "f5"}, {"example.com/p", "04"}}
		}),
			CauseTrimpath, "example.com/host: compiled from a directory in the host and in the plugin, without -trimpath", "build the host and the plugin with -trimpath"},
		{"trimpath-fork", plugin(func(p *Binary) {
			p.Modules[0].Replace = &Module{Path: "/elsewhere/third_party/forked/github.com/pkg/errors"}
		}),
			CauseTrimpath, "github.com/pkg/errors: compiled from a directory in the host and in the plugin", "-trimpath"},
		{"trimpath-module-cache", plugin(func(p *Binary) {}),
			CauseTrimpath, "github.com/pkg/errors v0.8.1: the same version in the host and in the plugin, without -trimpath", "-trimpath"},
		{"unknown", plugin(func(p *Binary) { p.Settings = append(p.Settings, Setting{"-trimpath", "true"}) }),
			CauseUnknown, "same version and build settings", "-trimpath"},
		{"go-version", plugin(func(p *Binary) { p.GoVersion = "go1.25.3" }),
			CauseGoVersion, "built with go1.25.3, the host with go1.26.8", "GOTOOLCHAIN=go1.26.8"},
		{"platform", plugin(func(p *Binary) { p.GOARCH = "arm64" }),
			CausePlatform, "built for linux/arm64, the host is linux/amd64", "GOARCH=amd64"},
	}
	// The host's side of the cases that need one of their own.
	hostEdits := map[string]func(h *Binary){
		// A fork, replaced by a directory in both.
		"trimpath-fork": func(h *Binary) { h.Modules[0].Replace = &Module{Path: "./third_party/forked/github.com/pkg/errors"} },
		"unknown":       func(h *Binary) { h.Settings = append(h.Settings, Setting{"-trimpath", "true"}) },
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := host()
			if edit := hostEdits[tt.name]; edit != nil {
				edit(h)
			}
			rep, err := CheckBinaries(h, tt.plugin)
			if err != nil {
				t.Fatal(err)
			}
			v := rep.Plugins[0]
			if v.Loads() || len(v.Causes) != 1 {
				t.Fatalf("loads=%v, causes %+v", v.Loads(), v.Causes)
			}
			c := v.Causes[0]
			if c.Kind != tt.kind || !strings.Contains(c.Summary, tt.summary) || !strings.Contains(c.Fix, tt.fix) {
				t.Errorf("got %s: %s (fix: %s)\nwant %s: %s (fix: ...%s...)", c.Kind, c.Summary, c.Fix, tt.kind, tt.summary, tt.fix)
			}
			if c.Kind == CauseModuleVersion && !slices.Equal(c.Packages, []string{"github.com/pkg/errors", "github.com/pkg/errors/sub"}) {
				t.Errorf("packages %v", c.Packages)
			}
		})
	}
}

func TestCheckBinariesKinds(t *testing.T) {
	h := &Binary{Path: "h", Kind: KindHost}
	p := &Binary{Path: "p.so", Kind: KindPlugin}
	if _, err := CheckBinaries(p); err == nil || !strings.Contains(err.Error(), "not a host") {
		t.Errorf("plugin as host: %v", err)
	}
	if _, err := CheckBinaries(h, h); err == nil || !strings.Contains(err.Error(), "not a plugin") {
		t.Errorf("host as plugin: %v", err)
	}
	rep, err := CheckBinaries(h)
	if err != nil || !rep.Loads() || rep.Schema != Schema || rep.Plugins == nil {
		t.Errorf("host alone: %+v, %v", rep, err)
	}
}

func TestMinor(t *testing.T) {
	for in, want := range map[string]string{"go1.26.8": "go1.26", "go1.26rc1": "go1.26", "go1.26": "go1.26", "devel": "devel"} {
		if got := minor(in); got != want {
			t.Errorf("minor(%q) = %q, want %q", in, got, want)
		}
	}
}

// The test binary does not link package plugin: it cannot load plugins,
// and CheckExecutable says so.
func TestCheckExecutable(t *testing.T) {
	_, err := CheckExecutable()
	var ie *Error
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "this host cannot load plugins: it does not link package plugin") {
		t.Errorf("CheckExecutable() = %v, want an *Error saying the host cannot load plugins", err)
	}
}

func TestVerdictJSON(t *testing.T) {
	for _, tt := range []struct {
		outcome Outcome
		want    string
	}{
		{OutcomeLoads, `"packages":null},"loads":true,"outcome":"loads"}`}, // after "plugin", the last field
		{OutcomePanics, `"loads":false,"outcome":"panics"`},
		{OutcomeNotReached, `"loads":false,"outcome":"not-reached"`},
	} {
		v := &Verdict{Plugin: &Binary{Path: "p.so", Kind: KindPlugin}, Outcome: tt.outcome}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tt.want) {
			t.Errorf("JSON of a verdict %s = %s, want it to hold %s", tt.outcome, data, tt.want)
		}
	}
}
