package swap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommitFails: a swap the host does not let happen changes nothing and
// leaves no journal when it fails before or at its first operation; one that
// fails later leaves the journal, says how to finish or abandon it, and the
// next run finishes it once the cause is fixed.
func TestCommitFails(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T, root string) // breaks the host
		fix     func(t *testing.T, root string) // undoes setup; nil: the swap is refused whole
		rootOK  bool                            // the failure also stops root
		wantErr string
	}{
		{
			// The fork dir's parent is a file: detected before the commit point.
			name:    "file where a directory is expected",
			setup:   func(t *testing.T, root string) { write(t, root, "third_party", "a file") },
			rootOK:  true,
			wantErr: "cannot move .plugfork/stage/third_party/forked to third_party/forked: third_party is not a directory (move it out of the way); nothing was changed",
		},
		{
			name: "read-only fork dir",
			setup: func(t *testing.T, root string) {
				chmod(t, filepath.Join(root, "forks"), 0o555)
				t.Cleanup(func() { os.Chmod(filepath.Join(root, "forks"), 0o777) })
			},
			wantErr: "cannot move forks: it is not writable (chmod u+w forks); nothing was changed",
		},
		{
			// The first operation fails: undone by removing the journal.
			name: "first operation fails",
			setup: func(t *testing.T, root string) {
				if err := os.Remove(filepath.Join(root, "main.go")); err != nil {
					t.Fatal(err)
				}
				write(t, root, "main.go/x", "a directory where main.go was")
			},
			rootOK:  true,
			wantErr: "nothing was changed",
		},
		{
			// A later operation fails: the journal stays, with the way out.
			name: "later operation fails",
			setup: func(t *testing.T, root string) {
				write(t, root, "go.mod/x", "a directory where go.mod was")
			},
			fix: func(t *testing.T, root string) {
				if err := os.RemoveAll(filepath.Join(root, "go.mod")); err != nil {
					t.Fatal(err)
				}
			},
			rootOK:  true,
			wantErr: "fix that and run plugfork again to finish it, or remove ",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.rootOK && os.Geteuid() == 0 {
				t.Skip("root writes in read-only directories")
			}
			root := t.TempDir()
			write(t, root, "main.go", "old main")
			write(t, root, "forks/a/a.go", "old fork")
			write(t, root, StagedPath("main.go"), "new main")
			write(t, root, StagedPath("go.mod"), "new go.mod")
			write(t, root, StagedPath("forks/a/a.go"), "new fork")
			write(t, root, StagedPath("third_party/forked/b/b.go"), "new fork b")
			tt.setup(t, root)
			before := state(t, root)
			var j Journal
			j.Rename(StagedPath("main.go"), "main.go")
			j.Rename(StagedPath("go.mod"), "go.mod")
			j.Rename("forks", WorkDir+"/old/forks")
			j.Rename(StagedPath("forks"), "forks")
			j.Rename(StagedPath("third_party/forked"), "third_party/forked")

			err := j.Commit(root)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Commit: %v; want an error with %q", err, tt.wantErr)
			}
			if tt.fix == nil {
				if Pending(root) {
					t.Errorf("a refused swap left a journal")
				}
				if got := state(t, root); !equal(got, before) {
					t.Errorf("a refused swap changed the host: %s", diff(got, before))
				}
				return
			}
			if !Pending(root) || !errors.Is(err, ErrUnfinished) {
				t.Fatalf("a half-done swap: pending %v, error %v; want its journal and ErrUnfinished", Pending(root), err)
			}
			if _, err := Recover(root); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Recover before the fix: %v; want an error with %q", err, tt.wantErr)
			}
			tt.fix(t, root)
			if _, err := Recover(root); err != nil {
				t.Fatalf("Recover after the fix: %v", err)
			}
			want := map[string]string{"main.go": "new main", "go.mod": "new go.mod", "forks/a/a.go": "new fork", "third_party/forked/b/b.go": "new fork b"}
			if got := state(t, root); !equal(got, want) {
				t.Errorf("after recovery: %s", diff(got, want))
			}
		})
	}
}

// TestWorkDirIgnored: the work dir tells git to ignore it.
func TestWorkDirIgnored(t *testing.T) {
	root := t.TempDir()
	write(t, root, "go.mod", "module m\n")
	if _, err := NewStage(root); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, WorkDir, ".gitignore"))
	if err != nil || !strings.HasSuffix(string(data), "\n*\n") {
		t.Errorf("%s/.gitignore = %q, %v; want it to ignore everything", WorkDir, data, err)
	}
}

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o666); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, name string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}
