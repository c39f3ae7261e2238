// Package pluginbuild builds Go plugins against a host, for the teams that
// write them: in a temporary workspace view that compiles the host's own
// packages from the host's source and sees its forks, with every module the
// plugin shares with the host aligned to the host's version and the host's
// build settings, and judges the result with inspect before it is written.
package pluginbuild

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/modtree"
	"golang.org/x/mod/modfile"
)

// Schemas of the JSON forms of Result and EnvResult.
const (
	BuildSchema = "plugfork/plugin-build/v1"
	EnvSchema   = "plugfork/plugin-env/v1"
)

// Config says which plugin to build against which host.
type Config struct {
	Dir        string   // a directory inside the plugin module
	Env        []string // the go command's environment
	Host       string   // the host module's directory, or MODULE@VERSION (--host)
	HostBinary string   // the built host (--host-binary); "" for none
	Also       []string // plugins the host loads before this one, in order (--also)
	Packages   []string // the plugin's main package (default ".")
	Output     string   // the plugin file (-o); default <package name>.so
	Flags      Flags    // go build flags given
	Write      bool     // -w: write the wiring into the plugin module
	// Isolate builds the plugin with private import paths for every
	// package it need not share with the host (--isolate); IsolateID,
	// when set, is its own packages' private id (--isolate-id).
	Isolate   bool
	IsolateID string
	// Progress, when set, receives one line per step of long work.
	Progress io.Writer
}

// Result is what a plugin build did. Its JSON form is BuildSchema.
type Result struct {
	Schema  string      `json:"schema"`
	Plugin  ModuleInfo  `json:"plugin"`
	Host    HostInfo    `json:"host"`
	Output  string      `json:"output,omitempty"`  // the plugin written, absolute; "" when none was
	Name    string      `json:"name"`              // the plugin file as the command line names it (-o, or ./<package>.so)
	Aligned []Alignment `json:"aligned,omitempty"` // modules moved to the host's versions
	Flags   []string    `json:"flags"`             // the go build flags used, -buildmode=plugin aside
	Env     []string    `json:"env,omitempty"`     // the environment settings used (CGO_ENABLED=1, GOEXPERIMENT=...)
	Checked bool        `json:"checked"`           // build settings checked against the host binary
	// Verdict is inspect's verdict on the plugin loaded into the host
	// after the --also plugins; nil without a host binary.
	Verdict *inspect.Verdict `json:"verdict,omitempty"`
	Wrote   []string         `json:"wrote,omitempty"` // with -w: the plugin module's files written
	// Isolated says what --isolate made private; nil without it.
	Isolated *Isolation `json:"isolated,omitempty"`
	Notes    []string   `json:"notes,omitempty"`
	Millis   int64      `json:"ms"`
}

// Loads reports whether the plugin is predicted to load (true when it was
// not judged).
func (r *Result) Loads() bool { return r.Verdict == nil || r.Verdict.Loads() }

// ModuleInfo names a module and where it is.
type ModuleInfo struct {
	Path string `json:"path"`
	Dir  string `json:"dir"`
}

// HostInfo is what a plugin build knows of the host.
type HostInfo struct {
	Path string `json:"path"`
	// Version is the published version --host named (MODULE@VERSION),
	// whose source Dir is in the module cache; "" for a directory.
	Version string `json:"version,omitempty"`
	Dir     string `json:"dir"`
	Prefix  string `json:"prefix,omitempty"` // the forks' prefix; "" for a host not forked
	Forks   int    `json:"forks,omitempty"`
	Binary  string `json:"binary,omitempty"` // the host binary the build was checked against
	Go      string `json:"go_version,omitempty"`
}

// Alignment is a module the plugin shares with the host, moved from the
// version the plugin's requirements select to the host's.
type Alignment struct {
	Module   string   `json:"module"`
	From     string   `json:"from"` // the plugin's version
	To       string   `json:"to"`   // the host's
	Packages []string `json:"packages"`
}

// ErrNotPlugin is the error of a plugin build run in the host module itself.
var ErrNotPlugin = errors.New("this is the host module: run plugfork plugin build in the plugin's module, with --host naming the host's")

