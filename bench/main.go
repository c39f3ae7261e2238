// Command bench measures plugfork fork on a host whose closure is
// k8s.io/client-go's (testdata/k8shost.txtar) against the go command, and
// prints the ratios the design sets as goals:
//
//	copy+rewrite (Timings.CopyRewrite)   <= 1.5x go mod vendor of the unforked host
//	no-op re-run (wall time of the CLI)  <= 0.2x go mod vendor
//	type-check   (Timings.TypeCheck)     <= 1.2x go build ./... of the forked host
//	peak memory  (max RSS of the CLI)    <  1 GiB
//
// Run it from the repository root with make bench (go run ./bench).
// It needs the module proxy (or a module cache that holds the host's
// modules). Each measurement runs -runs times on fresh copies of the host;
// the median is reported (the maximum for memory).
//
// Build caches: the fork and go build ./... run in fresh directories, and
// without -trimpath the go command's cache keys hold a package's directory,
// so every forked package is cold for both while the standard library stays
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
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/plugfork/plugfork/fork"
	"github.com/rogpeppe/go-internal/txtar"
)

//go:embed testdata/k8shost.txtar
var hostArchive []byte

const prefix = "gitlab.example.com/workflow"

var (
	runs       = flag.Int("runs", 3, "measure each step this many `times` (medians are reported)")
	buildRuns  = flag.Int("buildruns", 1, "build the forked host this many `times` (each takes a minute or more)")
	keep       = flag.Bool("keep", false, "keep the work directory")
	strict     = flag.Bool("strict", false, "exit 1 when a goal is missed")
	cpuProfile = flag.String("cpuprofile", "", "also fork once in process and write a CPU profile to `file`")
	memProfile = flag.String("memprofile", "", "also fork once in process and write a heap profile (at the end of the fork) to `file`")
)

func main() {
	flag.Parse()
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
}

// bench is one benchmark run's state.
type bench struct {
	work string   // temporary root
	env  []string // the go command's environment
	cli  string   // the plugfork binary
	n    int      // copies made so far
}

