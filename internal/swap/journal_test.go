package swap

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestJournalRecovery interrupts a swap after every operation, including
// the moment between an operation and its progress record, and checks that
// recovery always ends in the fully swapped state.
func TestJournalRecovery(t *testing.T) {
	build := func(t *testing.T) (string, []op) {
		root := t.TempDir()
		write := func(rel, data string) {
			p := filepath.Join(root, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o777)
			if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
				t.Fatal(err)
			}
		}
		write("go.mod", "old go.mod")
		write("main.go", "old main")
		write("forks/a/a.go", "old fork")
		write(".plugfork/stage/go.mod", "new go.mod")
		write(".plugfork/stage/main.go", "new main")
		write(".plugfork/stage/forks/a/a.go", "new fork")
		write(".plugfork/stage/forks/b/b.go", "new fork b")
		write("third_party/forked/x/x.go", "old fork x")
		write("keep/other.txt", "not plugfork's")
		os.MkdirAll(filepath.Join(root, "keep", "sub"), 0o777)
		var j Journal
		j.Rename(".plugfork/stage/main.go", "main.go")
		j.Rename(".plugfork/stage/go.mod", "go.mod")
		j.Rename("forks", ".plugfork/old/forks")
		j.Rename(".plugfork/stage/forks", "forks")
		j.Remove("stale")
		j.Remove("third_party/forked")
		j.Prune("third_party/forked")
		j.Prune("keep/sub")
		return root, j.ops
	}
	want := map[string]string{"go.mod": "new go.mod", "main.go": "new main", "forks/a/a.go": "new fork", "forks/b/b.go": "new fork b", "keep/other.txt": "not plugfork's"}
	check := func(t *testing.T, root string) {
		t.Helper()
		for rel, data := range want {
			got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
			if err != nil || string(got) != data {
				t.Errorf("%s = %q, %v; want %q", rel, got, err, data)
			}
		}
		if _, err := os.Stat(filepath.Join(root, WorkDir)); !os.IsNotExist(err) {
			t.Errorf("%s left behind", WorkDir)
		}
		// Pruned: the emptied fork dir's parent; not a parent holding more.
		for _, gone := range []string{"third_party", "keep/sub"} {
			if _, err := os.Stat(filepath.Join(root, gone)); !os.IsNotExist(err) {
				t.Errorf("%s not pruned", gone)
			}
		}
	}
	_, ops := build(t)
	for k := 0; k <= len(ops); k++ {
		for _, recorded := range []bool{true, false} {
			t.Run(strconv.Itoa(k)+"/"+strconv.FormatBool(recorded), func(t *testing.T) {
				root, ops := build(t)
				j := Journal{ops: ops}
				// Write the journal, run k operations, "die".
				if err := j.commitPartial(root, k); err != nil {
					t.Fatal(err)
				}
				if !recorded && k > 0 {
					// Killed after operation k but before its progress record.
					os.WriteFile(progressPath(root), []byte(strconv.Itoa(k-1)), 0o666)
				}
				done, err := Recover(root)
				if err != nil {
					t.Fatal(err)
				}
				if !done {
					t.Fatal("recoverJournal did not find the journal")
				}
				check(t, root)
			})
		}
	}
}

// commitPartial writes the journal and applies only its first n operations,
// as a run killed at that moment would have.
func (j *Journal) commitPartial(root string, n int) error {
	full := j.ops
	j.ops = full[:n]
	defer func() { j.ops = full }()
	// Write the whole journal, but apply n operations.
	if err := (&Journal{ops: full}).write(root); err != nil {
		return err
	}
	return applyJournalKeep(root, full[:n])
}

// applyJournalKeep applies ops and records progress, without the final
// clean-up that a finished swap does.
func applyJournalKeep(root string, ops []op) error {
	for i, o := range ops {
		if err := applyOp(root, o); err != nil {
			return err
		}
		if err := os.WriteFile(progressPath(root), []byte(strconv.Itoa(i+1)), 0o666); err != nil {
			return err
		}
	}
	return nil
}

// A run interrupted before the journal was written leaves only a stage,
// which recovery discards: the host is as it was.
func TestRecoverDiscardsStage(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, WorkDir, "stage"), 0o777)
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o666)
	done, err := Recover(root)
	if err != nil || done {
		t.Fatalf("recoverJournal = %v, %v; want false, nil", done, err)
	}
	if _, err := os.Stat(filepath.Join(root, WorkDir)); !os.IsNotExist(err) {
		t.Error("stage left behind")
	}
}
