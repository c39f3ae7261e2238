// Command bench measures plugfork fork against the go command on two hosts,
// and prints for each the ratios the design sets as goals:
//
//	copy+rewrite (Timings.CopyRewrite)   <= 1.2x go mod vendor of the unforked host
//	no-op re-run (wall time of the CLI)  <= 0.2x go mod vendor
//	plugfork check (wall time)           <  1 s
//	type-check   (Timings.TypeCheck)     <= 0.5x go vet ./... of the forked host
//	peak memory  (max RSS of the CLI)    <= 1 GiB
//
// The hosts (-hosts, both by default): k8s, a k8s.io/client-go host
// (testdata/k8shost.txtar), and large, a platform gateway of some 800
// modules and 2,200 third-party packages (testdata/largehost.txtar).
//
// Run it from the repository root with make bench (go run ./bench).
// It needs the module proxy (or a module cache that holds the hosts'
// modules). A host is measured in -runs paired rounds: each round runs go
// mod vendor on a fresh copy of the unforked host and, back to back, plugfork
// fork on another, then the no-op re-run and plugfork check on that one. A
// ratio is the median of the per-round ratios, with their spread (min-max).
// go vet ./... (-vetruns) and go build ./... (-buildruns) then run on fresh
// copies of a forked host; they are not paired, so their ratios divide by
// their median. Peak memory is the maximum over the runs.
//
// CPU is user+sys from the child's rusage (its own and its children's). The
// CPU of a phase of the fork is sampled: /proc/PID/stat every few
// milliseconds, cut at the phase boundaries that --json's timings give,
// counted from the process start (a few milliseconds early).
//
// Build caches: the fork, go vet and go build run in fresh directories, and
// without -trimpath the go command's cache keys hold a package's directory,
// so every forked package is cold for each while the standard library stays
// as warm as the user's cache has it. go mod vendor and the fork read the
// same warm module cache.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/load"
	"github.com/rogpeppe/go-internal/txtar"
)

var (
	//go:embed testdata/k8shost.txtar
	k8sArchive []byte
	//go:embed testdata/largehost.txtar
	largeArchive []byte
)

// A host is one bench host.
type host struct {
	name    string // as -hosts names it
	file    string // its archive, relative to this directory
	archive []byte
	what    string // what it is, for the report
}

var allHosts = []host{
	{"k8s", "testdata/k8shost.txtar", k8sArchive, "a k8s.io/client-go host"},
	{"large", "testdata/largehost.txtar", largeArchive, "a platform gateway"},
}

const prefix = "gitlab.example.com/workflow"

// The goals.
const (
	goalCopyRewrite = 1.2     // x go mod vendor
	goalNoop        = 0.2     // x go mod vendor
	goalCheck       = 1.0     // seconds
	goalTypeCheck   = 0.5     // x go vet ./...
	goalRSS         = 1 << 30 // bytes
)

var (
	hostsFlag  = flag.String("hosts", "k8s,large", "the `hosts` to measure, comma-separated: k8s, large")
	runs       = flag.Int("runs", 3, "measure each host in this many paired `rounds` (medians are reported)")
	vetRuns    = flag.Int("vetruns", 1, "go vet ./... a forked host this many `times` (minutes each for the large host)")
	buildRuns  = flag.Int("buildruns", 1, "go build ./... a forked host this many `times` (minutes each for the large host)")
	keep       = flag.Bool("keep", false, "keep the work directory")
	strict     = flag.Bool("strict", false, "exit 1 when a goal is missed")
	cpuProfile = flag.String("cpuprofile", "", "also fork each host once in process and write a CPU profile to `file` (file.HOST with two hosts)")
	memProfile = flag.String("memprofile", "", "also fork each host once in process and write a heap profile (at the end of the fork) to `file` (file.HOST with two hosts)")
)

