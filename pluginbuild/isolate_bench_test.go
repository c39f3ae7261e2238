package pluginbuild_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/pluginbuild"
	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/mod/modfile"
)

// BenchmarkIsolate measures plugin build --isolate of a real plugin (team a
// of testdata/real/isolate.txtar: logrus, golang.org/x/sys and the SDK of a
// forked real host) against a plain go build -buildmode=plugin of it in the
// workspace plugin env prints, from the same cache state, in paired
// rounds: cold (a build cache holding the standard library only, copied
// for each side) and warm (a rebuild after the same edit of the plugin's
// own code). It reports the medians of the per-round ratios; the goals are
// cold <= 1.3x and warm <= 1.5x. It needs the module proxy; make bench runs
// it (-benchtime=1x: one measurement of -rounds... rounds).
func BenchmarkIsolate(b *testing.B) {
	if testing.Short() {
		b.Skip("needs real modules from the module proxy")
	}
	real, dir := realSDK(b, "isolate.txtar")
	ctx := context.Background()
	host, team := filepath.Join(dir, "host"), filepath.Join(dir, "teama")
	testgo.WriteLoader(b, filepath.Join(host, "cmd", "host"))
	if _, err := fork.Fork(ctx, fork.Config{Dir: host, Env: real.Environ(), Prefix: prefix, Keep: []string{"github.com/cespare/xxhash/v2"}}); err != nil {
		b.Fatal(err)
	}
	hostBin := real.BuildHost(b, filepath.Join(host, "cmd", "host"), filepath.Join(dir, "host.bin"), "-trimpath")
	real.Go(b, team, "mod", "download")

	// The workspace of plugin env, outside the plugin module.
	wf, err := gocmd.WorkFile("1.24", team, host)
	if err != nil {
		b.Fatal(err)
	}
	work := filepath.Join(dir, "work", "go.work")
	os.MkdirAll(filepath.Dir(work), 0o777)
	if err := os.WriteFile(work, modfile.Format(wf.Syntax), 0o666); err != nil {
		b.Fatal(err)
	}
	// A build cache holding the standard library (and runtime/cgo) as a
	// plugin build compiles it.
	base := filepath.Join(dir, "cache-base")
	empty := filepath.Join(dir, "empty")
	if err := testgo.Extract(txtar.Parse([]byte("-- go.mod --\nmodule example.com/empty\n\ngo 1.24\n-- main.go --\npackage main\n\nfunc Run() string { return \"\" }\n")), empty, ""); err != nil {
		b.Fatal(err)
	}
	withCache := func(cache string) []string { return append(real.Environ(), "GOCACHE="+cache) }
	run := func(env []string, d string, args ...string) {
		if _, err := (gocmd.Runner{Dir: d, Env: env}).Run(ctx, args...); err != nil {
			b.Fatal(err)
		}
	}
	run(withCache(base), empty, "build", "-buildmode=plugin", "-trimpath", "-o", filepath.Join(dir, "empty.so"), ".")

	plain := func(cache string) time.Duration {
		start := time.Now()
		run(append(withCache(cache), "GOWORK="+work, "GOFLAGS="), team, "build", "-buildmode=plugin", "-trimpath", "-o", filepath.Join(dir, "plain.so"), ".")
		return time.Since(start)
	}
	isolated := func(cache string) time.Duration {
		start := time.Now()
		res, err := pluginbuild.Build(ctx, pluginbuild.Config{Dir: team, Env: withCache(cache), Host: host, HostBinary: hostBin, Isolate: true, Output: filepath.Join(dir, "isolated.so")})
		if err != nil || !res.Loads() {
			b.Fatal(err, res)
		}
		return time.Since(start)
	}
	edit := func(i int) {
		src := fmt.Sprintf("package main\n\n// Edit is edit %d of the plugin's own code.\nfunc Edit() int { return %d }\n", i, i)
		if err := os.WriteFile(filepath.Join(team, "edit.go"), []byte(src), 0o666); err != nil {
			b.Fatal(err)
		}
	}
	rounds := 3
	var cold, warm []float64
	var coldP, coldI, warmP, warmI []time.Duration
	b.ResetTimer()
	for i := range rounds {
		edit(100 * i)
		cp, ci := filepath.Join(dir, fmt.Sprint("cache-plain-", i)), filepath.Join(dir, fmt.Sprint("cache-iso-", i))
		for _, c := range []string{cp, ci} {
			if err := exec.Command("cp", "-a", base, c).Run(); err != nil {
				b.Fatal(err)
			}
		}
		p, s := plain(cp), isolated(ci)
		cold, coldP, coldI = append(cold, s.Seconds()/p.Seconds()), append(coldP, p), append(coldI, s)
		edit(100*i + 1)
		p, s = plain(cp), isolated(ci)
		warm, warmP, warmI = append(warm, s.Seconds()/p.Seconds()), append(warmP, p), append(warmI, s)
	}
	b.StopTimer()
	median := func(xs []float64) float64 { xs = slices.Clone(xs); slices.Sort(xs); return xs[len(xs)/2] }
	b.Logf("cold: plain %v, isolated %v; ratios %.2f", coldP, coldI, cold)
	b.Logf("warm: plain %v, isolated %v; ratios %.2f", warmP, warmI, warm)
	b.ReportMetric(median(cold), "cold-x")
	b.ReportMetric(median(warm), "warm-x")
}
