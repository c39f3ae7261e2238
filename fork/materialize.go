package fork

import (
	"fmt"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/rewrite"
	"golang.org/x/mod/modfile"
)

// materialized is what materialize made in the stage.
type materialized struct {
	forks        []forkOutput // one per plan.forks
	hostFiles    []string     // host files whose imports name forks
	rewritten    []string     // of those, the ones that differ from the host's: what this run changes
	hostFindings []Finding    // what the rewrite of the host found
	gomod        []byte       // the host's go.mod, wired to the forks
	unignored    bool         // inline forks that ./... matches: the go line takes no ignore directive
}

// forkOutput is one fork as written.
type forkOutput struct {
	files    int
	bytes    int64
	largest  []sizedFile // its largest files, and every one over warnBytes
	treeHash string
	findings []Finding
	// registrations are the fixed names the fork's packages register in
	// process-wide registries at init.
	registrations []hazard.Registration
}

// materialize writes the plan into the stage: the forks (their files
// copied and rewritten, their go.mod and marker), the host's files
// rewritten, and the host's go.mod wired to the forks.
func materialize(st *swap.Stage, p *plan, set settings, progress func(string, ...any)) (*materialized, error) {
	forks, err := writeForks(st, p, set, func(done, total int) {
		progress("copied and rewritten %d/%d files", done, total)
	})
	if err != nil {
		return nil, err
	}
	m := &materialized{forks: forks}
	if m.hostFiles, m.hostFindings, err = rewriteHost(st, set.Dir, p.mapping); err != nil {
		return nil, err
	}
	// The stage's host files are rewritten from the upstream view: those
	// this run changes are those that differ from the host's.
	if m.rewritten, err = changedHostFiles(st, st.Root, set.Dir); err != nil {
		return nil, err
	}
	if m.gomod, m.unignored, err = wireGoMod(p.gomod, p.forks, p.stillNeeded, set); err != nil {
		return nil, err
	}
	if err := st.WriteGoMod(m.gomod); err != nil {
		return nil, err
	}
	return m, nil
}

// fileResult is what copying one file of a fork produced.
type fileResult struct {
	sum           string
	size          int64
	findings      []Finding
	registrations []hazard.Registration
}