func main() {
	flag.Parse()
	hosts, err := selectHosts(*hostsFlag)
	if err == nil && *runs < 1 {
		err = errors.New("-runs must be at least 1")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		flag.Usage()
		os.Exit(2)
	}
	missed, err := run(context.Background(), hosts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if missed > 0 && *strict {
		os.Exit(1)
	}
}

// selectHosts returns the hosts a -hosts value names, in its order.
func selectHosts(list string) ([]host, error) {
	var hosts []host
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(allHosts, func(h host) bool { return h.name == name })
		if i < 0 {
			return nil, fmt.Errorf("-hosts: unknown host %q (the hosts are k8s and large)", name)
		}
		if !slices.ContainsFunc(hosts, func(h host) bool { return h.name == name }) {
			hosts = append(hosts, allHosts[i])
		}
	}
	return hosts, nil
}

// bench is one benchmark run's state.
type bench struct {
	work string   // temporary root
	env  []string // the go command's environment
	cli  string   // the plugfork binary
	n    int      // copies made so far
}

// A proc is one measured child process.
type proc struct {
	wall, cpu time.Duration
	rss       int64  // max RSS in bytes, of the child and its children
	exit      int    // its exit code
	stdout    []byte // what it printed
	samples   []cpuSample
}

// A round is one paired round on one host.
type round struct {
	vendor, fork, noop, check proc
	timings                   fork.Timings
	findings                  map[fork.CheckKind]int // of plugfork check
}

// measured is everything measured on one host.
type measured struct {
	host
	modules, packages int         // the build list, the closure's third-party packages
	res               fork.Result // of the last first fork
	rounds            []round
	vet, build        []time.Duration
}

