// Package testgo gives plugfork's tests an offline go environment (a
// file:// module proxy built from testdata/mod, a private module cache) and
// builds real plugin hosts and plugins to load them.
package testgo

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/modproxy"
	"github.com/rogpeppe/go-internal/txtar"
)

// RepoRoot returns the root of the plugfork source tree.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Env is an offline go environment.
type Env struct {
	Root     string // temporary root holding everything below
	Proxy    string // the module proxy tree
	ModCache string // GOMODCACHE
	GoPath   string // GOPATH
	Vars     []string
}

// New builds the proxy from the repository's testdata/mod into a new
// temporary directory and returns the environment that uses it. Call Close
// when done (TestMain: after m.Run).
func New() (*Env, error) {
	root, err := os.MkdirTemp("", "plugfork-test-")
	if err != nil {
		return nil, err
	}
	e := &Env{
		Root:     root,
		Proxy:    filepath.Join(root, "proxy"),
		ModCache: filepath.Join(root, "gopath", "pkg", "mod"),
		GoPath:   filepath.Join(root, "gopath"),
	}
	if err := modproxy.Build(filepath.Join(RepoRoot(), "testdata", "mod"), e.Proxy); err != nil {
		e.Close()
		return nil, fmt.Errorf("building test module proxy: %w", err)
	}
	gocache := os.Getenv("GOCACHE")
	if gocache == "" {
		out, err := exec.Command("go", "env", "GOCACHE").Output()
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("go env GOCACHE: %w", err)
		}
		gocache = strings.TrimSpace(string(out))
	}
	e.Vars = []string{
		"GOPROXY=" + modproxy.URL(e.Proxy),
		"GOSUMDB=off",
		"GONOSUMDB=",
		"GONOSUMCHECK=",
		"GOPRIVATE=",
		"GONOPROXY=",
		"GOINSECURE=",
		"GOFLAGS=-mod=mod",
		"GOWORK=off",
		"GOTOOLCHAIN=local",
		"GOENV=off",
		"GOMODCACHE=" + e.ModCache,
		"GOPATH=" + e.GoPath,
		"GOCACHE=" + gocache,
		"CGO_ENABLED=1",
	}
	return e, nil
}

// Close removes the environment's files (the module cache is read-only).
func (e *Env) Close() {
	filepath.WalkDir(e.Root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o777)
		}
		return nil
	})
	os.RemoveAll(e.Root)
}

// Environ returns the process environment with the offline settings on top.
func (e *Env) Environ() []string {
	env := os.Environ()
	return append(env[:len(env):len(env)], e.Vars...)
}

// Runner returns a go command runner for dir in this environment.
func (e *Env) Runner(dir string) gocmd.Runner {
	return gocmd.Runner{Dir: dir, Env: e.Environ()}
}

// Go runs the go command in dir and returns its standard output; a failure
// stops the test.
func (e *Env) Go(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := e.Runner(dir).Run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// Extract writes the files of the archive under dir; with prefix, only the
// files below prefix, with it removed ("host/" writes host/main.go as main.go).
func Extract(ar *txtar.Archive, dir, prefix string) error {
	for _, f := range ar.Files {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.Data, 0o666); err != nil {
			return err
		}
	}
	return nil
}

// ExtractFile extracts the txtar file at path into dir (see Extract).
func ExtractFile(t testing.TB, path, dir, prefix string) {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Extract(ar, dir, prefix); err != nil {
		t.Fatal(err)
	}
}

// ReadTree returns the files below dir as an archive, sorted by name, for
// comparisons with golden archives.
func ReadTree(dir string) (*txtar.Archive, error) {
	ar := new(txtar.Archive)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		ar.Files = append(ar.Files, txtar.File{Name: filepath.ToSlash(rel), Data: data})
		return nil
	})
	return ar, err
}

// Main is TestMain for packages whose tests build with the offline
// environment: it sets *env up, runs the tests, closes it and exits.
func Main(m *testing.M, env **Env) {
	e, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	*env = e
	code := m.Run()
	e.Close()
	os.Exit(code)
}