func run(ctx context.Context) error {
	work, err := os.MkdirTemp("", "plugfork-bench-")
	if err != nil {
		return err
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
	if _, err := b.goCmd(ctx, repoRoot(), "build", "-o", b.cli, "./cmd/plugfork"); err != nil {
		return err
	}
	progress("downloading the host's modules")
	host, err := b.host()
	if err != nil {
		return err
	}
	if _, err := b.goCmd(ctx, host, "mod", "download"); err != nil {
		return err
	}
	if out, err := b.goCmd(ctx, host, "mod", "tidy", "-diff"); err != nil || len(out) > 0 {
		return fmt.Errorf("the bench host is not tidy (update testdata/k8shost.txtar): %v\n%s", err, out)
	}
	if _, err := b.goCmd(ctx, host, "build", "-o", os.DevNull, "std"); err != nil { // std warm, as a user's is
		return err
	}

	// Interleaved, so that each ratio's two sides see the same machine
	// load: go mod vendor of a fresh copy of the unforked host; the first
	// fork of another (phases from --json, peak RSS); a no-op re-run of it.
	// Dirty pages are flushed before each (both write tens of megabytes).
	// Nothing is removed before the end: freeing the blocks of a removed
	// tree makes the file system slow for a while (here go mod vendor took
	// 3s instead of 0.4s), and the measurements with it.
	var (
		vendor, copyRewrite, typeCheck, total, noop []time.Duration
		maxRSS                                      int64
		forked                                      []string
		res                                         fork.Result
	)
	for i := range *runs {
		progress("run %d/%d: go mod vendor, plugfork fork, plugfork fork (no-op)", i+1, *runs)
		dir, err := b.host()
		if err != nil {
			return err
		}
		syscall.Sync()
		d, err := timed(func() error { _, err := b.goCmd(ctx, dir, "mod", "vendor"); return err })
		if err != nil {
			return err
		}
		vendor = append(vendor, d)

		if dir, err = b.host(); err != nil {
			return err
		}
		syscall.Sync()
		out, wall, rss, err := b.plugfork(ctx, dir, "fork", "--prefix", prefix, "--json")
		if err != nil {
			return err
		}
		res = fork.Result{}
		if err := json.Unmarshal(out, &res); err != nil {
			return fmt.Errorf("decoding fork --json: %w", err)
		}
		copyRewrite = append(copyRewrite, ms(res.Timings.CopyRewrite))
		typeCheck = append(typeCheck, ms(res.Timings.TypeCheck))
		total = append(total, wall)
		maxRSS = max(maxRSS, rss)

		syscall.Sync()
		out, wall, rss, err = b.plugfork(ctx, dir, "fork", "--json")
		if err != nil {
			return err
		}
		var again fork.Result
		if err := json.Unmarshal(out, &again); err != nil {
			return fmt.Errorf("decoding fork --json: %w", err)
		}
		if again.Changed {
			return errors.New("a re-run of fork changed the host: not a no-op")
		}
		noop = append(noop, wall)
		maxRSS = max(maxRSS, rss)
		forked = append(forked, dir)
	}

	// go build ./... of forked copies that nothing has built yet.
	var build []time.Duration
	for i := range min(*buildRuns, len(forked)) {
		progress("go build ./... of the forked host %d/%d", i+1, min(*buildRuns, len(forked)))
		dir := forked[i]
		syscall.Sync()
		d, err := timed(func() error {
			_, err := b.goCmd(ctx, dir, "build", "-o", filepath.Join(b.work, "bin")+string(filepath.Separator), "./...")
			return err
		})
		if err != nil {
			return err
		}
		build = append(build, d)
	}

	if *cpuProfile != "" || *memProfile != "" {
		progress("plugfork fork in process, profiled")
		if err := b.profile(ctx); err != nil {
			return err
		}
	}

	// The report.
	pkgs, files, size := 0, 0, int64(0)
	for _, f := range res.Forks {
		pkgs += f.Packages
		files += f.Files
		size += f.Bytes
	}
	fmt.Printf("plugfork bench: %s, %d modules forked (%d packages, %d files, %.1f MB); %s, %d CPUs, %d runs (medians)\n",
		hostSummary(), len(res.Forks), pkgs, files, float64(size)/1e6, runtime.Version(), runtime.NumCPU(), *runs)
	fmt.Printf("  %-34s %8s\n", "go mod vendor (unforked host)", sec(median(vendor)))
	fmt.Printf("  %-34s %8s\n", "plugfork fork, first run (wall)", sec(median(total)))
	fmt.Printf("  %-34s %8s\n", "go build ./... (forked host)", sec(median(build)))
	fmt.Println()
	missed := 0
	goal := func(name string, got, base time.Duration, baseName string, limit float64) {
		if base == 0 {
			fmt.Printf("  %-14s %8s   (not measured: %s skipped)\n", name, sec(got), baseName)
			return
		}
		ratio := float64(got) / float64(base)
		verdict := "ok"
		if ratio > limit {
			verdict, missed = "MISSED", missed+1
		}
		fmt.Printf("  %-14s %8s / %-15s %8s = %5.2fx  (goal <= %.1fx)  %s\n", name, sec(got), baseName, sec(base), ratio, limit, verdict)
	}
	goal("copy+rewrite", median(copyRewrite), median(vendor), "go mod vendor", 1.5)
	goal("no-op re-run", median(noop), median(vendor), "go mod vendor", 0.2)
	goal("type-check", median(typeCheck), median(build), "go build ./...", 1.2)
	verdict := "ok"
	if maxRSS >= 1<<30 {
		verdict, missed = "MISSED", missed+1
	}
	fmt.Printf("  %-14s %8.0f MiB (max RSS of plugfork fork)            (goal < 1024 MiB)  %s\n", "peak memory", float64(maxRSS)/(1<<20), verdict)
	fmt.Printf("\n  samples: vendor %v; copy+rewrite %v; no-op %v; type-check %v; build %v\n",
		secs(vendor), secs(copyRewrite), secs(noop), secs(typeCheck), secs(build))
	if missed > 0 && *strict {
		os.Exit(1)
	}
	return nil
}

// host extracts the bench host into a fresh directory and returns it.
func (b *bench) host() (string, error) {
	b.n++
	dir := filepath.Join(b.work, fmt.Sprintf("host%d", b.n))
	ar := txtar.Parse(hostArchive)
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

// hostSummary names the host's main requirement.
func hostSummary() string {
	ar := txtar.Parse(hostArchive)
	for _, f := range ar.Files {
		if f.Name != "go.mod" {
			continue
		}
		for _, line := range strings.Split(string(f.Data), "\n") {
			if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "k8s.io/client-go" {
				return "host of k8s.io/client-go@" + fields[1]
			}
		}
	}
	return "k8s host"
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

// plugfork runs the CLI in dir and returns its stdout, wall time and max
// RSS in bytes.
func (b *bench) plugfork(ctx context.Context, dir string, args ...string) ([]byte, time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, b.cli, args...)
	cmd.Dir, cmd.Env = dir, b.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("plugfork %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return stdout.Bytes(), wall, rss, nil
}

// profile forks a fresh copy in process under the CPU profiler and writes
// the heap profile at the end.
func (b *bench) profile(ctx context.Context) error {
	dir, err := b.host()
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	res, err := fork.Fork(ctx, fork.Config{Dir: dir, Env: b.env, Prefix: prefix})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: profiled fork: %+v\n", res.Timings)
	if *cpuProfile != "" {
		// The no-op re-run, in a profile of its own.
		pprof.StopCPUProfile()
		f, err := os.Create(*cpuProfile + ".noop")
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
		fmt.Fprintf(os.Stderr, "bench: profiled no-op re-run: %v each (10 runs in %s.noop)\n", time.Since(start)/10, *cpuProfile)
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
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