func run(ctx context.Context, hosts []host) (int, error) {
	work, err := os.MkdirTemp("", "plugfork-bench-")
	if err != nil {
		return 0, err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: work directory", work)
	} else {
		defer removeAll(work)
	}
	b := &bench{
		work: work,
		env:  append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=1"),
		cli:  filepath.Join(work, "plugfork"),
	}
	progress("building plugfork")
	// -mod=readonly: the hosts' GOFLAGS=-mod=mod would rewrite the
	// repository's go.mod.
	if _, err := b.goCmd(ctx, repoRoot(), "build", "-mod=readonly", "-o", b.cli, "./cmd/plugfork"); err != nil {
		return 0, err
	}
	if _, err := b.goCmd(ctx, work, "build", "-o", os.DevNull, "std"); err != nil { // std warm, as a user's is
		return 0, err
	}
	var all []*measured
	for _, h := range hosts {
		m, err := b.measure(ctx, h)
		if err != nil {
			return 0, fmt.Errorf("host %s: %w", h.name, err)
		}
		all = append(all, m)
	}

	rounds := "rounds"
	if *runs == 1 {
		rounds = "round"
	}
	fmt.Printf("plugfork bench: %s %s/%s, %d CPUs; %d paired %s per host (medians; spread: min-max of the rounds)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *runs, rounds)
	missed := 0
	for _, m := range all {
		fmt.Println()
		missed += m.report()
	}
	fmt.Println()
	fmt.Println("CPU: user+sys of the child and its children; ~: a phase's CPU, sampled from /proc/PID/stat.")
	fmt.Println("Ratios to go mod vendor: the median of the rounds' ratios; to go vet and go build: each round's over their median.")
	if missed > 0 {
		fmt.Printf("%d goal%s missed\n", missed, map[bool]string{true: "s"}[missed > 1])
	} else {
		fmt.Println("all goals met")
	}
	return missed, nil
}

// measure runs the rounds, go vet and go build on one host.
func (b *bench) measure(ctx context.Context, h host) (*measured, error) {
	m := &measured{host: h}
	progress("%s: downloading the host's modules", h.name)
	dir, err := b.extract(h)
	if err != nil {
		return nil, err
	}
	if _, err := b.goCmd(ctx, dir, "mod", "download"); err != nil {
		return nil, err
	}
	if out, err := b.goCmd(ctx, dir, "mod", "tidy", "-diff"); err != nil || len(out) > 0 {
		return nil, fmt.Errorf("the bench host is not tidy (update bench/%s): %v\n%s", h.file, err, out)
	}
	// -mod=readonly: with -mod=mod, go list -m all writes go.sum lines.
	out, err := b.goCmd(ctx, dir, "list", "-mod=readonly", "-m", "all")
	if err != nil {
		return nil, err
	}
	m.modules = strings.Count(string(out), "\n")
	pkgs, err := load.Packages(ctx, load.Config{Dir: dir, Env: b.env, BuildFlags: []string{"-mod=readonly"}}, load.Name|load.Deps|load.Module, "./...")
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		if p.Module != nil && !p.Module.Main {
			m.packages++ // a third-party package
		}
	}

	// Interleaved, so that each ratio's two sides see the same machine
	// load: go mod vendor of a fresh copy of the unforked host; the first
	// fork of another (phases from --json, peak RSS); a no-op re-run of it;
	// plugfork check of it. Dirty pages are flushed before each (vendor
	// and fork write tens to hundreds of megabytes). Nothing is removed
	// before the end: freeing the blocks of a removed tree makes the file
	// system slow for a while (here go mod vendor took 3s instead of
	// 0.4s), and the measurements with it.
	var forked []string
	for i := range *runs {
		progress("%s: round %d/%d: go mod vendor, plugfork fork, plugfork fork (no-op), plugfork check", h.name, i+1, *runs)
		var r round
		if dir, err = b.extract(h); err != nil {
			return nil, err
		}
		if r.vendor, err = b.measureCmd(ctx, dir, false, "go", "mod", "vendor"); err != nil {
			return nil, err
		}

		if dir, err = b.extract(h); err != nil {
			return nil, err
		}
		if r.fork, err = b.measureCmd(ctx, dir, true, b.cli, "fork", "--prefix", prefix, "--json"); err != nil {
			return nil, err
		}
		m.res = fork.Result{}
		if err := json.Unmarshal(r.fork.stdout, &m.res); err != nil {
			return nil, fmt.Errorf("decoding fork --json: %w", err)
		}
		r.timings = m.res.Timings

		if r.noop, err = b.measureCmd(ctx, dir, false, b.cli, "fork", "--json"); err != nil {
			return nil, err
		}
		var again fork.Result
		if err := json.Unmarshal(r.noop.stdout, &again); err != nil {
			return nil, fmt.Errorf("decoding fork --json: %w", err)
		}
		if again.Changed {
			return nil, errors.New("a re-run of fork changed the host: not a no-op")
		}

		// Exit 1 is findings (a hazard nobody took a remedy for, say):
		// still a whole check, so measured and reported.
		if r.check, err = b.measureCmd(ctx, dir, false, b.cli, "check", "--json"); err != nil {
			return nil, err
		}
		var chk fork.CheckResult
		if err := json.Unmarshal(r.check.stdout, &chk); err != nil {
			return nil, fmt.Errorf("decoding check --json: %w", err)
		}
		r.findings = map[fork.CheckKind]int{}
		for _, f := range chk.Findings {
			r.findings[f.Kind]++
		}
		m.rounds = append(m.rounds, r)
		forked = append(forked, dir)
	}

	// go vet ./... and go build ./... of fresh copies of a forked host,
	// which nothing has built yet.
	for i := range *vetRuns {
		progress("%s: go vet ./... of the forked host %d/%d", h.name, i+1, *vetRuns)
		dir, err := b.copyTree(forked[0])
		if err != nil {
			return nil, err
		}
		p, err := b.measureCmd(ctx, dir, false, "go", "vet", "./...")
		if err != nil {
			return nil, err
		}
		m.vet = append(m.vet, p.wall)
	}
	for i := range *buildRuns {
		progress("%s: go build ./... of the forked host %d/%d", h.name, i+1, *buildRuns)
		dir, err := b.copyTree(forked[0])
		if err != nil {
			return nil, err
		}
		p, err := b.measureCmd(ctx, dir, false, "go", "build", "-o", dir+".bin"+string(filepath.Separator), "./...")
		if err != nil {
			return nil, err
		}
		m.build = append(m.build, p.wall)
	}

	if *cpuProfile != "" || *memProfile != "" {
		progress("%s: plugfork fork in process, profiled", h.name)
		if err := b.profile(ctx, h); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// report prints the table of one host and returns the number of goals it
// missed.
func (m *measured) report() int {
	pkgs, files, size := 0, 0, int64(0)
	for _, f := range m.res.Forks {
		pkgs += f.Packages
		files += f.Files
		size += f.Bytes
	}
	fmt.Printf("host %s: %s, %s (bench/%s)\n", m.name, m.what, m.summary(), m.file)
	fmt.Printf("  %d modules in the build list, %d third-party packages in the closure; %d modules forked (%d packages, %d files, %.1f MB)\n",
		m.modules, m.packages, len(m.res.Forks), pkgs, files, float64(size)/1e6)
	fmt.Println()

	rs := m.rounds
	get := func(f func(round) time.Duration) []time.Duration {
		var ds []time.Duration
		for _, r := range rs {
			ds = append(ds, f(r))
		}
		return ds
	}
	vendor := get(func(r round) time.Duration { return r.vendor.wall })
	vendorCPU := get(func(r round) time.Duration { return r.vendor.cpu })
	total := get(func(r round) time.Duration { return r.fork.wall })
	totalCPU := get(func(r round) time.Duration { return r.fork.cpu })
	phase := func(i int) []time.Duration {
		return get(func(r round) time.Duration { return ms(phases(r.timings)[i].ms) })
	}
	phaseCPUs := func(i int) []time.Duration {
		return get(func(r round) time.Duration { return phaseCPU(r.fork.samples, r.timings)[i] })
	}
	noop := get(func(r round) time.Duration { return r.noop.wall })
	check := get(func(r round) time.Duration { return r.check.wall })
	var forkRSS, noopRSS, checkRSS, vendorRSS int64
	for _, r := range rs {
		forkRSS, noopRSS = max(forkRSS, r.fork.rss), max(noopRSS, r.noop.rss)
		checkRSS, vendorRSS = max(checkRSS, r.check.rss), max(vendorRSS, r.vendor.rss)
	}

	row := func(name string, wall []time.Duration, cpu string, rss int64, note string) {
		r := "        "
		if rss > 0 {
			r = fmt.Sprintf("%4.0f MiB", float64(rss)/(1<<20))
		}
		w := "-"
		if len(wall) > 0 {
			w = sec(median(wall))
		}
		line := fmt.Sprintf("  %-38s %9s %-21s %9s  %s  %s", name, w, spread(wall), cpu, r, note)
		fmt.Println(strings.TrimRight(line, " "))
	}
	fmt.Printf("  %-38s %9s %-21s %9s  %8s\n", "step", "wall", "  (min-max)", "CPU", "max RSS")
	row("go mod vendor (unforked host)", vendor, sec(median(vendorCPU)), vendorRSS, "")
	row("plugfork fork, first run", total, sec(median(totalCPU)), forkRSS, "")
	for i, p := range phases(fork.Timings{}) {
		row("  "+p.name, phase(i), "~"+sec(median(phaseCPUs(i))), 0, "")
	}
	row("plugfork fork, no-op re-run", noop, "", noopRSS, "")
	last := rs[len(rs)-1]
	row("plugfork check", check, "", checkRSS, findings(last.check.exit, last.findings))
	row("go vet ./... (forked host)", m.vet, "", 0, runsNote(m.vet, *vetRuns))
	row("go build ./... (forked host)", m.build, "", 0, runsNote(m.build, *buildRuns))
	fmt.Println()

	missed := 0
	fmt.Printf("  %-38s %9s %-21s %-11s %s\n", "goal", "got", "  (min-max)", "goal", "verdict")
	goal := func(name string, got []float64, unit string, limit float64, strictLess bool) {
		if len(got) == 0 {
			fmt.Printf("  %-38s %9s %-21s %-11s %s\n", name, "-", "", goalText(unit, limit, strictLess), "not measured")
			return
		}
		med := medianF(got)
		verdict := "ok"
		switch {
		case limit == 0:
			verdict = "(no goal)"
		case med > limit || strictLess && med >= limit:
			verdict, missed = "MISSED", missed+1
		}
		fmt.Printf("  %-38s %9s %-21s %-11s %s\n", name, num(med, unit), spreadF(got, unit), goalText(unit, limit, strictLess), verdict)
	}
	ratios := func(f func(round) float64) []float64 {
		var rs []float64
		for _, r := range m.rounds {
			rs = append(rs, f(r))
		}
		return rs
	}
	over := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	goal("copy+rewrite / go mod vendor", ratios(func(r round) float64 {
		return over(ms(r.timings.CopyRewrite), r.vendor.wall)
	}), "x", goalCopyRewrite, false)
	goal("no-op re-run / go mod vendor", ratios(func(r round) float64 { return over(r.noop.wall, r.vendor.wall) }), "x", goalNoop, false)
	goal("plugfork check", ratios(func(r round) float64 { return r.check.wall.Seconds() }), "s", goalCheck, true)
	byMedian := func(ds, base []time.Duration) []float64 {
		if len(base) == 0 {
			return nil
		}
		var rs []float64
		for _, d := range ds {
			rs = append(rs, over(d, median(base)))
		}
		return rs
	}
	typeCheck := get(func(r round) time.Duration { return ms(r.timings.TypeCheck) })
	goal("type-check / go vet ./...", byMedian(typeCheck, m.vet), "x", goalTypeCheck, false)
	var rss []float64
	for _, r := range m.rounds {
		rss = append(rss, float64(max(r.fork.rss, r.noop.rss)))
	}
	fmt.Printf("  %-38s %9s %-21s %-11s %s\n", "peak RSS of plugfork fork (max)", mib(slices.Max(rss)), spreadF(rss, "MiB"), "<= 1024 MiB", verdictRSS(slices.Max(rss), &missed))
	goal("copy+rewrite CPU / go mod vendor CPU", ratios(func(r round) float64 {
		return over(phaseCPU(r.fork.samples, r.timings)[copyRewrite], r.vendor.cpu)
	}), "x", 0, false)
	goal("fork CPU / go mod vendor CPU", ratios(func(r round) float64 { return over(r.fork.cpu, r.vendor.cpu) }), "x", 0, false)
	goal("type-check / go build ./...", byMedian(typeCheck, m.build), "x", 0, false)
	fmt.Println()
	fmt.Printf("  samples: vendor %v; copy+rewrite %v; type-check %v; no-op %v; check %v; vet %v; build %v\n",
		secs(vendor), secs(phase(copyRewrite)), secs(typeCheck), secs(noop), secs(check), secs(m.vet), secs(m.build))
	return missed
}

func verdictRSS(rss float64, missed *int) string {
	if rss > goalRSS {
		*missed++
		return "MISSED"
	}
	return "ok"
}

// summary names the host's module and, for the k8s host, its client-go.
func (h host) summary() string {
	ar := txtar.Parse(h.archive)
	var mod, clientGo string
	for _, f := range ar.Files {
		if f.Name != "go.mod" {
			continue
		}
		for _, line := range strings.Split(string(f.Data), "\n") {
			fields := strings.Fields(line)
			switch {
			case len(fields) == 2 && fields[0] == "module":
				mod = fields[1]
			case len(fields) >= 2 && fields[0] == "k8s.io/client-go":
				clientGo = fields[1]
			}
		}
	}
	if h.name == "k8s" && clientGo != "" {
		return mod + " of k8s.io/client-go@" + clientGo
	}
	return mod
}

// A phase is one phase of fork's --json timings.
type phase struct {
	name string
	ms   int64
}

// copyRewrite is the index of copy+rewrite in phases.
const copyRewrite = 2

// phases returns the phases of a fork in their order.
func phases(t fork.Timings) []phase {
	return []phase{
		{"resolve", t.Resolve},
		{"download", t.Download},
		{"copy+rewrite", t.CopyRewrite},
		{"type-check", t.TypeCheck},
		{"apply", t.Apply},
	}
}

// A cpuSample is a child's CPU time (its own, and its waited-for
// children's) at a time since it started.
type cpuSample struct {
	at, cpu time.Duration
}

// phaseCPU returns the CPU time of each phase of a fork from its samples:
// the phases follow each other from the process start, as long as the
// timings say. nil samples give zeros.
func phaseCPU(samples []cpuSample, t fork.Timings) []time.Duration {
	ps := phases(t)
	out := make([]time.Duration, len(ps))
	if len(samples) == 0 {
		return out
	}
	var at time.Duration
	for i, p := range ps {
		end := at + ms(p.ms)
		out[i] = cpuAt(samples, end) - cpuAt(samples, at)
		at = end
	}
	return out
}

// cpuAt interpolates the samples at a time.
func cpuAt(samples []cpuSample, at time.Duration) time.Duration {
	i, _ := slices.BinarySearchFunc(samples, at, func(s cpuSample, at time.Duration) int {
		return int(s.at - at)
	})
	switch {
	case i == 0:
		return samples[0].cpu
	case i == len(samples):
		return samples[i-1].cpu
	}
	a, b := samples[i-1], samples[i]
	if b.at == a.at {
		return b.cpu
	}
	return a.cpu + time.Duration(float64(b.cpu-a.cpu)*float64(at-a.at)/float64(b.at-a.at))
}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ).
const clockTick = 10 * time.Millisecond

// sampleCPU samples the CPU time of the running process pid until stop is
// closed.
func sampleCPU(pid int, start time.Time, stop <-chan struct{}, out chan<- []cpuSample) {
	var samples []cpuSample
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			at := time.Since(start)
			// The fields after the command name, which is in parentheses:
			// state is field 3; utime, stime, cutime, cstime are 14-17.
			if i := bytes.LastIndexByte(data, ')'); i >= 0 {
				f := strings.Fields(string(data[i+1:]))
				if len(f) > 14 {
					var ticks int64
					for _, s := range f[11:15] {
						n, _ := strconv.ParseInt(s, 10, 64)
						ticks += n
					}
					samples = append(samples, cpuSample{at, time.Duration(ticks) * clockTick})
				}
			}
		}
		select {
		case <-stop:
			out <- samples
			return
		case <-tick.C:
		}
	}
}

