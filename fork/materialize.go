package fork

import (
	"fmt"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/modfile"
)

// MarkerFile is the file in each fork that says where it came from.
const MarkerFile = "PLUGFORK.txt"

// metaPrefixes are the names of files that go mod vendor copies from a
// package's directory and its parents up to the module root: licences and
// notices must travel with the code.
var metaPrefixes = []string{"AUTHORS", "CONTRIBUTORS", "COPYLEFT", "COPYING", "COPYRIGHT", "LEGAL", "LICENSE", "LICENCE", "NOTICE", "PATENTS"}

func isMetaFile(name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range metaPrefixes {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}

// forkPlan is one module to materialize.
type forkPlan struct {
	Mod      *modInfo
	Pkgs     []*pkgInfo
	ForkPath string
	ForkDir  string // relative to the host root, slash-separated
	Require  string
	TreeHash string
	Files    int
	Bytes    int64
	Findings []rewrite.Finding
	Hazards  []Hazard
	sums     map[string]string // file -> hex SHA-256, for the marker's manifest
}

// fileSet returns the files of the fork, relative to the module root,
// slash-separated and sorted: the files go mod vendor keeps for the
// closure's packages (tests with --tests), embedded files, cgo include
// directories, and licence files.
func (fp *forkPlan) fileSet(tests, whole bool) ([]string, error) {
	root := fp.Mod.Dir
	set := map[string]bool{}
	addTree := func(rel string, all bool) error {
		return filepath.WalkDir(filepath.Join(root, filepath.FromSlash(rel)), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(root, p)
			r = filepath.ToSlash(r)
			if d.IsDir() {
				if r != rel && !all && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
					return filepath.SkipDir
				}
				if r != "." && r != rel {
					if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
						return filepath.SkipDir // a nested module
					}
				}
				return nil
			}
			if d.Type().IsRegular() && (all || !strings.HasPrefix(d.Name(), ".") && !strings.HasPrefix(d.Name(), "_")) {
				set[r] = true
			}
			return nil
		})
	}
	if whole {
		if err := addTree(".", true); err != nil {
			return nil, err
		}
		delete(set, "go.mod")
		delete(set, "go.sum")
		if !tests {
			// _test.go files only with --tests, whose closure forks their
			// imports: go mod tidy loads the tests of forked packages, and
			// their imports outside the closure would pull upstream
			// modules back in. (testdata stays: code may embed it.)
			for name := range set {
				if strings.HasSuffix(name, "_test.go") {
					delete(set, name)
				}
			}
		}
		return sortedKeys(set), nil
	}
	inside := func(rel string) (string, bool) {
		rel = path.Clean(rel)
		return rel, rel != ".." && !strings.HasPrefix(rel, "../") && !path.IsAbs(rel)
	}
	for _, p := range fp.Pkgs {
		kept := map[string]bool{}
		for _, f := range p.Files {
			kept[f] = true
		}
		ents, err := os.ReadDir(p.Dir)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			name := e.Name()
			if !e.Type().IsRegular() || name == "go.mod" || name == "go.sum" {
				continue
			}
			if strings.HasSuffix(name, ".go") && !kept[name] {
				continue // a test, or constrained to "ignore"
			}
			set[path.Join(p.Rel, name)] = true
		}
		for _, pat := range p.Embeds {
			all := strings.HasPrefix(pat, "all:")
			pat = strings.TrimPrefix(pat, "all:")
			matches, _ := filepath.Glob(filepath.Join(p.Dir, filepath.FromSlash(pat)))
			for _, m := range matches {
				r, _ := filepath.Rel(root, m)
				if err := addTree(filepath.ToSlash(r), all); err != nil {
					return nil, err
				}
			}
		}
		for _, inc := range p.CgoInc {
			rel, ok := inside(path.Join(p.Rel, inc))
			if !ok {
				continue
			}
			abs := filepath.Join(root, filepath.FromSlash(rel))
			fi, err := os.Stat(abs)
			if err != nil {
				continue // a system header, or generated at build time
			}
			if !fi.IsDir() {
				rel = path.Dir(rel) // the header's directory: headers include their neighbours
			}
			if rel != p.Rel && rel != "." {
				if err := addTree(rel, false); err != nil {
					return nil, err
				}
			}
		}
		if tests {
			if fi, err := os.Stat(filepath.Join(p.Dir, "testdata")); err == nil && fi.IsDir() {
				if err := addTree(path.Join(p.Rel, "testdata"), true); err != nil {
					return nil, err
				}
			}
		}
		// Licence files of the package's directory and its parents.
		for dir := p.Rel; ; dir = path.Dir(dir) {
			if dir == "" {
				dir = "."
			}
			ents, _ := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
			for _, e := range ents {
				if e.Type().IsRegular() && isMetaFile(e.Name()) {
					set[path.Join(dir, e.Name())] = true
				}
			}
			if dir == "." {
				break
			}
		}
	}
	delete(set, "go.mod")
	return sortedKeys(set), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rewritable reports whether a file of a fork is source that the rewrite
