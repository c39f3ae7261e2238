package fork_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
)

const killHost = `
-- go.mod --
module example.com/host

go 1.22
-- main.go --
package main

import (
	"fmt"

	"example.com/chain/a"
	"example.com/lib"
)

func main() { fmt.Println(a.Name(), lib.Value()) }
`

// TestKilledForkRecovers interrupts plugfork fork (SIGINT and SIGKILL, in
// turn) at moments spread over a run and checks the promise: right after the kill the host is
// either as before or has a committed journal (no half state without one),
// and the next run ends in exactly the tree an uninterrupted fork makes,
// in either layout.
func TestKilledForkRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugfork and runs it many times")
	}
	for _, layout := range killLayouts {
		t.Run(layout.name, func(t *testing.T) { killedForkRecovers(t, layout.args) })
	}
}

// killLayouts are the fork flags of the kill tests, by layout.
var killLayouts = []struct {
	name string
	args []string
}{
	{"modules", []string{"--prefix", "gitlab.example.com/workflow"}},
	{"inline", []string{"--layout", "inline"}},
}

// killedForkRecovers is TestKilledForkRecovers for a fork with args.
func killedForkRecovers(t *testing.T, args []string) {
	tmp, orig, run := killSetup(t)
	before := snapshot(t, orig)
	fork := func(dir string) *exec.Cmd { return run(dir, append([]string{"fork"}, args...)...) }
	ref := filepath.Join(tmp, "ref")
	copyTree(t, orig, ref)
	start := time.Now()
	if out, err := fork(ref).CombinedOutput(); err != nil {
		t.Fatalf("reference fork: %v\n%s", err, out)
	}
	full := time.Since(start)
	after := snapshot(t, ref)

	// Two runs at once take turns: both succeed and the tree is the one
	// a single run makes.
	both := filepath.Join(tmp, "concurrent")
	copyTree(t, orig, both)
	first, second := fork(both), fork(both)
	var out1, out2 bytes.Buffer
	first.Stdout, first.Stderr = &out1, &out1
	second.Stdout, second.Stderr = &out2, &out2
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	if err1, err2 := first.Wait(), second.Wait(); err1 != nil || err2 != nil {
		t.Fatalf("concurrent runs: %v, %v\n%s\n%s", err1, err2, out1.String(), out2.String())
	}
	if got := snapshot(t, both); !equalTrees(got, after) {
		t.Errorf("after two concurrent runs the tree differs from a single run's: %v", diffNames(got, after))
	}

	for i := 1; i <= 6; i++ {
		delay := full * time.Duration(i) / 6
		dir := filepath.Join(tmp, "kill", time.Duration(delay).String())
		copyTree(t, orig, dir)
		cmd := fork(dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		// Ctrl-C and kill -9, alternately: both must leave a recoverable host.
		sig := syscall.SIGKILL
		if i%2 == 0 {
			sig = syscall.SIGINT
		}
		cmd.Process.Signal(sig)
		cmd.Wait()

		now := snapshot(t, dir)
		_, journal := now[".plugfork/journal"]
		delete(now, ".plugfork/journal")
		host := withoutWork(now)
		if !equalTrees(host, before) && !equalTrees(host, after) && !journal {
			t.Errorf("%v after %v: the host is neither as before nor forked, and no journal says how to finish:\nvs before: %v\nvs after: %v", sig, delay, diffNames(host, before), diffNames(host, after))
		}
		if out, err := fork(dir).CombinedOutput(); err != nil {
			t.Fatalf("re-run after a kill at %v: %v\n%s", delay, err, out)
		}
		if got := snapshot(t, dir); !equalTrees(got, after) {
			t.Errorf("killed after %v, re-run: the tree differs from an uninterrupted fork", delay)
		}
	}
}

// killSetup builds plugfork and writes the tidy host killHost into orig, in
// the returned temporary directory; run makes the command of plugfork with
// args in dir.
func killSetup(t *testing.T) (tmp, orig string, run func(dir string, args ...string) *exec.Cmd) {
	t.Helper()
	tmp = t.TempDir()
	bin := filepath.Join(tmp, "plugfork")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/plugfork").CombinedOutput(); err != nil {
		t.Fatalf("building plugfork: %v\n%s", err, out)
	}
	orig = filepath.Join(tmp, "orig")
	if err := testgo.Extract(txtar.Parse([]byte(killHost)), orig, ""); err != nil {
		t.Fatal(err)
	}
	env.Go(t, orig, "mod", "tidy")
	return tmp, orig, func(dir string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = env.Environ()
		return cmd
	}
}

