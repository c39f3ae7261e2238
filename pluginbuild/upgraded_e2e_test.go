package pluginbuild_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/pluginbuild"
)

// TestUpgradedForkTold: a fork is required at its upstream version, so the
// host binary's build information tells an upgraded fork from the old one.
// A plugin built against the framework after its fork of example.com/ident
// moved from v1.0.0 to v1.2.0 is judged against the host binary built
// before: the cause names both versions of the fork, not "same version,
// another source".
func TestUpgradedForkTold(t *testing.T) {
	dir := t.TempDir()
	old := framework(t, dir, "framework")
	forkHost(t, old)
	oldBin := buildHost(t, old, "-trimpath")
	upgraded := framework(t, dir, "upgraded")
	env.Go(t, upgraded, "get", "example.com/ident@v1.2.0")
	forkHost(t, upgraded)
	newBin := buildHost(t, upgraded, "-trimpath")

	fork := prefix + "/example.com/ident"
	for bin, want := range map[string]string{oldBin: "v1.0.0", newBin: "v1.2.0"} {
		b, err := inspect.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := b.ModuleOf(fork); !ok || m.Version != want {
			t.Errorf("%s links %s %+v; want version %s", filepath.Base(bin), fork, m, want)
		}
	}

	biz := plugin(t, filepath.Join(dir, "biz"), bizByVersion)
	env.Go(t, biz, "mod", "tidy")
	res := build(t, pluginbuild.Config{Dir: biz, Host: upgraded, HostBinary: oldBin})
	if res.Loads() {
		t.Fatalf("a plugin built against the upgraded fork is predicted to load into the old host")
	}
	c := fromCause(res.Verdict.Causes, fork)
	if c.Kind != inspect.CauseModuleVersion || !strings.HasPrefix(c.Want, "v1.0.0 ") || !strings.HasPrefix(c.Have, "v1.2.0 ") || !strings.Contains(c.Fix, "upgraded fork") {
		t.Errorf("cause of %s: %+v\nwant module-version v1.0.0 against v1.2.0, and the fix for an upgraded fork", fork, c)
	}
	// The plugin's build information names the host's directory, not the
	// temporary workspace's.
	if want := "v1.2.0 => " + filepath.Join(upgraded, "third_party", "forked", "example.com", "ident"); !strings.HasPrefix(c.Have, want) {
		t.Errorf("the plugin links %s %q, want %q", fork, c.Have, want)
	}
}

// fromCause returns the cause that names module (the zero Cause if none).
func fromCause(causes []inspect.Cause, module string) inspect.Cause {
	for _, c := range causes {
		if c.Module == module {
			return c
		}
	}
	return inspect.Cause{}
}