func (b *bench) goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, b.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// measureCmd flushes dirty pages, then runs a command in dir and measures
// it: wall time, CPU and max RSS from the child's rusage, and, with sample,
// its CPU sampled while it runs. Exit 0, and exit 1 from plugfork (findings), are
// not errors.
func (b *bench) measureCmd(ctx context.Context, dir string, sample bool, name string, args ...string) (proc, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, b.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	syscall.Sync()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return proc{}, err
	}
	stop, samples := make(chan struct{}), make(chan []cpuSample, 1)
	if sample {
		go sampleCPU(cmd.Process.Pid, start, stop, samples)
	} else {
		samples <- nil
	}
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	p := proc{wall: wall, stdout: stdout.Bytes(), samples: <-samples, exit: cmd.ProcessState.ExitCode()}
	if err != nil && !(name == b.cli && p.exit == 1) {
		return proc{}, fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	p.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return p, nil
}

// extract extracts a host into a fresh directory and returns it.
func (b *bench) extract(h host) (string, error) {
	b.n++
	dir := filepath.Join(b.work, fmt.Sprintf("%s%d", h.name, b.n))
	ar := txtar.Parse(h.archive)
	for _, f := range ar.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, f.Data, 0o666); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// copyTree copies a host into a fresh directory and returns it.