// applies to: Go and assembly files outside testdata and ignored dirs.
func rewritable(rel string) (kind string, ok bool) {
	for _, elem := range strings.Split(path.Dir(rel), "/") {
		if elem == "testdata" || strings.HasPrefix(elem, "_") || (strings.HasPrefix(elem, ".") && elem != ".") {
			return "", false
		}
	}
	switch path.Ext(rel) {
	case ".go":
		return "go", true
	case ".s":
		return "asm", true
	}
	return "", false
}

// rewriteFile applies the mapping to one file's bytes. Module sources,
// compiled upstream, need only their headers parsed (rewrite.GoFast); the
// host's own files get the full parse, so their syntax errors are reported.
func rewriteFile(display, kind string, src []byte, m *rewrite.Mapping, moduleSource bool) (rewrite.Result, error) {
	switch {
	case kind == "go" && moduleSource:
		return rewrite.GoFast(display, src, m)
	case kind == "go":
		return rewrite.Go(display, src, m)
	case kind == "asm":
		return rewrite.Asm(display, src, m)
	}
	return rewrite.Result{Src: src}, nil
}

// fileResult is what copying one file of a fork produced.
type fileResult struct {
	sum      string
	size     int64
	findings []rewrite.Finding
	hazards  []Hazard
}

// copyFile copies one file of the fork into the stage, rewritten when it is
// Go or assembly source.
func (fp *forkPlan) copyFile(dst, rel string, m *rewrite.Mapping) (fileResult, error) {
	src, err := os.ReadFile(filepath.Join(fp.Mod.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return fileResult{}, err
	}
	var r fileResult
	out := src
	if kind, ok := rewritable(rel); ok {
		display := path.Join(fp.ForkDir, rel)
		res, err := rewriteFile(display, kind, src, m, true)
		if err != nil {
			return fileResult{}, fmt.Errorf("rewriting %s@%s: %w", fp.Mod.Path, fp.Mod.Version, err)
		}
		out = res.Src
		r.findings = res.Findings
		if kind == "go" && !strings.HasSuffix(rel, "_test.go") {
			r.hazards = hazards(token.NewFileSet(), fp.Mod.Path, display, src)
		}
	}
	name := filepath.Join(dst, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		return fileResult{}, err
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		return fileResult{}, err
	}
	r.sum, r.size = fileSum(out), int64(len(out))
	return r, nil
}

// finish writes the fork's go.mod and marker once its files are copied, and
// computes its tree hash.
func (fp *forkPlan) finish(st *stage, m *rewrite.Mapping, files []string, results []fileResult) error {
	dst := st.path(fp.ForkDir)
	fp.sums = map[string]string{}
	for i, rel := range files {
		r := results[i]
		fp.sums[rel] = r.sum
		fp.Files++
		fp.Bytes += r.size
		fp.Findings = append(fp.Findings, r.findings...)
		fp.Hazards = append(fp.Hazards, r.hazards...)
	}
	gomod, err := fp.goMod(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o777); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dst, "go.mod"), gomod, 0o644); err != nil {
		return err
	}
	fp.sums["go.mod"] = fileSum(gomod)
	marker := fp.marker()
	if err := os.WriteFile(filepath.Join(dst, MarkerFile), marker, 0o644); err != nil {
		return err
	}
	// The tree hash from the bytes written, not from the directory: a fork
	// nested in this one (example.com/nest/sub) is written concurrently,
	// and its files appear before the go.mod that makes TreeHash skip them.
	fp.TreeHash = sumsHash(fp.sums, MarkerFile, fileSum(marker))
	return nil
}

