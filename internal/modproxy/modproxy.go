// Package modproxy turns fixture modules written as txtar archives into a
// module proxy tree that the go command reads through GOPROXY=file://...
//
// An archive is named after its module path and version as in the go
// command's own test data: the escaped module path with "/" replaced by "_",
// then "_", then the version, then ".txt" (github.com/BurntSushi/toml v1.0.0
// is github.com_!burnt!sushi_toml_v1.0.0.txt). Its files are the module's
// files; two special files are not part of the zip: ".mod", the go.mod the
// proxy serves (default: the archive's go.mod, or "module path" for a module
// without one), and ".info" (default: the version with a zero time).
package modproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

// ParseName returns the module path and version an archive's file name names.
func ParseName(name string) (module.Version, error) {
	base := strings.TrimSuffix(filepath.Base(name), ".txt")
	i := strings.LastIndex(base, "_v")
	if i < 0 {
		return module.Version{}, fmt.Errorf("%s: file name has no _vVERSION suffix", name)
	}
	path, err := module.UnescapePath(strings.ReplaceAll(base[:i], "_", "/"))
	if err != nil {
		return module.Version{}, fmt.Errorf("%s: %w", name, err)
	}
	vers, err := module.UnescapeVersion(base[i+1:])
	if err != nil {
		return module.Version{}, fmt.Errorf("%s: %w", name, err)
	}
	if !semver.IsValid(vers) {
		return module.Version{}, fmt.Errorf("%s: invalid version %q", name, vers)
	}
	return module.Version{Path: path, Version: vers}, nil
}

// Build writes the proxy tree for every *.txt archive in srcDir into dstDir.
func Build(srcDir, dstDir string) error {
	names, err := filepath.Glob(filepath.Join(srcDir, "*.txt"))
	if err != nil {
		return err
	}
	versions := map[string][]string{}
	for _, name := range names {
		mv, err := ParseName(name)
		if err != nil {
			return err
		}
		ar, err := txtar.ParseFile(name)
		if err != nil {
			return err
		}
		if err := writeVersion(dstDir, mv, ar); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		versions[mv.Path] = append(versions[mv.Path], mv.Version)
	}
	for path, vs := range versions {
		semver.Sort(vs)
		dir, err := versionDir(dstDir, path)
		if err != nil {
			return err
		}
		list := strings.Join(vs, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, "list"), []byte(list), 0o666); err != nil {
			return err
		}
	}
	return nil
}

// URL returns the GOPROXY value that serves the tree in dir.
func URL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

func versionDir(root, path string) (string, error) {
	esc, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, filepath.FromSlash(esc), "@v")
	return dir, os.MkdirAll(dir, 0o777)
}

func writeVersion(root string, mv module.Version, ar *txtar.Archive) error {
	dir, err := versionDir(root, mv.Path)
	if err != nil {
		return err
	}
	escVers, err := module.EscapeVersion(mv.Version)
	if err != nil {
		return err
	}
	var mod, info []byte
	var files []modzip.File
	for _, f := range ar.Files {
		switch f.Name {
		case ".mod":
			mod = f.Data
		case ".info":
			info = f.Data
		default:
			files = append(files, memFile{f.Name, f.Data})
			if f.Name == "go.mod" && mod == nil {
				mod = f.Data
			}
		}
	}
	if mod == nil {
		mod = []byte("module " + mv.Path + "\n")
	}
	if info == nil {
		info, _ = json.Marshal(struct{ Version, Time string }{mv.Version, "1970-01-01T00:00:00Z"})
	}
	slices.SortFunc(files, func(a, b modzip.File) int { return strings.Compare(a.Path(), b.Path()) })
	var zip bytes.Buffer
	if err := modzip.Create(&zip, mv, files); err != nil {
		return err
	}
	base := filepath.Join(dir, escVers)
	for ext, data := range map[string][]byte{".mod": mod, ".info": info, ".zip": zip.Bytes()} {
		if err := os.WriteFile(base+ext, data, 0o666); err != nil {
			return err
		}
	}
	return nil
}

// memFile is a module file held in memory, for modzip.Create.
type memFile struct {
	path string
	data []byte
}

func (f memFile) Path() string                 { return f.path }
func (f memFile) Lstat() (os.FileInfo, error)  { return memInfo(f), nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type memInfo memFile

func (i memInfo) Name() string       { return filepath.Base(i.path) }
func (i memInfo) Size() int64        { return int64(len(i.data)) }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