func (b *bench) copyTree(src string) (string, error) {
	b.n++
	dir := filepath.Join(b.work, fmt.Sprintf("%s.copy%d", filepath.Base(src), b.n))
	return dir, os.CopyFS(dir, os.DirFS(src))
}

// profile forks a fresh copy in process under the CPU profiler and writes
// the heap profile at the end.
func (b *bench) profile(ctx context.Context, h host) error {
	dir, err := b.extract(h)
	if err != nil {
		return err
	}
	cpuFile, memFile := profileFile(*cpuProfile, h), profileFile(*memProfile, h)
	if cpuFile != "" {
		f, err := os.Create(cpuFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if memFile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	res, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: b.env, Prefix: prefix})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: %s: profiled fork: %+v\n", h.name, res.Timings)
	if cpuFile != "" {
		// The no-op re-run, in a profile of its own.
		pprof.StopCPUProfile()
		f, err := os.Create(cpuFile + ".noop")
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		start := time.Now()
		for range 10 {
			if _, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: b.env}); err != nil {
				return err
			}
		}
		pprof.StopCPUProfile()
		fmt.Fprintf(os.Stderr, "bench: %s: profiled no-op re-run: %v each (10 runs in %s.noop)\n", h.name, time.Since(start)/10, cpuFile)
	}
	if memFile != "" {
		f, err := os.Create(memFile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

// profileFile is the profile file of a host: the flag's, with the host's
// name appended when several hosts are measured.
func profileFile(flagValue string, h host) string {
	if flagValue == "" {
		return ""
	}
	if hosts, _ := selectHosts(*hostsFlag); len(hosts) > 1 {
		return flagValue + "." + h.name
	}
	return flagValue
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}

// spread is the min-max of samples, "" for fewer than two.
func spread(ds []time.Duration) string {
	if len(ds) < 2 {
		return ""
	}
	return "  (" + sec(slices.Min(ds)) + "-" + sec(slices.Max(ds)) + ")"
}

func spreadF(fs []float64, unit string) string {
	if len(fs) < 2 {
		return ""
	}
	return "  (" + num(slices.Min(fs), unit) + "-" + num(slices.Max(fs), unit) + ")"
}

func num(f float64, unit string) string {
	switch unit {
	case "x":
		return fmt.Sprintf("%.2fx", f)
	case "s":
		return fmt.Sprintf("%.2fs", f)
	case "MiB":
		return mib(f)
	}
	return fmt.Sprint(f)
}

func mib(bytes float64) string { return fmt.Sprintf("%.0f MiB", bytes/(1<<20)) }

func goalText(unit string, limit float64, strictLess bool) string {
	if limit == 0 {
		return ""
	}
	op := "<="
	if strictLess {
		op = "<"
	}
	if unit == "s" {
		return fmt.Sprintf("%s %g s", op, limit)
	}
	return fmt.Sprintf("%s %.1fx", op, limit)
}

// findings summarizes plugfork check's findings by kind.
func findings(exit int, byKind map[fork.CheckKind]int) string {
	if len(byKind) == 0 {
		return fmt.Sprintf("exit %d, no findings", exit)
	}
	var parts []string
	n := 0
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		parts = append(parts, fmt.Sprintf("%d %s", byKind[k], k))
		n += byKind[k]
	}
	noun := "findings"
	if n == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("exit %d, %d %s: %s", exit, n, noun, strings.Join(parts, ", "))
}

func runsNote(ds []time.Duration, n int) string {
	switch {
	case n <= 0:
		return "(skipped)"
	case n == 1:
		return "(1 run)"
	}
	return fmt.Sprintf("(%d runs)", len(ds))
}

func sec(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func secs(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, sec(d))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// repoRoot returns the root of the plugfork source tree.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// removeAll removes dir, module-cache-style read-only directories included.
func removeAll(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o777)
		}
		return nil
	})
	os.RemoveAll(dir)
}
