package closure_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/testgo"
)

// TestBuildDownloadsByWave checks that the walk downloads the modules it
// reaches a wave of the breadth-first walk at a time, in one go command a
// wave: the host imports example.com/dep and example.com/chain/a (one
// command for both), a imports b, b imports c (one command each).
func TestBuildDownloadsByWave(t *testing.T) {
	env, err := testgo.New()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	host := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/host\n\ngo 1.22\n\nrequire (\n\texample.com/chain/a v1.0.0\n\texample.com/dep v1.0.0\n)\n\nrequire (\n\texample.com/chain/b v1.0.0 // indirect\n\texample.com/chain/c v1.0.0 // indirect\n)\n",
		"main.go": "package main\n\nimport (\n\t_ \"example.com/chain/a\"\n\t_ \"example.com/dep\"\n)\n\nfunc main() {}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(host, name), []byte(src), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	run := env.Runner(host)
	mods, err := closure.ListModules(ctx, run)
	if err != nil {
		t.Fatal(err)
	}

	// A go on PATH that logs its arguments and runs the real one.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	shim, log := t.TempDir(), filepath.Join(t.TempDir(), "log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\nexec " + goBin + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(shim, "go"), []byte(script), 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", shim+string(os.PathListSeparator)+os.Getenv("PATH"))

	_, err = closure.Build(ctx, closure.Config{
		HostPath: "example.com/host", HostDir: host, Scope: closure.Scope{Platforms: []string{"linux/amd64"}}, Mods: mods, Run: run,
	}, []string{"."})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if rest, ok := strings.CutPrefix(line, "mod download -json "); ok {
			got = append(got, rest)
		}
	}
	want := []string{"example.com/chain/a@v1.0.0 example.com/dep@v1.0.0", "example.com/chain/b@v1.0.0", "example.com/chain/c@v1.0.0"}
	if !slices.Equal(got, want) {
		t.Errorf("go mod download commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
