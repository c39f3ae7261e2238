package swap

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv names the host a re-executed test binary swaps (see TestMain).
const childEnv = "PLUGFORK_SWAP_CHILD"

func TestMain(m *testing.M) {
	if root := os.Getenv(childEnv); root != "" {
		// The child: commit the journal slowly, to be killed on the way.
		opDone = func() { time.Sleep(2 * time.Millisecond) }
		if err := swapJournal(root).Commit(root); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const killFiles = 40

// killHost writes the host before the swap: old files, and the stage with
// the new ones.
func killHost(t *testing.T, root string) {
	t.Helper()
	write := func(rel, data string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "old")
	write("stale/x", "old")
	for i := range killFiles {
		write(fmt.Sprintf("src/f%d.go", i), "old")
		write(StagedPath(fmt.Sprintf("src/f%d.go", i)), "new")
		write(fmt.Sprintf("forks/m%d/m.go", i), "old")
		write(StagedPath(fmt.Sprintf("forks/m%d/m.go", i)), "new")
	}
	write(StagedPath("go.mod"), "new")
}

// swapJournal is the journal that swaps killHost's stage in.
func swapJournal(root string) *Journal {
	var j Journal
	for i := range killFiles {
		rel := fmt.Sprintf("src/f%d.go", i)
		j.Rename(StagedPath(rel), rel)
	}
	j.Rename(StagedPath("go.mod"), "go.mod")
	j.Rename("forks", WorkDir+"/old/forks")
	j.Rename(StagedPath("forks"), "forks")
	j.Remove("stale")
	return &j
}

// state reads the host's files, outside the work dir.
func state(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == WorkDir {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestKilledSwapRecovers kills a process with SIGKILL while it commits a
// journal, at moments spread over the commit, and checks the promise: the
// host is either untouched (killed before the commit point) or has a
// journal, and Recover then ends in exactly the swapped state.
func TestKilledSwapRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary many times")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := func(root string) *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+root)
		return cmd
	}

	// The reference: a commit that is not interrupted.
	ref := t.TempDir()
	killHost(t, ref)
	before := state(t, ref)
	start := time.Now()
	if out, err := child(ref).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted swap: %v\n%s", err, out)
	}
	full := time.Since(start)
	after := state(t, ref)
	if _, err := os.Stat(filepath.Join(ref, WorkDir)); !os.IsNotExist(err) {
		t.Fatalf("a finished swap left %s", WorkDir)
	}

	sawPartial := false
	for i := range 12 {
		root := t.TempDir()
		killHost(t, root)
		cmd := child(root)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(full * time.Duration(i) / 12)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		now := state(t, root)
		pending := Pending(root)
		if !pending && !equal(now, before) && !equal(now, after) {
			t.Fatalf("killed at %d/12: the host is half swapped and no journal says how to finish", i)
		}
		if pending && !equal(now, before) && !equal(now, after) {
			sawPartial = true
		}
		if _, err := Recover(root); err != nil {
			t.Fatalf("killed at %d/12: recovering: %v", i, err)
		}
		if got := state(t, root); !equal(got, after) && !(equal(got, before) && !pending) {
			t.Fatalf("killed at %d/12: after recovery the host is neither swapped nor as before:\n%v", i, diff(got, after))
		}
		if _, err := os.Stat(filepath.Join(root, WorkDir)); !os.IsNotExist(err) {
			t.Errorf("killed at %d/12: recovery left %s", i, WorkDir)
		}
	}
	if !sawPartial {
		t.Log("no kill landed in the middle of the swap (a slow or loaded machine); the in-process test covers every partial state")
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

func diff(got, want map[string]string) string {
	var out []string
	for k, v := range got {
		if want[k] != v {
			out = append(out, k+"="+v)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			out = append(out, "-"+k)
		}
	}
	return strings.Join(out, " ")
}
