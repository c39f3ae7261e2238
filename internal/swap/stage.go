package swap

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/plugfork/plugfork/internal/modtree"
	"golang.org/x/mod/modfile"
)

// A Stage is a private copy of the host module in which plugfork builds the
// new state before anything in the host changes. Unchanged files are hard
// links to the host's (so a stage of a large host costs nothing); a changed
// file is written as a new file and renamed over its link, never written
// through it.
type Stage struct {
	Root     string            // the host's root
	Dir      string            // the stage's root, inside Root's work dir
	relRepls map[string]string // local replacements made absolute -> as the host writes them
}

// StageDir is where the stage lives, relative to the host root.
const StageDir = WorkDir + "/stage"

// StagedPath returns the host-relative path of the staged copy of rel, as a
// journal names it.
func StagedPath(rel string) string { return path.Join(StageDir, rel) }

// goWrites are the files the go command may write in place in a module.
var goWrites = map[string]bool{"go.mod": true, "go.sum": true, "go.work.sum": true}

// NewStage copies the host at root into a fresh stage, leaving out version
// control, plugfork's work dir, vendor and the paths in regenerated (such
// as the fork dir), which the caller builds anew. Everything else is copied
// as it is, whatever its class: the go command may need any of it.
func NewStage(root string, regenerated ...string) (*Stage, error) {
	s := &Stage{Root: root, Dir: filepath.Join(root, filepath.FromSlash(StageDir))}
	if err := os.RemoveAll(s.Dir); err != nil {
		return nil, err
	}
	if _, err := MakeWorkDir(root); err != nil {
		return nil, fmt.Errorf("staging host: %w", err)
	}
	if err := os.Mkdir(s.Dir, 0o777); err != nil {
		return nil, fmt.Errorf("staging host: %w", err)
	}
	skip := append([]string{".git", WorkDir, "vendor"}, regenerated...)
	err := modtree.Walk(root, modtree.All, skip, func(rel string, d fs.DirEntry) error {
		src := filepath.Join(root, filepath.FromSlash(rel))
		dst := s.Path(rel)
		switch {
		case d.IsDir():
			return os.Mkdir(dst, 0o777)
		case d.Type().IsRegular():
			// The go command rewrites go.mod and go.sum in place: a
			// hard link would let it write through into the host.
			if goWrites[rel] {
				return copyFile(src, dst)
			}
			if err := os.Link(src, dst); err != nil {
				return copyFile(src, dst)
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("staging host: %w", err)
	}
	return s, nil
}

// MakeWorkDir makes the work dir of the module at root, if need be, with a
// .gitignore that keeps it out of version control, and returns its path.
func MakeWorkDir(root string) (string, error) {
	dir := filepath.Join(root, WorkDir)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Stat(ignore); err == nil {
		return dir, nil
	}
	return dir, os.WriteFile(ignore, []byte("# plugfork's work in progress: never committed\n*\n"), 0o666)
}

// Path returns the stage path of a slash-separated path relative to the root.
func (s *Stage) Path(rel string) string { return filepath.Join(s.Dir, filepath.FromSlash(rel)) }

// WriteFile replaces the staged file rel with data, breaking any hard link.
func (s *Stage) WriteFile(rel string, data []byte) error {
	dst := s.Path(rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	tmp := dst + ".plugfork-tmp"
	if err := os.WriteFile(tmp, data, 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// WriteGoMod writes the host's go.mod into the stage. The stage lies two
// levels below the root, so local replacements that leave the module
// (../lib) are made absolute there; HostGoMod writes them back as they were.
func (s *Stage) WriteGoMod(data []byte) error {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return err
	}
	changed := false
	for _, r := range f.Replace {
		p := r.New.Path
		if r.New.Version != "" || !modfile.IsDirectoryPath(p) || filepath.IsAbs(p) {
			continue
		}
		abs := filepath.Join(s.Root, filepath.FromSlash(p))
		if rel, err := filepath.Rel(s.Root, abs); err == nil && !strings.HasPrefix(rel, "..") {
			continue // inside the module: the stage has its copy
		}
		if err := f.AddReplace(r.Old.Path, r.Old.Version, abs, ""); err != nil {
			return err
		}
		if s.relRepls == nil {
			s.relRepls = map[string]string{}
		}
		s.relRepls[abs] = p
		changed = true
	}
	if changed {
		if data, err = f.Format(); err != nil {
			return err
		}
	}
	return s.WriteFile("go.mod", data)
}

// HostPath returns the host's form of a replacement directory as the
// stage's go.mod names it: one that WriteGoMod made absolute comes back as
// the host's go.mod writes it; any other path as it is.
func (s *Stage) HostPath(dir string) string {
	if orig, ok := s.relRepls[dir]; ok {
		return orig
	}
	return dir
}

// HostGoMod returns the staged go.mod as the host's: local replacements
// that WriteGoMod made absolute are written as they were.
func (s *Stage) HostGoMod() ([]byte, error) {
	data, err := os.ReadFile(s.Path("go.mod"))
	if err != nil || len(s.relRepls) == 0 {
		return data, err
	}
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	for _, r := range f.Replace {
		if orig, ok := s.relRepls[r.New.Path]; ok && r.New.Version == "" {
			if err := f.AddReplace(r.Old.Path, r.Old.Version, orig, ""); err != nil {
				return nil, err
			}
		}
	}
	return f.Format()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// UnstageVendor rewrites the stage's vendor/modules.txt, made by go mod
// vendor in the stage, as the host's go.mod names its local replacements:
// those WriteGoMod made absolute are written back as they were (the go
// command checks that modules.txt and go.mod agree, string for string).
func (s *Stage) UnstageVendor() error {
	if len(s.relRepls) == 0 {
		return nil
	}
	name := s.Path("vendor/modules.txt")
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "# ") {
			continue
		}
		body, nl := strings.CutSuffix(line, "\n")
		head, repl, ok := strings.Cut(body, " => ")
		if orig, known := s.relRepls[repl]; ok && known {
			lines[i] = head + " => " + orig
			if nl {
				lines[i] += "\n"
			}
		}
	}
	return s.WriteFile("vendor/modules.txt", []byte(strings.Join(lines, "")))
}