// TestKilledUnforkRecovers interrupts plugfork unfork at moments spread
// over a run: the host is then forked, or unforked, or has a committed
// journal, and the next run ends in the host exactly as it was before the
// fork (sources, go.mod and go.sum).
func TestKilledUnforkRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugfork and runs it many times")
	}
	for _, layout := range killLayouts {
		t.Run(layout.name, func(t *testing.T) { killedUnforkRecovers(t, layout.args) })
	}
}

// killedUnforkRecovers is TestKilledUnforkRecovers for a host forked with
// args.
func killedUnforkRecovers(t *testing.T, args []string) {
	tmp, orig, run := killSetup(t)
	before := snapshot(t, orig)
	forked := filepath.Join(tmp, "forked")
	copyTree(t, orig, forked)
	if out, err := run(forked, append([]string{"fork"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("fork: %v\n%s", err, out)
	}
	forkedTree := snapshot(t, forked)

	ref := filepath.Join(tmp, "ref")
	copyTree(t, forked, ref)
	start := time.Now()
	if out, err := run(ref, "unfork").CombinedOutput(); err != nil {
		t.Fatalf("reference unfork: %v\n%s", err, out)
	}
	full := time.Since(start)
	if got := snapshot(t, ref); !equalTrees(got, before) {
		t.Fatalf("fork then unfork differs from the host before: %v", diffNames(got, before))
	}

	for i := 1; i <= 4; i++ {
		delay := full * time.Duration(i) / 4
		dir := filepath.Join(tmp, "kill", delay.String())
		copyTree(t, forked, dir)
		cmd := run(dir, "unfork")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		now := snapshot(t, dir)
		_, journal := now[".plugfork/journal"]
		host := withoutWork(now)
		if !equalTrees(host, forkedTree) && !equalTrees(host, before) && !journal {
			t.Errorf("killed after %v: the host is neither forked nor unforked, and no journal says how to finish: %v", delay, diffNames(host, before))
		}
		if !equalTrees(host, before) || journal {
			if out, err := run(dir, "unfork").CombinedOutput(); err != nil && !bytes.Contains(out, []byte("nothing is forked here")) {
				t.Fatalf("re-run after a kill at %v: %v\n%s", delay, err, out)
			}
		}
		if got := snapshot(t, dir); !equalTrees(got, before) {
			t.Errorf("killed after %v, re-run: the host differs from before the fork: %v", delay, diffNames(got, before))
		}
	}
}

// snapshot reads every file below dir.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ar, err := testgo.ReadTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range ar.Files {
		files[f.Name] = f.Data
	}
	return files
}

func withoutWork(files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for name, data := range files {
		if len(name) < len(".plugfork/") || name[:len(".plugfork/")] != ".plugfork/" {
			out[name] = data
		}
	}
	return out
}

func equalTrees(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for name, data := range a {
		if other, ok := b[name]; !ok || !bytes.Equal(data, other) {
			return false
		}
	}
	return true
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	ar, err := testgo.ReadTree(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := testgo.Extract(ar, dst, ""); err != nil {
		t.Fatal(err)
	}
}

func diffNames(a, b map[string][]byte) []string {
	var out []string
	for name, data := range a {
		if other, ok := b[name]; !ok || !bytes.Equal(data, other) {
			out = append(out, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			out = append(out, "-"+name)
		}
	}
	return out
}
