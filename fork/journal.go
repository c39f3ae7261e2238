package fork

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// workDir is where plugfork stages its work inside the host module. The go
// command ignores directories whose names begin with a dot.
const workDir = ".plugfork"

// A journal is the list of file system operations that turns the host into
// its forked state. It is written completely and synced before the first
// operation runs (the commit point); each operation is idempotent when
// retried, and a progress file records how many are done, so a run that is
// interrupted at any moment is finished by the next one (recoverJournal).
type journal struct {
	ops []op
}

type op struct {
	kind     string // "rename" or "remove"
	from, to string // relative to the host root, slash-separated
}

func (j *journal) rename(from, to string) { j.ops = append(j.ops, op{"rename", from, to}) }
func (j *journal) remove(path string)     { j.ops = append(j.ops, op{"remove", path, ""}) }

func journalPath(root string) string  { return filepath.Join(root, workDir, "journal") }
func progressPath(root string) string { return filepath.Join(root, workDir, "progress") }

// commit writes the journal durably and then applies it.
func (j *journal) commit(root string) error {
	if err := j.write(root); err != nil {
		return err
	}
	if err := applyJournal(root, j.ops, 0); err != nil {
		return fmt.Errorf("%w; the change is committed: run plugfork fork again to finish it", err)
	}
	return nil
}

// write writes the journal durably: after it returns, the swap is
// committed and any later run finishes it.
func (j *journal) write(root string) error {
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
	syncDir(filepath.Join(root, workDir))
	return nil
}

// recoverJournal finishes an interrupted swap, or discards an interrupted
// staging (no journal: the host was never touched). It reports whether a
// swap was finished.
func recoverJournal(root string) (bool, error) {
	data, err := os.ReadFile(journalPath(root))
	if os.IsNotExist(err) {
		return false, os.RemoveAll(filepath.Join(root, workDir))
	}
	if err != nil {
		return false, err
	}
	ops, err := parseJournal(data)
	if err != nil {
		return false, fmt.Errorf("%s: %w (remove %s and restore the host from version control)", journalPath(root), err, workDir)
	}
	done := 0
	if p, err := os.ReadFile(progressPath(root)); err == nil {
		done, _ = strconv.Atoi(strings.TrimSpace(string(p)))
	}
	return true, applyJournal(root, ops, done)
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
		if _, err := fmt.Sscanf(rest, "%q %q", &from, &to); err != nil || (kind != "rename" && kind != "remove") {
			return nil, fmt.Errorf("corrupt journal line %q", line)
		}
		ops = append(ops, op{kind, from, to})
	}
	return nil, fmt.Errorf("truncated journal")
}

func applyJournal(root string, ops []op, done int) error {
	for i := done; i < len(ops); i++ {
		if err := applyOp(root, ops[i]); err != nil {
			return err
		}
		if err := os.WriteFile(progressPath(root), []byte(strconv.Itoa(i+1)), 0o666); err != nil {
			return err
		}
	}
	return os.RemoveAll(filepath.Join(root, workDir))
}

// applyOp runs one operation. Each is idempotent in the order the journal
// runs them: a rename whose source is gone was done before an interruption.
func applyOp(root string, o op) error {
	from := filepath.Join(root, filepath.FromSlash(o.from))
	switch o.kind {
	case "rename":
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
	case "remove":
		if err := os.RemoveAll(from); err != nil {
			return fmt.Errorf("applying staged change: %w", err)
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
