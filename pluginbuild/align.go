package pluginbuild

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/load"
	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// dep is a package the plugin links.
type dep struct {
	ImportPath string
	// Files are its Go files (cgo's among them) and its other files
	// (assembly, C): what build tags choose.
	Files  []string
	Module *packages.Module // nil for the standard library
}

// deps lists the packages pkgs link in the view, with tags, each after
// the packages it imports.
func (v *view) deps(ctx context.Context, pkgs []string, tags string) ([]dep, error) {
	flags := []string{"-overlay=" + v.overlay}
	if tags != "" {
		flags = append(flags, "-tags="+tags)
	}
	r := v.runner()
	loaded, err := load.Packages(ctx, load.Config{Dir: r.Dir, Env: r.Env, BuildFlags: flags},
		load.Name|load.Files|load.Deps|load.Module, pkgs...)
	if err == nil {
		err = load.Errors(loaded)
	}
	if err != nil {
		return nil, v.loadError(err)
	}
	out := make([]dep, 0, len(loaded))
	for _, p := range loaded {
		out = append(out, dep{ImportPath: p.PkgPath, Files: append(slices.Clone(p.GoFiles), p.OtherFiles...), Module: p.Module})
	}
	return out, nil
}

// loadError is the error of the plugin's packages not loading in the view:
// what the go command said, not how plugfork called it, and, when the
// plugin does not require the host module, that --host may name the wrong
// module.
func (v *view) loadError(err error) error {
	var ge *gocmd.Error
	if errors.As(err, &ge) && strings.TrimSpace(ge.Stderr) != "" {
		err = errors.New(strings.TrimSpace(ge.Stderr))
	}
	if !v.plugin.requires(v.host.path) {
		return fmt.Errorf("loading the plugin's packages with the host %s (%s): %w\n"+
			"the plugin's go.mod does not require %s: if --host is not the module the plugin is written against, name that module's directory", v.host.path, v.host.name(), err, v.host.path)
	}
	return fmt.Errorf("loading the plugin's packages with the host %s (%s): %w", v.host.path, v.host.name(), err)
}

// align moves every module that provides a package both the plugin and
// the host link to the host's version, in the view's go.mod, by go get:
// minimal version selection moves what depends on it. It returns what
// moved, sorted by module, and the import path of the plugin's package.
func (b *builder) align(ctx context.Context) ([]Alignment, string, error) {
	linked, versions, err := b.host.links(ctx, b.flags.tags())
	if err != nil {
		return nil, "", err
	}
	if err := b.checkTags(ctx, linked); err != nil {
		return nil, "", err
	}
	moved := map[string]*Alignment{}
	main := ""
	for round := 0; ; round++ {
		deps, err := b.view.deps(ctx, b.pkgs, b.flags.tags())
		if err != nil {
			return nil, "", err
		}
		if len(deps) > 0 {
			main = deps[len(deps)-1].ImportPath // deps lists it last
		}
		off := map[string]*Alignment{}
		for _, d := range deps {
			m := d.Module
			if m == nil || m.Main || !linked[d.ImportPath] || b.host.forked(m.Path) {
				continue // a fork comes from the host's source, at the version it names
			}
			want, ok := versions[m.Path]
			if !ok || want == m.Version {
				continue
			}
			a := off[m.Path]
			if a == nil {
				a = &Alignment{Module: m.Path, From: m.Version, To: want}
				off[m.Path] = a
			}
			a.Packages = append(a.Packages, d.ImportPath)
		}
		if len(off) == 0 {
			break
		}
		if round == 3 {
			return nil, "", fmt.Errorf("cannot align the plugin with the host: %s still at other versions after go get", strings.Join(slices.Sorted(maps.Keys(off)), ", "))
		}
		for path, a := range off {
			if prev := moved[path]; prev != nil {
				a.From = prev.From
			}
			moved[path] = a
		}
		if err := b.view.goGet(ctx, off); err != nil {
			return nil, "", err
		}
	}
	var out []Alignment
	for _, path := range slices.Sorted(maps.Keys(moved)) {
		a := moved[path]
		slices.Sort(a.Packages)
		out = append(out, *a)
	}
	return out, main, nil
}

// checkTags refuses build tags the user gave, beside the host binary's,
// that change the files of a package the plugin shares with the host.
func (b *builder) checkTags(ctx context.Context, linked map[string]bool) error {
	if b.flags.userTags == nil {
		return nil
	}
	files := func(tags string) (map[string]string, error) {
		deps, err := b.view.deps(ctx, b.pkgs, tags)
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, d := range deps {
			if linked[d.ImportPath] {
				out[d.ImportPath] = strings.Join(d.Files, " ")
			}
		}
		return out, nil
	}
	host, err := files(b.flags.tags())
	if err != nil {
		return err
	}
	user, err := files(*b.flags.userTags)
	if err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(host)) {
		if user[p] != host[p] {
			return fmt.Errorf("-tags=%s: it changes the files of %s, which the plugin shares with the host, built with %s: the fingerprints would differ; build with the host's tags", *b.flags.userTags, p, flagText("-tags", b.flags.tags()))
		}
	}
	return nil
}