// copyFile copies the file rel of fork fp into the stage, rewritten when it
// is Go or assembly source. names are the names of fp's packages, by
// directory relative to the module root.
func copyFile(st *swap.Stage, fp *forkPlan, rel string, names map[string]string, m *rewrite.Mapping) (fileResult, error) {
	src, err := os.ReadFile(filepath.Join(fp.Mod.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return fileResult{}, err
	}
	var r fileResult
	out := src
	if kind, ok := rewrite.Kind(rel); ok {
		display := path.Join(fp.ForkDir, rel)
		if kind == "go" && fp.PinVersion {
			// First, so that what is found in the file is where the
			// fork has it.
			if src, err = withFileVersion(src); err != nil {
				return fileResult{}, fmt.Errorf("%s@%s: %s: %w", fp.Mod.Path, fp.Mod.Version, rel, err)
			}
		}
		res, err := rewrite.File(display, kind, src, m, true)
		if err != nil {
			return fileResult{}, fmt.Errorf("rewriting %s@%s: %w", fp.Mod.Path, fp.Mod.Version, err)
		}
		out = res.Src
		r.findings = findings(rel, src, res.Findings)
		if name, ok := names[path.Dir(rel)]; ok && kind == "go" && linkable(rel, src) {
			pkg := fp.Mod.Path
			if dir := path.Dir(rel); dir != "." {
				pkg += "/" + dir
			}
			r.registrations = hazard.Scan(token.NewFileSet(), pkg, name, display, src)
		}
	}
	name := st.Path(path.Join(fp.ForkDir, rel))
	if err := os.MkdirAll(filepath.Dir(name), 0o777); err != nil {
		return fileResult{}, err
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		return fileResult{}, err
	}
	r.sum, r.size = lockfile.FileSum(out), int64(len(out))
	return r, nil
}

// linkable reports whether the Go file rel, with source src, of a package
// the host imports may be linked into a host that loads plugins: not a
// test, and built on some platform that has plugins. A file built only for
// windows (or only with "ignore") is never in such a host, so what it
// registers cannot collide there. A file built only with a tag of its own
// (//go:build tools) may be, since a host may build with the tag: what
// decides for it is its package (Scan).
func linkable(rel string, src []byte) bool {
	return !strings.HasSuffix(rel, "_test.go") && closure.BuildsForPlugins(rel, src)
}

// packageNames returns the names of fp's packages by directory relative to
// the module root ("." for the root): the packages the host imports. A
// directory of a whole-module fork that the host does not import is not
// linked, and is left out.
func packageNames(fp *forkPlan) map[string]string {
	names := map[string]string{}
	for _, p := range fp.Pkgs {
		dir := p.Rel
		if dir == "" {
			dir = "."
		}
		names[dir] = p.Name
	}
	return names
}

// writeForks writes the forks: one pool of workers over all their files (a
// closure is dominated by a few large modules, so a worker per module
// would leave cores idle), then each fork's go.mod and marker. Results land
// in per-file slots, so the output does not depend on timing.
func writeForks(st *swap.Stage, p *plan, set settings, progress func(done, total int)) ([]forkOutput, error) {
	type item struct {
		fp    *forkPlan
		rel   string
		names map[string]string
		slot  *fileResult
	}
	results := make([][]fileResult, len(p.forks))
	var items []item
	for i := range p.forks {
		fp := &p.forks[i]
		results[i] = make([]fileResult, len(fp.Files))
		names := packageNames(fp)
		for j, rel := range fp.Files {
			items = append(items, item{fp, rel, names, &results[i][j]})
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
		wg.Go(func() {
			for it := range work {
				r, err := copyFile(st, it.fp, it.rel, it.names, p.mapping)
				*it.slot = r
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				done++
				if done%500 == 0 || done == len(items) {
					progress(done, len(items))
				}
				mu.Unlock()
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errs[0]
	}
	out := make([]forkOutput, len(p.forks))
	// A forked protobuf runtime has its own registry: generated packages
	// forked with it register there, beside nobody's.
	_, protoForked := p.closure.Forked[hazard.ProtoRegistry]
	for i := range p.forks {
		var err error
		if out[i], err = finishFork(st, set, &p.forks[i], p.mapping, results[i]); err != nil {
			return nil, err
		}
		if protoForked {
			out[i].registrations = slices.DeleteFunc(out[i].registrations, func(r hazard.Registration) bool { return r.Registry == hazard.Protobuf })
		}
	}
	return out, nil
}

// finishFork writes the fork's marker, and its go.mod unless it is inline,
// once its files are copied, and computes its tree hash.
func finishFork(st *swap.Stage, set settings, fp *forkPlan, m *rewrite.Mapping, results []fileResult) (forkOutput, error) {
	var out forkOutput
	sums := map[string]string{}
	for i, rel := range fp.Files {
		r := results[i]
		sums[rel] = r.sum
		out.files++
		out.bytes += r.size
		out.largest = addLargest(out.largest, sizedFile{rel: rel, size: r.size})
		out.findings = append(out.findings, r.findings...)
		out.registrations = append(out.registrations, r.registrations...)
	}
	out.registrations = withKnown(fp, out.registrations)
	dst := st.Path(fp.ForkDir)
	if err := os.MkdirAll(dst, 0o777); err != nil {
		return forkOutput{}, err
	}
	if !set.inline() { // an inline fork is packages of the host module: no go.mod
		gomod, err := forkGoMod(fp, m)
		if err != nil {
			return forkOutput{}, err
		}
		if err := os.WriteFile(filepath.Join(dst, "go.mod"), gomod, 0o644); err != nil {
			return forkOutput{}, err
		}
		sums["go.mod"] = lockfile.FileSum(gomod)
	}
	marker := (&lockfile.Marker{
		Path: fp.Mod.Path, Version: fp.Mod.Version, LocalDir: fp.Mod.LocalDir(), Sum: fp.Mod.Sum,
		ForkPath: fp.ForkPath, Packages: len(fp.Pkgs), Files: sums,
	})
	if !marker.LocalDir {
		marker.Replace = fp.Replace
	}
	data := marker.Format()
	if err := os.WriteFile(filepath.Join(dst, MarkerFile), data, 0o644); err != nil {
		return forkOutput{}, err
	}
	// The tree hash from the bytes written, not from the directory: a fork
	// nested in this one (example.com/nest/sub) is written concurrently,
	// and its files appear before the go.mod that makes TreeHash skip them.
	out.treeHash = lockfile.SumsHash(sums, MarkerFile, lockfile.FileSum(data))
	return out, nil
}

// withKnown returns the registrations found in the fork's sources, with
// those of the packages hazard knows taken from its table instead (it
// knows which registration is the one a second copy panics at: pgx's
// stdlib skips "pgx" when it is taken and then registers "pgx/v5"),
// where in the source they are kept.
func withKnown(fp *forkPlan, found []hazard.Registration) []hazard.Registration {
	var out []hazard.Registration
	for _, p := range fp.Pkgs {
		known := hazard.Lookup(p.Path)
		if len(known) == 0 {
			continue
		}
		for _, k := range known {
			for _, f := range found {
				if f.Package == k.Package && f.Registry == k.Registry && f.Name == k.Name {
					k.Pos, k.Call = f.Pos, f.Call
					break
				}
			}
			out = append(out, k)
		}
	}
	for _, f := range found {
		if len(hazard.Lookup(f.Package)) == 0 {
			out = append(out, f)
		}
	}
	return out
}

// forkGoMod returns the fork's go.mod: the upstream one rewritten (its go
// directive kept), or, for a module without a go.mod or a go directive, the
// go 1.16 the go command assumes for it.
func forkGoMod(fp *forkPlan, m *rewrite.Mapping) ([]byte, error) {
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
	changed := false
	if f.Module == nil || f.Module.Mod.Path != fp.ForkPath {
		// A replacement by another module path: the fork is still the
		// fork of the path the host imports.
		if err := f.AddModuleStmt(fp.ForkPath); err != nil {
			return nil, err
		}
		changed = true
	}
	if f.Go == nil {
		if err := f.AddGoStmt("1.16"); err != nil {
			return nil, err
		}
		changed = true
	}
	if changed {
		return f.Format()
	}
	return res.Src, nil
}
