package fork_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/plugfork/plugfork/internal/typecheck"
	"github.com/rogpeppe/go-internal/txtar"
)

// realForks are the modules of the real host's closure, each of which must
// be forked: assembly and linkname (x/sys, reflect2, xxhash, compress), cgo
// (go-sqlite3), upper-case paths (BurntSushi, Azure), a gopkg.in path, /v2
// and /v5 paths, large modules (protobuf, k8s.io, grpc, the AWS SDK),
// database drivers (lib/pq, pgx, mysql, go-sqlite3), Go files named like
// licence files (lib/pq, pgx, licensecheck), an all: embed holding a
// dot-directory (riverui), indirect dependencies
// (concurrent, multierr, the AWS SDK's internal modules).
var realForks = []string{
	"filippo.io/edwards25519",
	"github.com/Azure/azure-sdk-for-go/sdk/azcore",
	"github.com/Azure/azure-sdk-for-go/sdk/internal",
	"github.com/BurntSushi/toml",
	"github.com/aws/aws-sdk-go-v2",
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream",
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/credentials",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	"github.com/aws/aws-sdk-go-v2/internal/configsources",
	"github.com/aws/aws-sdk-go-v2/internal/endpoints/v2",
	"github.com/aws/aws-sdk-go-v2/internal/v4a",
	"github.com/aws/aws-sdk-go-v2/service/internal/accept-encoding",
	"github.com/aws/aws-sdk-go-v2/service/internal/checksum",
	"github.com/aws/aws-sdk-go-v2/service/internal/presigned-url",
	"github.com/aws/aws-sdk-go-v2/service/internal/s3shared",
	"github.com/aws/aws-sdk-go-v2/service/s3",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/smithy-go",
	"github.com/cespare/xxhash/v2",
	"github.com/davecgh/go-spew",
	"github.com/fxamacker/cbor/v2",
	"github.com/gabriel-vasile/mimetype",
	"github.com/go-logr/logr",
	"github.com/go-playground/locales",
	"github.com/go-playground/universal-translator",
	"github.com/go-playground/validator/v10",
	"github.com/go-sql-driver/mysql",
	"github.com/google/licensecheck",
	"github.com/google/uuid",
	"github.com/jackc/pgerrcode",
	"github.com/jackc/pgpassfile",
	"github.com/jackc/pgservicefile",
	"github.com/jackc/pgx/v5",
	"github.com/jackc/puddle/v2",
	"github.com/json-iterator/go",
	"github.com/klauspost/compress",
	"github.com/leodido/go-urn",
	"github.com/lib/pq",
	"github.com/mattn/go-sqlite3",
	"github.com/modern-go/concurrent",
	"github.com/modern-go/reflect2",
	"github.com/munnerz/goautoneg",
	"github.com/pkg/errors",
	"github.com/redis/go-redis/v9",
	"github.com/riverqueue/apiframe",
	"github.com/riverqueue/river",
	"github.com/riverqueue/river/riverdriver",
	"github.com/riverqueue/river/rivershared",
	"github.com/riverqueue/river/rivertype",
	"github.com/spf13/pflag",
	"github.com/tidwall/gjson",
	"github.com/tidwall/match",
	"github.com/tidwall/pretty",
	"github.com/tidwall/sjson",
	"github.com/x448/float16",
	"go.uber.org/atomic",
	"go.uber.org/multierr",
	"go.uber.org/zap",
	"go.yaml.in/yaml/v2",
	"golang.org/x/crypto",
	"golang.org/x/net",
	"golang.org/x/oauth2",
	"golang.org/x/sync",
	"golang.org/x/sys",
	"golang.org/x/term",
	"golang.org/x/text",
	"golang.org/x/time",
	"google.golang.org/genproto/googleapis/rpc",
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"gopkg.in/inf.v0",
	"gopkg.in/yaml.v3",
	"k8s.io/apimachinery",
	"k8s.io/client-go",
	"k8s.io/klog/v2",
	"k8s.io/kube-openapi",
	"k8s.io/utils",
	"riverqueue.com/riverui",
	"sigs.k8s.io/json",
	"sigs.k8s.io/randfill",
	"sigs.k8s.io/structured-merge-diff/v6",
	"sigs.k8s.io/yaml",
}

