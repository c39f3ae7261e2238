// Package swap is plugfork's file-system transaction: a stage in which the
// new state of a host is built, a journal that swaps it in so that a run
// interrupted at any moment is finished by the next, and the lock that
// makes runs in one host take turns.
package swap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// WorkDir is where plugfork stages its work inside the host module. The go
// command ignores directories whose names begin with a dot.
const WorkDir = ".plugfork"

// A Journal is the list of file system operations that turns the host into
// its new state. It is written completely and synced before the first
// operation runs (the commit point); each operation is idempotent when
// retried, and a progress file records how many are done, so a run that is
// interrupted at any moment is finished by the next one (Recover).
type Journal struct {
	ops []op
}

// opKind is what a journal operation does.
type opKind string

const (
	opRename opKind = "rename" // rename from to to, replacing it
	opRemove opKind = "remove" // remove from and everything below it
	opPrune  opKind = "prune"  // remove from and its parents, below the root, while they are empty directories
)

type op struct {
	kind     opKind
	from, to string // relative to the host root, slash-separated
}

// Rename adds the renaming of from to to (relative to the host root,
// slash-separated); to's parent directories are made as needed.
func (j *Journal) Rename(from, to string) { j.ops = append(j.ops, op{opRename, from, to}) }

// Remove adds the removal of path and everything below it.
func (j *Journal) Remove(path string) { j.ops = append(j.ops, op{opRemove, path, ""}) }

// Prune adds the removal of the directory path and then of its parents,
// below the host root, for as long as they are empty: what a removed fork
// dir leaves behind (third_party/ once third_party/forked is gone).
func (j *Journal) Prune(path string) { j.ops = append(j.ops, op{opPrune, path, ""}) }

// Len returns the number of operations.
func (j *Journal) Len() int { return len(j.ops) }

func journalPath(root string) string  { return filepath.Join(root, WorkDir, "journal") }
func progressPath(root string) string { return filepath.Join(root, WorkDir, "progress") }

// Pending reports whether the host at root has a committed journal that no
// run has finished yet.
func Pending(root string) bool {
	_, err := os.Stat(journalPath(root))
	return err == nil
}

// Discard removes the work dir of the host at root, unless a committed
// journal is there: a swap that failed half-way is finished by the next
// run, never thrown away.
func Discard(root string) {
	if !Pending(root) {
		os.RemoveAll(filepath.Join(root, WorkDir))
	}
}

// Commit checks that the host lets every operation be done, writes the
// journal durably (the commit point) and applies it. A check that fails, or
// a first operation that fails, is an error with nothing changed and no
// journal left. An operation that fails later leaves the journal for the
// next run to finish, and the error says how to get out (ErrUnfinished).
func (j *Journal) Commit(root string) error {
	if err := j.check(root); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if err := j.write(root); err != nil {
		return err
	}
	done, err := applyJournal(root, j.ops, 0)
	if err == nil {
		return nil
	}
	if done == 0 && j.ops[0].kind == opRename {
		// A rename that fails does nothing: undo the commit point.
		if rmErr := os.Remove(journalPath(root)); rmErr == nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	}
	return unfinished(root, err)
}

// ErrUnfinished is the error of a swap that changed part of the host and
// could not finish (errors.Is tells it).
var ErrUnfinished = errors.New("the change to the host is half done")

// unfinished wraps the error of a journal operation that failed after the
// commit point with the ways out: fix the cause and run again, or abandon
// the change.
func unfinished(root string, err error) error {
	return fmt.Errorf("%w: %w; fix that and run plugfork again to finish it, or remove %s to abandon it (then restore the host from version control: some files are already swapped)", ErrUnfinished, err, filepath.Join(root, WorkDir))
}

// check reports an operation the host will not let be done, as far as can
// be told before doing it: a parent that is a file, not a directory, or a
// directory this process may not write.
func (j *Journal) check(root string) error {
	abs := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	for _, o := range j.ops {
		if o.kind == opPrune {
			continue // best effort: a directory that stays ends the pruning
		}
		fi, err := os.Lstat(abs(o.from))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if dir := path.Dir(o.from); !writable(abs(dir)) {
			return fmt.Errorf("cannot %s %s: %s is not writable (chmod u+w it)", o.kind, o.from, dirName(dir))
		}
		if o.kind != opRename {
			continue
		}
		if fi.IsDir() && path.Dir(o.from) != path.Dir(o.to) && !writable(abs(o.from)) {
			return fmt.Errorf("cannot move %s: it is not writable (chmod u+w %s)", o.from, o.from)
		}
		// The nearest existing parent of the target, where the rest is made.
		dir := path.Dir(o.to)
		for dir != "." {
			if _, err := os.Lstat(abs(dir)); err == nil {
				break
			}
			dir = path.Dir(dir)
		}
		if pi, err := os.Stat(abs(dir)); err != nil || !pi.IsDir() {
			return fmt.Errorf("cannot move %s to %s: %s is not a directory (move it out of the way)", o.from, o.to, dirName(dir))
		} else if !writable(abs(dir)) {
			return fmt.Errorf("cannot move %s to %s: %s is not writable (chmod u+w it)", o.from, o.to, dirName(dir))
		}
	}
	return nil
}

