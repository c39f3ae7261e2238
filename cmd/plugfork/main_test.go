package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/testscript"
)

var env *testgo.Env

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"plugfork": main,
	})
}

// TestScript runs the CLI scenarios in testdata/script. Each runs in an
// offline go environment: fixture modules from testdata/mod served through a
// file:// GOPROXY, a private module cache.
func TestScript(t *testing.T) {
	var err error
	env, err = testgo.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(testgo.RepoRoot(), "testdata", "script"),
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			for _, kv := range env.Vars {
				k, v, _ := strings.Cut(kv, "=")
				e.Setenv(k, v)
			}
			// The go command needs a home for its configuration.
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("PLUGFORK_PROXY", env.Proxy)
			e.Setenv("PLUGFORK_VULNDB", "file://"+filepath.ToSlash(filepath.Join(testgo.RepoRoot(), "testdata", "vulndb")))
			for _, k := range []string{"GOPROXY", "GOMODCACHE"} {
				e.Setenv("PLUGFORK_"+k, e.Getenv(k))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitcode,
		},
	})
}

// cmdExitcode runs "exitcode N plugfork args..." and checks that plugfork
// exits with status N; its output becomes the script's stdout and stderr.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "plugfork" {
		ts.Fatalf("usage: exitcode N plugfork [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	var stdout, stderr bytes.Buffer
	code := run(&invocation{
		Args:   args[2:],
		Dir:    ts.MkAbs("."),
		Env:    scriptEnv(ts),
		Stdout: &stdout,
		Stderr: &stderr,
	})
	ts.Stdout().Write(scrub(ts, stdout.Bytes()))
	ts.Stderr().Write(scrub(ts, stderr.Bytes()))
	if code != want {
		ts.Fatalf("plugfork exited %d, want %d\nstderr:\n%s", code, want, stderr.String())
	}
}

// scrub returns plugfork's output as a golden file holds it, the same on
// every machine and run: the script's directories written as the variables
// that name them ($WORK, $PLUGFORK_PROXY, $GOMODCACHE), durations as Nms.
func scrub(ts *testscript.TestScript, out []byte) []byte {
	vars := []string{"GOMODCACHE", "PLUGFORK_PROXY", "WORK"}
	slices.SortFunc(vars, func(a, b string) int { return len(ts.Getenv(b)) - len(ts.Getenv(a)) }) // longest first
	s := string(out)
	for _, k := range vars {
		if v := ts.Getenv(k); v != "" {
			s = strings.ReplaceAll(s, v, "$"+k)
		}
	}
	return []byte(durationRE.ReplaceAllString(s, "${1}Nms"))
}

var durationRE = regexp.MustCompile(`(\bin )\d+ms\b`)

// scriptEnv returns the environment of the script: the process's, with the
// variables the script's setup and commands may have changed.
func scriptEnv(ts *testscript.TestScript) []string {
	e := os.Environ()
	keys := []string{"HOME", "PATH", "WORK", "TMPDIR", "PLUGFORK_PROXY", "PLUGFORK_ZIP_LIMIT", "SOURCE_DATE_EPOCH", "GOOS", "GOARCH"}
	for _, kv := range env.Vars {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	for _, k := range keys {
		e = append(e, k+"="+ts.Getenv(k))
	}
	return e
}