// goGet moves the modules of off to the host's versions in the view's
// go.mod. It runs go get outside the workspace, on a copy of the view's
// go.mod that reaches the host by a directory replacement with the host's
// own replacements (its forks) beside it: the same build list as the
// workspace's, in a file go get may write.
func (v *view) goGet(ctx context.Context, off map[string]*Alignment) error {
	data, err := os.ReadFile(v.gomod)
	if err != nil {
		return err
	}
	f, err := hostmodel.ParseGoMod(v.gomod, data)
	if err != nil {
		return err
	}
	added := []string{v.host.path}
	if err := f.AddReplace(v.host.path, "", v.host.root, ""); err != nil {
		return err
	}
	for _, r := range v.host.replaces() {
		if slices.Contains(v.hostReplaced, r.Old.Path) {
			if err := f.AddReplace(r.Old.Path, r.Old.Version, r.New.Path, r.New.Version); err != nil {
				return err
			}
			added = append(added, r.Old.Path)
		}
	}
	alignMod := filepath.Join(v.Dir, "align.mod")
	alignSum := filepath.Join(v.Dir, "align.sum")
	if err := writeModFile(alignMod, f); err != nil {
		return err
	}
	// The host's go.sum too: the host's versions are the ones moved to,
	// and their sums are verified already, offline.
	sum, err := os.ReadFile(v.gosum)
	if err != nil {
		return err
	}
	hostSum, err := os.ReadFile(filepath.Join(v.host.root, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.WriteFile(alignSum, mergeSums(sum, hostSum), 0o666); err != nil {
		return err
	}
	args := []string{"get", "-modfile=" + alignMod}
	for _, path := range slices.Sorted(maps.Keys(off)) {
		args = append(args, path+"@"+off[path].To)
	}
	r := gocmd.Runner{Dir: v.plugin.root, Env: gocmd.Setenv(gocmd.WithModFlag(v.env, "mod"), "GOWORK", "off")}
	if _, err := r.Run(ctx, args...); err != nil {
		return fmt.Errorf("aligning the plugin's requirements with the host's versions: %w", err)
	}

	// Back into the view's go.mod, without the replacements added here.
	data, err = os.ReadFile(alignMod)
	if err != nil {
		return err
	}
	aligned, err := hostmodel.ParseGoMod(alignMod, data)
	if err != nil {
		return err
	}
	orig, err := hostmodel.ParseGoMod("go.mod", v.plugin.gomod)
	if err != nil {
		return err
	}
	for _, path := range added {
		aligned.DropReplace(path, "")
		for _, r := range aligned.Replace {
			if r.Old.Path == path {
				aligned.DropReplace(path, r.Old.Version)
			}
		}
	}
	for _, r := range orig.Replace {
		if slices.Contains(added, r.Old.Path) {
			if err := aligned.AddReplace(r.Old.Path, r.Old.Version, r.New.Path, r.New.Version); err != nil {
				return err
			}
		}
	}
	if err := writeModFile(v.gomod, aligned); err != nil {
		return err
	}
	sum, err = os.ReadFile(alignSum)
	if err != nil {
		return err
	}
	return os.WriteFile(v.gosum, sum, 0o666)
}

// mergeSums returns the lines of two go.sum files, each once, sorted.
func mergeSums(a, b []byte) []byte {
	lines := map[string]bool{}
	for _, data := range [][]byte{a, b} {
		for _, l := range strings.Split(string(data), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines[l] = true
			}
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(slices.Sorted(maps.Keys(lines)), "\n") + "\n")
}

func writeModFile(name string, f *modfile.File) error {
	f.Cleanup()
	data, err := f.Format()
	if err != nil {
		return err
	}
	return os.WriteFile(name, data, 0o666)
}

// NeedsNewerError is a plugin that does not build at the host's versions
// of the modules it shares with the host: it needs the newer ones it
// requires. No plugin was written.
type NeedsNewerError struct {
	Modules []Alignment
	Output  string // the go command's errors
	// HostForked says that the host is forked: it shares these modules
	// with plugins on purpose (kept). An unforked host shares every
	// module it links, which forking it ends.
	HostForked bool
}

func (e *NeedsNewerError) Error() string {
	var b strings.Builder
	b.WriteString("the plugin does not build at the host's versions of the modules it shares with the host; no plugin was written:\n")
	for _, m := range e.Modules {
		fmt.Fprintf(&b, "\t%s: the host links %s, the plugin requires %s (it uses %s)\n", m.Module, m.To, m.From, strings.Join(m.Packages, ", "))
	}
	for _, line := range strings.Split(strings.TrimSpace(e.Output), "\n") {
		b.WriteString("\t" + line + "\n")
	}
	var up, down []string
	for _, m := range e.Modules {
		up = append(up, m.Module+"@"+m.From)
		down = append(down, m.Module+"@"+m.To)
	}
	if e.HostForked {
		fmt.Fprintf(&b, "Two ways out: upgrade the host (in the host: go get %s, then plugfork fork, and rebuild it), or lower the plugin's requirements to the host's (in the plugin: go get %s) and use only what those versions have.",
			strings.Join(up, " "), strings.Join(down, " "))
		return b.String()
	}
	fmt.Fprintf(&b, "Three ways out: fork the host (in the host: plugfork fork --prefix PREFIX, and rebuild it), so that it links private copies and the plugin links its own versions, unless the host's API hands the plugin their types (then keep those with --keep); upgrade the host (in the host: go get %s, and rebuild it); or lower the plugin's requirements to the host's (in the plugin: go get %s) and use only what those versions have.",
		strings.Join(up, " "), strings.Join(down, " "))
	return b.String()
}

// build builds the plugin into out in the view. When a build with modules
// aligned fails, a second one without the alignment tells why: if that one
// builds, the plugin needs the newer versions (NeedsNewerError).
func (b *builder) build(ctx context.Context, out string, aligned []Alignment) error {
	err := b.buildTo(ctx, out)
	if err == nil {
		return nil
	}
	var ge *gocmd.Error
	if !errors.As(err, &ge) {
		return err
	}
	if len(aligned) > 0 {
		if probeErr := b.view.unaligned(func() error { return b.buildTo(ctx, out+".probe") }); probeErr == nil {
			os.Remove(out + ".probe")
			return &NeedsNewerError{Modules: aligned, Output: ge.Stderr, HostForked: b.host.lock != nil}
		}
	}
	return &BuildError{Output: ge.Stderr, Hint: b.hint(ge.Stderr)}
}

func (b *builder) buildTo(ctx context.Context, out string) error {
	args := append([]string{"-buildmode=plugin", "-o", out}, b.flags.args()...)
	_, err := b.view.run(ctx, "build", append(args, b.pkgs...)...)
	return err
}

// unaligned runs f with the view's go.mod and go.sum as the plugin's own,
// and puts the aligned ones back after.
func (v *view) unaligned(f func() error) error {
	mod, err := os.ReadFile(v.gomod)
	if err != nil {
		return err
	}
	sum, err := os.ReadFile(v.gosum)
	if err != nil {
		return err
	}
	defer func() {
		os.WriteFile(v.gomod, mod, 0o666)
		os.WriteFile(v.gosum, sum, 0o666)
	}()
	if err := os.WriteFile(v.gomod, v.plugin.gomod, 0o666); err != nil {
		return err
	}
	return f()
}

// forkedTypeRE matches the compiler's words for a value of one package's
// type used as another's, where the other is a fork: the package paths.
var forkedTypeRE = regexp.MustCompile(`cannot use .* "([^"]+)"\.\w+\) as "([^"]+)"\.\w+ value`)

// hint explains a build failure that plugfork can explain: a plugin that
// hands the host its own copy of a type the host's API takes from a fork.
func (b *builder) hint(stderr string) string {
	if b.host.lock == nil {
		return ""
	}
	for _, m := range forkedTypeRE.FindAllStringSubmatch(stderr, -1) {
		own, forked := m[1], m[2]
		if b.host.forked(forked) && strings.TrimPrefix(forked, b.host.lock.Prefix+"/") == own {
			return fmt.Sprintf("the host's API takes %s's types from its fork %s, and the plugin passes its own %s: a forked type cannot cross the host/plugin boundary. Keep %s shared in the host (plugfork fork --keep %s), or build the plugin's values with the host's API", own, forked, own, own, own)
		}
	}
	return ""
}

// BuildError is a plugin that does not build.
type BuildError struct {
	Output string // the go command's errors
	Hint   string // what plugfork can tell of the cause, if anything
}

func (e *BuildError) Error() string {
	msg := "building the plugin:\n\t" + strings.ReplaceAll(strings.TrimSpace(e.Output), "\n", "\n\t")
	if e.Hint != "" {
		msg += "\n" + e.Hint
	}
	return msg
}