// realPluginShared are the modules the real plugin links at other versions
// than the unforked host: before the fork, plugin.Open names a package of
// one of them.
var realPluginShared = []string{
	"github.com/aws/aws-sdk-go-v2",
	"github.com/aws/smithy-go",
	"github.com/cespare/xxhash/v2",
	"github.com/google/uuid",
	"github.com/pkg/errors",
	"gopkg.in/yaml.v3",
}

// inModules reports whether the package path pkg belongs to one of the
// modules (a module path that is a prefix of another counts for both).
func inModules(pkg string, modules []string) bool {
	for _, m := range modules {
		if pkg == m || strings.HasPrefix(pkg, m+"/") {
			return true
		}
	}
	return false
}

// realEnv is the go environment of the real-module tests: the process's
// (the real module proxy and module cache), with the settings the offline
// tests use too.
func realEnv(t *testing.T) *testgo.Env {
	t.Helper()
	if os.Getenv("PLUGFORK_REAL") == "" {
		t.Skip("needs real modules from the module proxy: run make test-real (PLUGFORK_REAL=1)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("builds and loads Go plugins: linux only")
	}
	return &testgo.Env{Vars: []string{
		"GOFLAGS=-mod=mod",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
		"CGO_ENABLED=1",
	}}
}

// realFixture extracts testdata/real/<name>.txtar into a new directory
// and returns it, with the loader main in its host module; each module
// listed must be tidy, go.sum included, so that only the proxy is needed.
func realFixture(t *testing.T, env *testgo.Env, name string, mods ...string) string {
	t.Helper()
	dir := t.TempDir()
	testgo.ExtractFile(t, filepath.Join("testdata", "real", name+".txtar"), dir, "")
	for _, m := range mods {
		if out := env.Go(t, filepath.Join(dir, m), "mod", "tidy", "-diff"); out != "" {
			t.Fatalf("%s is not tidy (update testdata/real/%s.txtar):\n%s", m, name, out)
		}
	}
	testgo.WriteLoader(t, filepath.Join(dir, "host"))
	return dir
}

// TestRealModules forks a host that imports popular real modules (see
// testdata/real/modules.txtar) and checks the promise on them: the forks hold
// the files go mod vendor keeps, the host builds and vets, type-checks for
// other platforms, behaves as before and stays tidy, links no upstream package, and a
// plugin built against other versions of four of those modules, which
// failed to load before, loads. A re-run changes nothing and check passes.
func TestRealModules(t *testing.T) {
	env := realEnv(t)
	ctx := context.Background()
	step := stepLogger(t)
	const prefix = "gitlab.example.com/workflow"

	fixture := filepath.Join("testdata", "real", "modules.txtar")
	ar, want := realModules(t)
	dir := t.TempDir()
	hostDir, pluginDir, vendorDir := filepath.Join(dir, "host"), filepath.Join(dir, "plugin"), filepath.Join(dir, "vendored")
	for _, d := range []struct{ dir, prefix string }{{dir, ""}, {vendorDir, "host/"}} {
		if err := testgo.Extract(ar, d.dir, d.prefix); err != nil {
			t.Fatal(err)
		}
	}
	testgo.WriteLoader(t, hostDir)
	testgo.WriteLoader(t, vendorDir)

	// The fixtures are tidy: go.sum holds every hash, so only the proxy is
	// needed. What go mod vendor keeps is what the forks must hold.
	for _, d := range []string{hostDir, pluginDir} {
		if out := env.Go(t, d, "mod", "tidy", "-diff"); out != "" {
			t.Fatalf("%s is not tidy (update %s):\n%s", filepath.Base(d), fixture, out)
		}
	}
	env.Go(t, vendorDir, "mod", "vendor")
	step("modules ready")

	// Before: the plugin fails to load. (Builds run side by side: each
	// leaves a core idle much of the time.)
	plugin, before := filepath.Join(dir, "biz.so"), filepath.Join(dir, "host-before")
	concurrently(t,
		func() error { return runGo(ctx, env, pluginDir, "build", "-buildmode=plugin", "-o", plugin, ".") },
		func() error { return runGo(ctx, env, hostDir, "build", "-o", before, ".") })
	step("host and plugin built")
	res := testgo.Load(ctx, before, plugin)
	if res.Err != nil || len(res.Outcomes) != 1 {
		t.Fatalf("before fork: %v\nstdout:\n%s\nstderr:\n%s", res.Err, res.Stdout, res.Stderr)
	}
	if res.HostReport != want["report"] {
		t.Errorf("host before fork reports:\n%s\nwant:\n%s", res.HostReport, want["report"])
	}
	head := fmt.Sprintf("plugin.Open(%q): plugin was built with a different version of package ", strings.TrimSuffix(plugin, ".so"))
	o := res.Outcomes[0]
	if pkg, ok := strings.CutPrefix(o.Err, head); o.Loaded || !ok || !inModules(pkg, realPluginShared) {
		t.Fatalf("before fork: loaded=%v err=%q; want %q + one of %v", o.Loaded, o.Err, head, realPluginShared)
	}

	// Fork.
	out, err := fork.Fork(ctx, fork.Config{Dir: hostDir, Env: env.Environ(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	step("forked: %+v", out.Timings)
	var got []string
	for _, f := range out.Forks {
		got = append(got, f.Path)
		if f.Status != "added" || f.ForkPath != prefix+"/"+f.Path {
			t.Errorf("fork %+v: want status added, fork path %s/%s", f, prefix, f.Path)
		}
	}
	if !slices.Equal(got, realForks) {
		t.Fatalf("forked modules:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(realForks, "\n\t"))
	}
	compareVendor(t, out.Forks, hostDir, filepath.Join(vendorDir, "vendor"))

	// The forked host builds and vets, here and for other platforms; it
	// links no upstream third-party package; go.mod and go.sum are tidy.
	after := filepath.Join(dir, "host-after")
	jobs := []func() error{func() error {
		if err := runGo(ctx, env, hostDir, "build", "-o", filepath.Join(dir, "bin")+string(filepath.Separator), "./..."); err != nil {
			return err
		}
		if err := runGo(ctx, env, hostDir, "vet", "./..."); err != nil {
			return err
		}
		step("built and vetted")
		if err := runGo(ctx, env, hostDir, "build", "-o", after, "."); err != nil {
			return err
		}
		step("forked host built")
		return nil
	}}
	// Other platforms' files are rewritten too: the forked host
	// type-checks there, from source (compiling every module for each
	// platform, as go vet does, took minutes).
	for _, target := range []string{"windows/amd64", "darwin/arm64"} {
		jobs = append(jobs, func() error {
			goos, goarch, _ := strings.Cut(target, "/")
			errs, err := typecheck.Check(ctx, typecheck.Config{Dir: hostDir, Patterns: []string{"./..."},
				Env: append(env.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")})
			if err != nil || len(errs) > 0 {
				t.Errorf("%s: %v %v", target, err, errs)
			}
			step("type-checked for %s", target)
			return nil
		})
	}
	concurrently(t, jobs...)
	deps := env.Go(t, hostDir, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./...")
	for _, p := range strings.Fields(deps) {
		if p != "example.com/realhost" && !strings.HasPrefix(p, prefix+"/") {
			t.Errorf("the forked host still links %s", p)
		}
	}
	if diff := env.Go(t, hostDir, "mod", "tidy", "-diff"); diff != "" {
		t.Errorf("go mod tidy -diff after fork:\n%s", diff)
	}

	// After: the host behaves as before, and the plugin loads with its own
	// copies of the modules.
	loadsAsWanted(t, ctx, after, plugin, want)

	// A re-run changes nothing; check passes.
	lock, err := os.ReadFile(filepath.Join(hostDir, fork.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	again, err := fork.Fork(ctx, fork.Config{Dir: hostDir, Env: env.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed {
		t.Errorf("a re-run changed the host: %+v", again)
	}
	if lock2, _ := os.ReadFile(filepath.Join(hostDir, fork.LockFile)); string(lock2) != string(lock) {
		t.Errorf("a re-run changed %s", fork.LockFile)
	}
	step("re-run: %+v", again.Timings)

	// check: the registering libraries are hazards until decided; the
	// plugin links none of them, so they are accepted, and check passes.
	chk, err := fork.Check(fork.CheckConfig{Dir: hostDir})
	if err != nil {
		t.Fatal(err)
	}
	var hazards []string
	for _, f := range chk.Findings {
		if f.Kind != fork.KindHazard {
			t.Errorf("check after fork: %+v", f)
			continue
		}
		hazards = append(hazards, f.Path)
	}
	if !slices.Equal(hazards, realHazards) {
		t.Errorf("hazards:\n\t%s\nwant:\n\t%s", strings.Join(hazards, "\n\t"), strings.Join(realHazards, "\n\t"))
	}
	var accept []fork.Acceptance
	for _, h := range realHazards {
		accept = append(accept, fork.Acceptance{Package: h, Reason: "the test's plugin links none of them"})
	}
	if _, err := fork.Fork(ctx, fork.Config{Dir: hostDir, Env: env.Environ(), Accept: accept}); err != nil {
		t.Fatal(err)
	}
	if chk, err = fork.Check(fork.CheckConfig{Dir: hostDir}); err != nil || !chk.OK {
		t.Errorf("check after accepting: %v %+v", err, chk.Findings)
	}
}

// loadsAsWanted checks that the forked host after loads plugin, and that
// both report what want (of realModules) says.
func loadsAsWanted(t *testing.T, ctx context.Context, after, plugin string, want map[string]string) {
	t.Helper()
	res := testgo.Load(ctx, after, plugin)
	if res.Err != nil || len(res.Outcomes) != 1 || !res.Outcomes[0].Loaded {
		t.Fatalf("after fork: %+v\nstdout:\n%s\nstderr:\n%s", res.Outcomes, res.Stdout, res.Stderr)
	}
	if res.HostReport != want["report"] {
		t.Errorf("host after fork reports:\n%s\nwant:\n%s", res.HostReport, want["report"])
	}
	if o := res.Outcomes[0].Output; o != want["plugin"] {
		t.Errorf("plugin reports %q, want %q", o, want["plugin"])
	}
}

// stepLogger returns a function that logs a step of a long test with the
// seconds since the test began.
func stepLogger(t *testing.T) func(format string, args ...any) {
	start := time.Now()
	return func(format string, args ...any) {
		t.Logf("%6.1fs "+format, append([]any{time.Since(start).Seconds()}, args...)...)
	}
}

// realModules returns the archive of the real host of
// testdata/real/modules.txtar, with the reports it wants by name (want/NAME).
func realModules(t *testing.T) (*txtar.Archive, map[string]string) {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", "real", "modules.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range ar.Files {
		if name, ok := strings.CutPrefix(f.Name, "want/"); ok {
			want[name] = strings.TrimSpace(string(f.Data))
		}
	}
	return ar, want
}

// realHazards are the packages of the real host that register a fixed
// name at init, as check reports them (sorted by position).
var realHazards = []string{
	"github.com/go-sql-driver/mysql",
	"github.com/jackc/pgx/v5/stdlib",
	"github.com/lib/pq",
	"github.com/mattn/go-sqlite3",
	"golang.org/x/net/trace",
}

// runGo runs the go command in dir in env (a failure is returned, not
// reported, so that it may run off the test's goroutine).
func runGo(ctx context.Context, env *testgo.Env, dir string, args ...string) error {
	_, err := env.Runner(dir).Run(ctx, args...)
	return err
}

// concurrently runs the jobs side by side and stops the test if any failed.
func concurrently(t *testing.T, jobs ...func() error) {
	t.Helper()
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = job()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// compareVendor checks that each fork holds the files go mod vendor keeps for
// its module (the fork's go.mod and marker aside), no more, no fewer.
func compareVendor(t *testing.T, forks []fork.ForkResult, hostDir, vendor string) {
	t.Helper()
	for _, f := range forks {
		forkFiles := moduleFiles(t, filepath.Join(hostDir, filepath.FromSlash(f.Dir)))
		forkFiles = slices.DeleteFunc(forkFiles, func(name string) bool {
			return name == "go.mod" || name == fork.MarkerFile
		})
		vendored := moduleFiles(t, filepath.Join(vendor, filepath.FromSlash(f.Path)))
		// Files of a fork nested in this one (none here, but a module
		// path may be a prefix of another) belong to that fork.
		vendored = slices.DeleteFunc(vendored, func(name string) bool {
			for _, g := range forks {
				if g.Path != f.Path && strings.HasPrefix(g.Path, f.Path+"/") && strings.HasPrefix(path.Join(f.Path, name), g.Path+"/") {
					return true
				}
			}
			return false
		})
		if !slices.Equal(forkFiles, vendored) {
			t.Errorf("%s: fork files differ from go mod vendor's:\n\tonly in the fork: %v\n\tonly vendored: %v",
				f.Path, minus(forkFiles, vendored), minus(vendored, forkFiles))
		}
	}
}

// moduleFiles returns the files below dir, slash-separated and sorted,
// leaving out directories holding a go.mod (other modules).
func moduleFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := fork.TreeFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