// Build builds the plugin as cfg says. The result says whether the plugin
// loads; an error says why nothing was built (a *NeedsNewerError when the
// plugin needs newer versions of shared modules than the host's).
func Build(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	b, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer b.view.remove()
	res := b.result()

	b.progress("aligning shared modules with the host")
	var main string
	if res.Aligned, main, err = b.align(ctx); err != nil {
		return nil, err
	}
	// Named as go build names a plugin, unless -o says.
	name := cfg.Output
	if name == "" {
		name = "./" + path.Base(main) + ".so"
	}
	output := absFrom(cfg.Dir, name)
	res.Name = name
	b.progress("building %s", strings.Join(b.pkgs, " "))
	built := filepath.Join(b.view.Dir, "plugin.so")
	// A copy of the plugin already at the output, if any, lets go build
	// see it is up to date (its build ID) and skip the link.
	if data, err := os.ReadFile(output); err == nil {
		os.WriteFile(built, data, 0o755)
	}
	if cfg.Isolate {
		if res.Isolated, err = b.isolate(ctx, main, built); err != nil {
			return nil, err
		}
		res.Notes = append(res.Notes, res.Isolated.notes()...)
	} else if err := b.build(ctx, built, res.Aligned); err != nil {
		return nil, err
	}
	if b.host.bin != nil {
		b.progress("judging the plugin against %s", b.host.bin.Path)
		v, err := b.judge(built, name)
		if err != nil {
			return nil, err
		}
		res.Verdict = v
		if !v.Loads() {
			res.Notes = append(res.Notes, "no plugin written: plugin.Open would fail")
			res.Millis = time.Since(start).Milliseconds()
			return res, nil
		}
	} else {
		res.Notes = append(res.Notes, "not judged and build settings not checked: give --host-binary, the built host, to check them and predict plugin.Open")
	}
	if err := install(built, output); err != nil {
		return nil, fmt.Errorf("writing %s: %w", output, err)
	}
	res.Output = output
	if cfg.Write {
		if res.Wrote, err = b.writeWiring(); err != nil {
			return nil, err
		}
	}
	res.Millis = time.Since(start).Milliseconds()
	return res, nil
}

// builder is one plugin build's state: what prepare found, not changed
// after (the view's files change; the view is the same).
type builder struct {
	cfg    Config
	plugin *module // the plugin module
	host   *host
	view   *view
	flags  resolvedFlags
	pkgs   []string
}

func (b *builder) progress(format string, args ...any) {
	report(b.cfg.Progress, format, args...)
}

// report writes one line of progress to w, when not nil.
func report(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "plugfork: "+format+"\n", args...)
	}
}

func (b *builder) result() *Result {
	r := &Result{
		Schema:  BuildSchema,
		Plugin:  ModuleInfo{Path: b.plugin.path, Dir: b.plugin.root},
		Host:    b.host.info(),
		Flags:   b.flags.args(),
		Env:     b.flags.env,
		Checked: b.host.bin != nil,
		Notes:   slices.Clone(b.flags.notes),
	}
	return r
}