// goMod returns the fork's go.mod: the upstream one rewritten (its go
// directive kept), or, for a module without one, the go 1.16 the go command
// assumes for it.
func (fp *forkPlan) goMod(m *rewrite.Mapping) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(fp.Mod.Dir, "go.mod"))
	if os.IsNotExist(err) {
		return []byte("module " + fp.ForkPath + "\n\ngo 1.16\n"), nil
	}
	if err != nil {
		return nil, err
	}
	res, err := rewrite.GoMod(path.Join(fp.ForkDir, "go.mod"), data, m)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", fp.Mod.Path, fp.Mod.Version, err)
	}
	f, err := modfile.Parse("go.mod", res.Src, nil)
	if err != nil {
		return nil, err
	}
	if f.Module == nil || f.Module.Mod.Path != fp.ForkPath {
		// A replacement by another module path: the fork is still the
		// fork of the path the host imports.
		if err := f.AddModuleStmt(fp.ForkPath); err != nil {
			return nil, err
		}
		return f.Format()
	}
	return res.Src, nil
}

func (fp *forkPlan) marker() []byte {
	var b strings.Builder
	b.WriteString("This directory is generated by plugfork. Do not edit it: edits are reported\n")
	b.WriteString("by plugfork check and lost on the next plugfork fork.\n\n")
	fmt.Fprintf(&b, "upstream %s@%s\n", fp.Mod.Path, fp.Mod.Version)
	if r := fp.Mod.replaceString(); r != "" && !fp.Mod.localDir() {
		fmt.Fprintf(&b, "replaced %s\n", r)
	} else if fp.Mod.localDir() {
		b.WriteString("replaced by a local directory\n")
	}
	fmt.Fprintf(&b, "sum      %s\n", fp.Mod.Sum)
	fmt.Fprintf(&b, "fork     %s\n", fp.ForkPath)
	fmt.Fprintf(&b, "packages %d\n", len(fp.Pkgs))
	b.WriteString("\nfiles (SHA-256):\n")
	for _, name := range sortedKeys(fp.sums) {
		fmt.Fprintf(&b, "%s  %s\n", fp.sums[name], name)
	}
	return []byte(b.String())
}

// materializeAll materializes the forks: one pool of workers over all
// their files (a closure is dominated by a few large modules, so a worker
// per module would leave cores idle), then each fork's go.mod and marker.
// Results land in per-file slots, so the output does not depend on timing.
func materializeAll(st *stage, plans []*forkPlan, m *rewrite.Mapping, tests, whole bool, progress func(done, total int)) error {
	type item struct {
		fp   *forkPlan
		rel  string
		slot *fileResult
	}
	files := make([][]string, len(plans))
	results := make([][]fileResult, len(plans))
	var items []item
	for i, fp := range plans {
		var err error
		if files[i], err = fp.fileSet(tests, whole); err != nil {
			return fmt.Errorf("%s: listing files: %w", fp.Mod.Path, err)
		}
		results[i] = make([]fileResult, len(files[i]))
		for j, rel := range files[i] {
			items = append(items, item{fp, rel, &results[i][j]})
		}
	}
	var (
		mu   sync.Mutex
		errs []error
		done int
		wg   sync.WaitGroup
	)
	work := make(chan item, 64)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				r, err := it.fp.copyFile(st.path(it.fp.ForkDir), it.rel, m)
				*it.slot = r
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				done++
				if progress != nil && (done%500 == 0 || done == len(items)) {
					progress(done, len(items))
				}
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return errs[0]
	}
	for i, fp := range plans {
		if err := fp.finish(st, m, files[i], results[i]); err != nil {
			return err
		}
	}
	return nil
}
