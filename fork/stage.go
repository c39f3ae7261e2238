package fork

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// stage is a private copy of the host module in which plugfork builds the
// forked state before anything in the host changes. Unchanged files are
// hard links to the host's (so a stage of a large host costs nothing);
// a changed file is written as a new file and renamed over its link, never
// written through it.
type stage struct {
	Root     string // the host's root
	Dir      string // the stage's root, inside Root/.plugfork
	ForkDir  string // fork dir relative to Root, slash-separated
	relRepls map[string]string
}

// goWrites are the files the go command may write in place in a module.
var goWrites = map[string]bool{"go.mod": true, "go.sum": true, "go.work.sum": true}

// newStage copies the host into a fresh stage, leaving out version control,
// plugfork's own work dir, the fork dir and vendor (both regenerated).
func newStage(root, forkDir string) (*stage, error) {
	s := &stage{Root: root, Dir: filepath.Join(root, workDir, "stage"), ForkDir: forkDir}
	if err := os.RemoveAll(s.Dir); err != nil {
		return nil, err
	}
	skip := map[string]bool{
		".git": true, workDir: true, "vendor": true,
		filepath.FromSlash(forkDir): true,
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return os.MkdirAll(s.Dir, 0o777)
		}
		if skip[rel] {
			return filepath.SkipDir
		}
		dst := filepath.Join(s.Dir, rel)
		switch {
		case d.IsDir():
			return os.Mkdir(dst, 0o777)
		case d.Type().IsRegular():
			// The go command rewrites go.mod and go.sum in place: a
			// hard link would let it write through into the host.
			if goWrites[rel] {
				return copyFile(path, dst)
			}
			if err := os.Link(path, dst); err != nil {
				return copyFile(path, dst)
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
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

// path returns the stage path of a slash-separated path relative to the root.
func (s *stage) path(rel string) string { return filepath.Join(s.Dir, filepath.FromSlash(rel)) }

// writeFile replaces the staged file rel with data, breaking any hard link.
func (s *stage) writeFile(rel string, data []byte) error {
	dst := s.path(rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	tmp := dst + ".plugfork-tmp"
	if err := os.WriteFile(tmp, data, 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// writeGoMod writes the host's go.mod into the stage. The stage lies two
// levels below the root, so local replacements that leave the module
// (../lib) are made absolute there; the host's own go.mod keeps them as
// written.
func (s *stage) writeGoMod(data []byte) error {
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
	return s.writeFile("go.mod", data)
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

// unstageGoMod returns the staged go.mod as the host's: local replacements
// that writeGoMod made absolute are written as they were.
func (s *stage) unstageGoMod() ([]byte, error) {
	data, err := os.ReadFile(s.path("go.mod"))
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