// prepare reads the plugin module and the host, resolves the build
// settings, and makes the view.
func prepare(ctx context.Context, cfg Config) (*builder, error) {
	if cfg.Dir == "" {
		return nil, errors.New("no directory given")
	}
	p, err := readModule(cfg.Dir)
	if err != nil {
		return nil, err
	}
	if cfg.IsolateID != "" && !cfg.Isolate {
		return nil, errors.New("--isolate-id without --isolate: add --isolate")
	}
	if cfg.Isolate && cfg.Write {
		return nil, errors.New("-w with --isolate: the wiring -w writes builds the plugin plain, not isolated; an isolated plugin is built only by plugfork plugin build --isolate")
	}
	if cfg.Host == "" {
		return nil, errors.New("no --host: name the host module's directory, or MODULE@VERSION (the framework the plugin is written against)")
	}
	h, err := readHost(ctx, cfg.Dir, cfg.Host, cfg.Env, cfg.Progress)
	if err != nil {
		return nil, err
	}
	if h.root == p.root || h.path == p.path {
		return nil, ErrNotPlugin
	}
	if cfg.HostBinary != "" {
		if err := h.readBinary(cfg.Dir, cfg.HostBinary); err != nil {
			return nil, err
		}
	}
	b := &builder{cfg: cfg, plugin: p, host: h, pkgs: cfg.Packages}
	if len(b.pkgs) == 0 {
		b.pkgs = []string{"."}
	}
	if len(b.pkgs) > 1 {
		return nil, fmt.Errorf("%d packages given: a plugin is one main package", len(b.pkgs))
	}
	vars, err := gocmd.Runner{Dir: p.root, Env: cfg.Env}.GoEnv(ctx, "GOVERSION", "GOWORK", "GOOS", "GOARCH")
	if err != nil {
		return nil, err
	}
	if b.flags, err = resolveFlags(cfg.Flags, cfg.Env, h.bin, vars[0]); err != nil {
		return nil, err
	}
	goos, goarch := cmp.Or(gocmd.Getenv(b.flags.env, "GOOS"), vars[2]), cmp.Or(gocmd.Getenv(b.flags.env, "GOARCH"), vars[3])
	if why := h.outsideScope(goos, goarch, b.flags.tags()); why != "" {
		return nil, errors.New(why)
	}
	userWork := vars[1]
	if userWork == "off" {
		userWork = ""
	}
	if b.view, err = newView(p, h, cfg.Env, userWork, b.flags); err != nil {
		return nil, err
	}
	return b, nil
}

// judge reads the built plugin, to be installed as name, and predicts what
// plugin.Open does when the host, having loaded the --also plugins, loads it.
func (b *builder) judge(built, name string) (*inspect.Verdict, error) {
	var plugins []*inspect.Binary
	for _, a := range b.cfg.Also {
		p, err := inspect.ReadFileIn(b.cfg.Dir, a)
		if err != nil {
			return nil, fmt.Errorf("reading --also: %w", err)
		}
		plugins = append(plugins, p)
	}
	p, err := inspect.ReadFile(built)
	if err != nil {
		return nil, fmt.Errorf("reading the built plugin: %w", err)
	}
	p.Path = name
	// Judged as if it were at its output path: plugin.Open knows files by
	// real path, and the file is not there yet.
	rep, err := inspect.CheckWith(b.host.hazards(), b.host.bin, append(plugins, p)...)
	if err != nil {
		return nil, err
	}
	return rep.Plugins[len(rep.Plugins)-1], nil
}

// install moves the built plugin to out, atomically: out is either the
// old file or the new one.
func install(built, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o777); err != nil {
		return err
	}
	if err := os.Rename(built, out); err == nil {
		return nil
	}
	// Another file system: copy beside out, then rename.
	data, err := os.ReadFile(built)
	if err != nil {
		return err
	}
	tmp := out + ".plugfork-tmp"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// module is a module as found on disk.
type module struct {
	root  string // absolute directory of go.mod
	path  string
	gomod []byte
	goVer string // its go line
}

// readModule reads the module containing dir.
func readModule(dir string) (*module, error) {
	root, data, err := modtree.FindRoot(absFrom("", dir))
	if err != nil {
		return nil, err
	}
	m := &module{root: root, gomod: data}
	f, err := hostmodel.ParseGoMod(filepath.Join(root, "go.mod"), data)
	if err != nil {
		return nil, err
	}
	m.path = f.Module.Mod.Path
	if f.Go != nil {
		m.goVer = f.Go.Version
	}
	return m, nil
}

// requires reports whether m's go.mod requires module path.
func (m *module) requires(path string) bool {
	f, err := modfile.ParseLax("go.mod", m.gomod, nil)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(f.Require, func(r *modfile.Require) bool { return r.Mod.Path == path })
}

// absFrom returns p made absolute against dir (the working directory for "").
func absFrom(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if dir == "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return abs
	}
	return filepath.Join(absFrom("", dir), p)
}
