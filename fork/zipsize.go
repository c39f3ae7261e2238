package fork

import (
	"cmp"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/swap"
	"golang.org/x/mod/zip"
)

// ZipLimitError is a host whose inline forks would make its module zip
// larger than a module zip may be: nothing was written.
type ZipLimitError struct {
	Bytes     int64        // the host module's files with the forks, unzipped
	HostBytes int64        // of those, the host's own
	Limit     int64        // the module zip limit
	Largest   []ModuleSize // the forks' largest modules
	// Scoped are the largest modules only builds with a constraint reach,
	// each with that constraint: what --platform and --tags can leave out.
	Scoped []ScopedModule
	Scope  Scope // the scope of the run
}

// ScopedModule is a forked module that only some builds reach.
type ScopedModule struct {
	Module     string
	Bytes      int64
	Constraint string // of the file on the way that imports it: "x_bento_extra", "windows"
	File       string // that file, as "package/file.go"
}

func (e *ZipLimitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the inline forks would make the host's module zip %s (%s of it the host's own files), over the %s a module zip may hold (the go command and module proxies refuse it); nothing was written",
		FormatSize(e.Bytes), FormatSize(e.HostBytes), FormatSize(e.Limit))
	var largest []string
	for _, m := range e.Largest {
		largest = append(largest, m.Module+" "+FormatSize(m.Bytes))
	}
	b.WriteString("\n\tlargest forks: " + strings.Join(largest, ", "))
	fits := e.Bytes
	for _, m := range e.Scoped {
		fits -= m.Bytes
		fmt.Fprintf(&b, "\n\tonly builds with %s reach %s (%s, from %s): --platform or --tags can leave it out", m.Constraint, m.Module, FormatSize(m.Bytes), m.File)
	}
	switch {
	case len(e.Scoped) > 0 && fits <= e.Limit:
		fmt.Fprintf(&b, "\n\tscoped to the builds the host makes (--platform GOOS/ARCH, --tags the tags it builds with; the scope now: %s), the zip would hold at most %s", e.Scope, FormatSize(fits))
	case len(e.Scope.Platforms) == 0:
		b.WriteString("\n\tscope the forks to the builds the host makes (--platform GOOS/ARCH, --tags as it builds), or keep the largest modules shared (--keep)")
	default:
		b.WriteString("\n\tkeep the largest modules shared (--keep), or fork with --layout modules (its forks do not travel in the host's module zip)")
	}
	return b.String()
}

// checkZipSize refuses inline forks that would make the host module's zip
// larger than limit (0: the go command's, zip.MaxZipFile), zipped or
// unzipped: the host's own files (outside the fork dir, as a module zip
// takes them) and the forks' files, as the plan lists them. The unzipped
// size bounds the zipped one but for a zip's headers. It refuses as well
// forks' files a module zip does not take (zip.CheckFiles: names, files
// whose names differ only in case).
func checkZipSize(root string, p *plan, set settings, limit int64) error {
	if !set.inline() {
		return nil
	}
	if limit <= 0 {
		limit = zip.MaxZipFile
	}
	files, host, err := hostZipFiles(root, set.Dir)
	if err != nil {
		return err
	}
	total := host
	var mods []ModuleSize
	for i := range p.forks {
		fp := &p.forks[i]
		m := ModuleSize{Module: fp.Mod.Path, Files: len(fp.Files)}
		for _, rel := range fp.Files {
			src := filepath.Join(fp.Mod.Dir, filepath.FromSlash(rel))
			fi, err := os.Stat(src)
			if err != nil {
				return err
			}
			m.Bytes += fi.Size()
			files = append(files, zipFile{path.Join(fp.ForkDir, rel), src})
		}
		total += m.Bytes
		mods = append(mods, m)
	}
	if total <= limit {
		return zipInvalid(files, set.Dir)
	}
	slices.SortStableFunc(mods, func(a, b ModuleSize) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Module, b.Module))
	})
	e := &ZipLimitError{Bytes: total, HostBytes: host, Limit: limit, Largest: mods[:min(largestN, len(mods))],
		Scope: Scope{Platforms: set.Scope.Platforms, Tags: set.Scope.Tags}}
	for _, m := range e.Largest {
		i := slices.IndexFunc(p.forks, func(fp forkPlan) bool { return fp.Mod.Path == m.Module })
		for _, pkg := range p.forks[i].Pkgs {
			chain := p.closure.ReachedFrom(pkg.Path)
			if j := constrained(chain); j >= 0 {
				e.Scoped = append(e.Scoped, ScopedModule{Module: m.Module, Bytes: m.Bytes, Constraint: chain[j].Constraint, File: path.Join(chain[j].Package, chain[j].File)})
				break
			}
		}
	}
	return e
}

// zipFile is a file of the host's module zip, as zip.CheckFiles takes it:
// its path in the zip, and where it is read from.
type zipFile struct{ path, src string }

func (f zipFile) Path() string                 { return f.path }
func (f zipFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.src) }
func (f zipFile) Open() (io.ReadCloser, error) { return os.Open(f.src) }

// hostZipFiles returns the host's own files that its module zip would hold
// (see zip.CreateFromDir), and their bytes: every regular file below root
// but the fork dir, plugfork's work dir, version-control directories,
// vendor directories and nested modules.
func hostZipFiles(root, forkDir string) ([]zip.File, int64, error) {
	var files []zip.File
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel == ".":
			case rel == forkDir, rel == swap.WorkDir, d.Name() == "vendor",
				slices.Contains([]string{".git", ".hg", ".svn", ".bzr"}, d.Name()), modtree.IsModuleRoot(p):
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
			files = append(files, zipFile{rel, p})
		}
		return nil
	})
	return files, n, err
}

// zipInvalid returns an error naming the forks' files that a module zip
// of the host would refuse (a name it takes for no file, one colliding
// with another but for case), nil when there are none.
func zipInvalid(files []zip.File, forkDir string) error {
	cf, _ := zip.CheckFiles(files)
	var bad []string
	for _, fe := range cf.Invalid {
		if strings.HasPrefix(fe.Path, forkDir+"/") {
			bad = append(bad, fe.Path+": "+fe.Err.Error())
		}
	}
	if len(bad) == 0 {
		return nil
	}
	more := ""
	if len(bad) > 5 {
		more = fmt.Sprintf("\n\t... and %d more", len(bad)-5)
		bad = bad[:5]
	}
	return fmt.Errorf("the host's module zip would not take the inline forks' files (the go command and module proxies refuse it); nothing was written:\n\t%s%s\n\tfork with --layout modules, or keep the modules shared (--keep)", strings.Join(bad, "\n\t"), more)
}