// dirName names a host-relative directory in a message.
func dirName(dir string) string {
	if dir == "." {
		return "the host directory"
	}
	return dir
}

// write writes the journal durably: after it returns, the swap is
// committed and any later run finishes it.
func (j *Journal) write(root string) error {
	var b bytes.Buffer
	for _, o := range j.ops {
		fmt.Fprintf(&b, "%s %s %s\n", o.kind, strconv.Quote(o.from), strconv.Quote(o.to))
	}
	b.WriteString("end\n")
	tmp := journalPath(root) + ".tmp"
	if err := writeFileSync(tmp, b.Bytes()); err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	if err := os.Rename(tmp, journalPath(root)); err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	syncDir(filepath.Join(root, WorkDir))
	return nil
}

// Recover finishes an interrupted swap, or discards an interrupted staging
// (no journal: the host was never touched). It reports whether a swap was
// finished.
func Recover(root string) (bool, error) {
	data, err := os.ReadFile(journalPath(root))
	if os.IsNotExist(err) {
		return false, os.RemoveAll(filepath.Join(root, WorkDir))
	}
	if err != nil {
		return false, err
	}
	ops, err := parseJournal(data)
	if err != nil {
		return false, fmt.Errorf("%s: %w (remove %s and restore the host from version control)", journalPath(root), err, WorkDir)
	}
	done := 0
	if p, err := os.ReadFile(progressPath(root)); err == nil {
		done, _ = strconv.Atoi(strings.TrimSpace(string(p)))
	}
	if _, err := applyJournal(root, ops, done); err != nil {
		return true, unfinished(root, err)
	}
	return true, nil
}

func parseJournal(data []byte) ([]op, error) {
	var ops []op
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "end" {
			return ops, nil
		}
		kind, rest, _ := strings.Cut(line, " ")
		var from, to string
		if _, err := fmt.Sscanf(rest, "%q %q", &from, &to); err != nil || !validOp(opKind(kind)) {
			return nil, fmt.Errorf("corrupt journal line %q", line)
		}
		ops = append(ops, op{opKind(kind), from, to})
	}
	return nil, fmt.Errorf("truncated journal")
}

// opDone, when set (by tests), is called after each operation.
var opDone func()

func validOp(k opKind) bool { return k == opRename || k == opRemove || k == opPrune }

// applyJournal applies ops from the done-th on and returns how many are
// done.
func applyJournal(root string, ops []op, done int) (int, error) {
	for i := done; i < len(ops); i++ {
		if err := applyOp(root, ops[i]); err != nil {
			return i, err
		}
		if opDone != nil {
			opDone()
		}
		if err := os.WriteFile(progressPath(root), []byte(strconv.Itoa(i+1)), 0o666); err != nil {
			return i + 1, err
		}
	}
	return len(ops), os.RemoveAll(filepath.Join(root, WorkDir))
}

// applyOp runs one operation. Each is idempotent in the order the journal
// runs them: a rename whose source is gone was done before an interruption.
func applyOp(root string, o op) error {
	from := filepath.Join(root, filepath.FromSlash(o.from))
	switch o.kind {
	case opRename:
		if _, err := os.Lstat(from); os.IsNotExist(err) {
			return nil
		}
		to := filepath.Join(root, filepath.FromSlash(o.to))
		if err := os.MkdirAll(filepath.Dir(to), 0o777); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return fmt.Errorf("applying staged change: %w", err)
		}
	case opRemove:
		if err := os.RemoveAll(from); err != nil {
			return fmt.Errorf("applying staged change: %w", err)
		}
	case opPrune:
		for dir := o.from; dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
			// os.Remove removes only an empty directory (or a file, but
			// journals prune directories); one that is not empty ends the
			// pruning, one already gone (an interrupted run) does not.
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(dir))); err != nil && !os.IsNotExist(err) {
				break
			}
		}
	}
	return nil
}

func writeFileSync(name string, data []byte) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
