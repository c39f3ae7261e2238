package fork_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
)

// TestRealHazards: a real grpc host (v1.85.0) and a real lib/pq host, forked,
// with a plugin with its own grpc (whose golang.org/x/net/trace registers
// /debug/requests) and one with its own lib/pq ("postgres"): inspect
// predicts each panic, which the real host dies with; the remedies fork
// offers, built with -tags grpcnotrace and lib/pq kept shared (the plugin
// built with plugfork plugin build), make both load.
func TestRealHazards(t *testing.T) {
	real := realEnv(t)
	ctx := context.Background()
	dir := realFixture(t, real, "hazards", "host", "grpcplugin", "pqplugin")
	host, gp, pp := filepath.Join(dir, "host"), filepath.Join(dir, "grpcplugin"), filepath.Join(dir, "pqplugin")
	res, err := fork.Fork(ctx, fork.Config{Dir: host, Env: real.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	tag := remedy(t, res, "golang.org/x/net/trace", fork.RemedyBuildTag)
	if tag.Do != "build the host with -tags grpcnotrace" {
		t.Errorf("trace's build-tag remedy: %+v", tag)
	}
	remedy(t, res, "github.com/lib/pq", fork.RemedyKeep)

	grpcPlugin := real.BuildPlugin(t, gp, filepath.Join(dir, "grpc.so"))
	pqPlugin := real.BuildPlugin(t, pp, filepath.Join(dir, "pq.so"))
	bin := real.BuildHost(t, host, filepath.Join(dir, "host.bin"))
	if v := mustPanic(t, host, bin, grpcPlugin); !strings.HasPrefix(v.Panic.Text, "/debug/requests is already registered") {
		t.Errorf("grpc plugin: predicted %q", v.Panic.Text)
	}
	if v := mustPanic(t, host, bin, pqPlugin); v.Panic.Text != "sql: Register called twice for driver postgres" {
		t.Errorf("pq plugin: predicted %q", v.Panic.Text)
	}

	// -tags grpcnotrace: the host links no trace; the grpc plugin loads.
	tagged := real.BuildHost(t, host, filepath.Join(dir, "host-notrace.bin"), "-tags=grpcnotrace")
	mustLoad(t, host, tagged, grpcPlugin)
	// check, judged on the tagged host: trace is remedied, lib/pq is not.
	if hazards := checkHazards(t, host, tagged); len(hazards) != 1 || hazards[0] != "github.com/lib/pq" {
		t.Errorf("check --binary of the tagged host: hazards %v, want only github.com/lib/pq", hazards)
	}

	// lib/pq kept shared, the plugin built against the host: it loads.
	if _, err := fork.Fork(ctx, fork.Config{Dir: host, Env: real.Environ(), Keep: []string{"github.com/lib/pq"}, KeepSet: true}); err != nil {
		t.Fatal(err)
	}
	kept := real.BuildHost(t, host, filepath.Join(dir, "host-kept.bin"), "-tags=grpcnotrace")
	b, err := pluginbuild.Build(ctx, pluginbuild.Config{Dir: pp, Env: real.Environ(), Host: host, HostBinary: kept, Output: "pq-kept.so"})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Loads() {
		t.Fatalf("plugin build: %+v", b.Verdict)
	}
	mustLoad(t, host, kept, grpcPlugin, b.Output)
}

// TestRealHazardPrecision: hazards as precise as plugin.Open, on real
// modules in one host. Forked, the host has one hazard, martian's flag
// "v": not enterprise-certificate-proxy's gob registrations of standard
// library types, nor stringer's flags (a program go-winio's tools.go
// imports), nor the flags of otto/underscore's generator (package main,
// //go:build generate). check of the built host agrees. A plugin with its
// own copies of those three loads, as inspect predicts with the lock; a
// plugin with its own martian panics, as inspect predicts without the lock,
// knowing the fork by its path.
func TestRealHazardPrecision(t *testing.T) {
	real := realEnv(t)
	const martian = "github.com/google/martian"
	dir := realFixture(t, real, "hazards", "precisionhost", "martianplugin", "precisionplugin")
	host := filepath.Join(dir, "precisionhost")
	testgo.WriteLoader(t, host)
	res, err := fork.Fork(context.Background(), fork.Config{Dir: host, Env: real.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	var registering []string
	for _, h := range res.Hazards {
		if h.Kind == hazard.KindRegistry {
			t.Logf("fork: %s %s %q at %s", h.Package, h.Call, h.Name, h.Pos)
			registering = append(registering, h.Package)
		}
	}
	if !slices.Equal(registering, []string{martian}) {
		t.Errorf("fork: registering packages %v, want only %s", registering, martian)
	}

	bin := real.BuildHost(t, host, filepath.Join(dir, "host.bin"))
	if hazards := checkHazards(t, host, bin); !slices.Equal(hazards, []string{martian}) {
		t.Errorf("check --binary: hazards %v, want only %s", hazards, martian)
	}

	mustLoad(t, host, bin, real.BuildPlugin(t, filepath.Join(dir, "precisionplugin"), filepath.Join(dir, "precision.so")))

	mp := real.BuildPlugin(t, filepath.Join(dir, "martianplugin"), filepath.Join(dir, "martian.so"))
	mustPanicWithoutLock(t, bin, mp, bin+" flag redefined: v")
}
