package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	modpath "golang.org/x/mod/module"
)

// Schema is the version of the Report format.
const Schema = "plugfork/inspect/v1"

// Report is the verdict on loading plugins, in order, into one host process.
type Report struct {
	Schema  string     `json:"schema"`
	Host    *Binary    `json:"host"`
	Plugins []*Verdict `json:"plugins"`
}

// Loads reports whether every plugin loads.
func (r *Report) Loads() bool {
	for _, v := range r.Plugins {
		if !v.Loads() {
			return false
		}
	}
	return true
}

// Verdict is what plugin.Open will do with one plugin. Its JSON form has,
// after "plugin", "loads": Loads(), for readers of the schema that predate
// "outcome".
type Verdict struct {
	Plugin  *Binary `json:"plugin"`
	Outcome Outcome `json:"outcome"`
	// Panic is the predicted panic, for OutcomePanics.
	Panic *Panic `json:"panic,omitempty"`
	// Error is the error plugin.Open will return, when inspect can predict
	// its text.
	Error string `json:"error,omitempty"`
	// Note explains a verdict that has no causes (a file loaded twice).
	Note string `json:"note,omitempty"`
	// Mismatches are all the packages whose fingerprints differ from those
	// already bound in the process, in the order plugin.Open checks them:
	// it reports only the first.
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	// Causes explain the failure, grouped, each with its fix.
	Causes []Cause `json:"causes,omitempty"`
}

// Mismatch is one package whose fingerprint in the plugin differs from the
// one bound in the process.
type Mismatch struct {
	Package string `json:"package"`
	Against string `json:"against"` // "host", or the path of the earlier plugin that defines it
	Want    string `json:"want"`    // the fingerprint bound in the process
	Have    string `json:"have"`    // the plugin's link-time fingerprint
}

// Loads reports whether the plugin loads.
func (v *Verdict) Loads() bool { return v.Outcome == OutcomeLoads }

// MarshalJSON marshals v with "loads" derived from its outcome.
func (v *Verdict) MarshalJSON() ([]byte, error) {
	type verdict Verdict // without the method
	return json.Marshal(struct {
		Plugin *Binary `json:"plugin"`
		Loads  bool    `json:"loads"`
		*verdict
	}{v.Plugin, v.Loads(), (*verdict)(v)})
}

// Outcome is what plugin.Open does with a plugin.
type Outcome string

// Outcomes of a Verdict.
const (
	OutcomeLoads      Outcome = "loads"       // plugin.Open returns the plugin
	OutcomeFails      Outcome = "fails"       // plugin.Open returns an error
	OutcomePanics     Outcome = "panics"      // an init of the plugin panics inside plugin.Open: the host dies unless it recovers the panic
	OutcomeNotReached Outcome = "not-reached" // an earlier plugin's panic ended the host first, unless it recovered it
)

// Panic is a predicted panic in a plugin's init: a package of the plugin
// registers a name that a copy of it (or another package) in the process
// registered before, in a registry both share.
type Panic struct {
	Text     string `json:"text"`     // what the init panics with
	Package  string `json:"package"`  // the plugin's package whose init panics
	Registry string `json:"registry"` // the registry (see package hazard)
	Name     string `json:"name"`     // the name registered twice
	Against  string `json:"against"`  // "host", or the earlier plugin that registered it first
	First    string `json:"first"`    // the package that registered it first there
}

// CauseKind is the kind of a Cause.
type CauseKind string

// Cause kinds.
const (
	CauseModuleVersion  CauseKind = "module-version"   // the module's version differs
	CauseModuleSource   CauseKind = "module-source"    // same version, another source (replace, local edit, devel tree)
	CauseTrimpath       CauseKind = "trimpath"         // same module and settings, no -trimpath: another directory or module cache
	CauseToolchain      CauseKind = "toolchain"        // another Go toolchain release
	CauseBuildSettings  CauseKind = "build-settings"   // build settings that change fingerprints differ
	CauseUnknown        CauseKind = "unknown-build"    // same module and settings, -trimpath on both: an edited toolchain, say
	CauseSamePluginPath CauseKind = "same-plugin-path" // an earlier plugin with this plugin path failed, its symbols stay
	CauseAlreadyLoaded  CauseKind = "already-loaded"   // an earlier plugin with this plugin path loaded
	CausePrevFailure    CauseKind = "previous-failure" // this file failed before
	CauseGoVersion      CauseKind = "go-version"       // another Go minor release: the host crashes
	CausePlatform       CauseKind = "platform"         // another GOOS or GOARCH: dlopen fails
	CauseInitPanic      CauseKind = "init-panic"       // an init registers a name registered before: plugin.Open panics
)

// Cause is one reason a plugin fails, with the packages it explains.
type Cause struct {
	Kind    CauseKind `json:"kind"`
	Against string    `json:"against"` // "host", or the path of the earlier plugin
	// Module is the module whose packages differ ("" for the standard
	// library); Want and Have are its versions on the Against side and in
	// the plugin ("v0.8.1"; for a replaced module "v0.8.1 => ../errors").
	Module   string    `json:"module,omitempty"`
	Want     string    `json:"want,omitempty"`
	Have     string    `json:"have,omitempty"`
	Settings []Setting `json:"settings,omitempty"` // build-settings: the Against side's values of the settings that differ
	Summary  string    `json:"summary"`            // one line for people
	Packages []string  `json:"packages,omitempty"`
	Fix      string    `json:"fix"`
}

// Check reads the host and the plugins at the given paths and predicts
// what plugin.Open does when the host process loads them in this order.
// The error is about a file inspect cannot judge (see Error).
func Check(host string, plugins ...string) (*Report, error) {
	h, err := ReadFile(host)
	if err != nil {
		return nil, err
	}
	var ps []*Binary
	for _, p := range plugins {
		b, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		ps = append(ps, b)
	}
	return CheckBinaries(h, ps...)
}

// CheckExecutable is Check with the running executable as host: call it
// before plugin.Open. Plugins the process already opened must come first,
// in the order they were opened.
func CheckExecutable(plugins ...string) (*Report, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the running executable: %w", err)
	}
	return Check(exe, plugins...)
}

// CheckBinaries is Check on binaries already read.
func CheckBinaries(host *Binary, plugins ...*Binary) (*Report, error) {
	return CheckWith(nil, host, plugins...)
}

// CheckWith is CheckBinaries knowing, beside the table of well-known
// libraries, the registrations hz records (nil for none): a plugin whose
// package registers a name its copy in the process registered before is
// predicted to panic in plugin.Open.
func CheckWith(hz *Hazards, host *Binary, plugins ...*Binary) (*Report, error) {
	if err := host.HostError(); err != nil {
		return nil, err
	}
	for _, p := range plugins {
		if p.Kind != KindPlugin {
			return nil, &Error{Path: p.Path, Err: errors.New("not a plugin: build it with go build -buildmode=plugin")}
		}
	}
	r := &Report{Schema: Schema, Host: host, Plugins: []*Verdict{}}
	reg := newRegistrar(hz, host)
	forked := forkedHost(hz, host)
	reg.init(host, "host") // the host runs: it registered without a clash
	var dead *Verdict      // the plugin whose panic ended the host
	// scope is what the dynamic linker searches for go:link.pkghash.*:
	// the host, then every plugin it dlopened, loaded or not.
	scope := []*Binary{host}
	var files []opened
	for _, p := range plugins {
		v := &Verdict{Plugin: p, Outcome: OutcomeFails}
		r.Plugins = append(r.Plugins, v)
		if dead != nil {
			v.Outcome = OutcomeNotReached
			v.Note = "not reached: the host panicked loading " + dead.Plugin.Path + ", which ends it unless it recovers the panic"
			continue
		}
		real := p.file
		if real == "" {
			real = realPath(p.Path)
		}
		if prev := findFile(files, real); prev != nil {
			// plugin.Open keeps its result per real path.
			v.Outcome = prev.Outcome
			if prev.Loads() {
				v.Note = "the same file as " + prev.Plugin.Path + ": plugin.Open returns the plugin already open"
			} else {
				v.Error = fmt.Sprintf("plugin.Open(%q): %s (previous failure)", p.Path, strings.TrimPrefix(prev.Error, openPrefix(prev.Plugin.Path)))
				v.Causes = []Cause{{
					Kind:    CausePrevFailure,
					Against: prev.Plugin.Path,
					Summary: "the same file as " + prev.Plugin.Path + ", which failed: a process never retries a plugin",
					Fix:     "fix " + prev.Plugin.Path + " (above); a process that failed to open a plugin cannot open it again",
				}}
			}
			continue
		}
		files = append(files, opened{real, v})
		if p.GOOS != host.GOOS || p.GOARCH != host.GOARCH {
			v.Causes = []Cause{{
				Kind:    CausePlatform,
				Against: "host",
				Want:    host.GOOS + "/" + host.GOARCH,
				Have:    p.GOOS + "/" + p.GOARCH,
				Summary: fmt.Sprintf("built for %s/%s, the host is %s/%s: dlopen fails", p.GOOS, p.GOARCH, host.GOOS, host.GOARCH),
				Fix:     fmt.Sprintf("build the plugin with GOOS=%s GOARCH=%s", host.GOOS, host.GOARCH),
			}}
			continue
		}
		if minor(p.GoVersion) != minor(host.GoVersion) {
			v.Causes = []Cause{{
				Kind:    CauseGoVersion,
				Against: "host",
				Want:    host.GoVersion,
				Have:    p.GoVersion,
				Summary: fmt.Sprintf("built with %s, the host with %s: the runtimes are incompatible (an older plugin crashes the host: \"fatal error: runtime: no plugin module data\")", p.GoVersion, host.GoVersion),
				Fix:     fmt.Sprintf("build the plugin with %s (GOTOOLCHAIN=%s)", host.GoVersion, host.GoVersion),
			}}
			scope = append(scope, p)
			continue
		}
		var already *Verdict
		for _, o := range files[:len(files)-1] {
			if o.verdict.Loads() && o.verdict.Plugin.PluginPath == p.PluginPath {
				already = o.verdict
				break
			}
		}
		v.Mismatches, v.Causes = compare(scope, p, forked)
		scope = append(scope, p)
		if already != nil {
			v.Error = openPrefix(p.Path) + "plugin already loaded"
			v.Mismatches, v.Causes = nil, []Cause{{
				Kind:    CauseAlreadyLoaded,
				Against: already.Plugin.Path,
				Summary: "plugin path " + p.PluginPath + " is already loaded from " + already.Plugin.Path,
				Fix:     "give each plugin its own main package import path (module path)",
			}}
			continue
		}
		if len(v.Mismatches) > 0 {
			v.Error = openPrefix(p.Path) + "plugin was built with a different version of package " + v.Mismatches[0].Package
			continue
		}
		if pn := reg.init(p, p.Path); pn != nil {
			up, _ := reg.upstream(p, pn.Package)
			v.Outcome, v.Panic, dead = OutcomePanics, pn, v
			v.Error = "panic: " + pn.Text
			v.Causes = []Cause{panicCause(pn, up)}
			continue
		}
		v.Outcome = OutcomeLoads
	}
	return r, nil
}

// openPrefix is how plugin.Open's errors start: the name without ".so".
func openPrefix(name string) string {
	if len(name) > 3 && strings.HasSuffix(name, ".so") {
		name = name[:len(name)-3]
	}
	return fmt.Sprintf("plugin.Open(%q): ", name)
}

func realPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// opened is a plugin file that plugin.Open has seen, by real path.
type opened struct {
	real    string
	verdict *Verdict
}

func findFile(files []opened, real string) *Verdict {
	for _, f := range files {
		if f.real == real {
			return f.verdict
		}
	}
	return nil
}

// minor returns "go1.26" for "go1.26.8" or "go1.26rc1".
func minor(v string) string {
	rest, ok := strings.CutPrefix(v, "go")
	if !ok {
		return v
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) < 2 {
		return v
	}
	m := parts[1]
	if i := strings.IndexFunc(m, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		m = m[:i]
	}
	return "go" + parts[0] + "." + m
}

// compare checks p's table against the first definitions in scope, in
// table order, and groups the mismatches by cause; forked says that the
// host, scope[0], is forked.
func compare(scope []*Binary, p *Binary, forked bool) ([]Mismatch, []Cause) {
	var ms []Mismatch
	var causes []Cause
	for _, pkg := range p.Packages {
		for i, b := range scope {
			fp, ok := b.Fingerprint(pkg.Path)
			if !ok {
				continue
			}
			if fp != pkg.Fingerprint {
				against := "host"
				if i > 0 {
					against = b.Path
				}
				ms = append(ms, Mismatch{Package: pkg.Path, Against: against, Want: fp, Have: pkg.Fingerprint})
				var c Cause
				if pkg.Path == p.PluginPath && b.PluginPath == p.PluginPath {
					c = Cause{
						Kind:    CauseSamePluginPath,
						Against: against,
						Summary: "plugin path " + p.PluginPath + " was opened before from " + b.Path + ", which failed: its symbols stay bound in the process",
						Fix:     "give each plugin its own main package import path (module path)",
					}
				} else {
					c = classify(pkg.Path, b, against, p, forked && i == 0)
				}
				causes = addCause(causes, c, pkg.Path)
			}
			break
		}
	}
	return ms, causes
}

func addCause(causes []Cause, c Cause, pkg string) []Cause {
	for i := range causes {
		o := &causes[i]
		if o.Kind == c.Kind && o.Against == c.Against && o.Module == c.Module && o.Want == c.Want && o.Have == c.Have && o.Summary == c.Summary {
			o.Packages = append(o.Packages, pkg)
			return causes
		}
	}
	c.Packages = []string{pkg}
	return append(causes, c)
}

// fingerprintSettings are the build settings that change package
// fingerprints (GOAMD64 and -ldflags do not).
var fingerprintSettings = []string{"-trimpath", "-race", "-msan", "-asan", "-tags", "-gcflags", "GOEXPERIMENT", "CGO_ENABLED", "-compiler"}

// FingerprintSettings returns the build settings of b that change package
// fingerprints and are set to other than their defaults.
func (b *Binary) FingerprintSettings() []Setting {
	var set []Setting
	for _, k := range fingerprintSettings {
		if v := b.Setting(k); v != "" && !(k == "CGO_ENABLED" && v == "1") && !(k == "-compiler" && v == "gc") {
			set = append(set, Setting{k, v})
		}
	}
	return set
}

// TrimpathWhy says why a package compiled without -trimpath from one
// directory does not match the same source compiled from another: the
// wording of every message that says so.
const TrimpathWhy = "the directory's path is part of the fingerprint, so the same source in another directory (a copy, a checkout elsewhere, the module cache) differs"

// classify explains why pkg's fingerprint in p differs from the one that
// b, on side against, defines; forked says that b is a forked host, which
// links pkg under its own path only because it shares it with plugins.
func classify(pkg string, b *Binary, against string, p *Binary, forked bool) Cause {
	side := against
	if against != "host" {
		side = "plugin " + against
	}
	mb, okb := b.ModuleOf(pkg)
	mp, okp := p.ModuleOf(pkg)
	c := Cause{Against: against}
	if okb || okp {
		c.Module = mp.Path
		if !okp {
			c.Module = mb.Path
		}
		c.Want, c.Have = versionOf(mb, okb), versionOf(mp, okp)
		if mb.Path != mp.Path || mb.Version != mp.Version {
			c.Kind = CauseModuleVersion
			if mb.Path != mp.Path {
				c.Summary = fmt.Sprintf("%s comes from %s %s in the %s, from %s %s in the plugin", pkg, mb.Path, c.Want, side, mp.Path, c.Have)
				c.Module = ""
				c.Fix = "make both take " + pkg + " from the same module, or plugfork fork"
				return c
			}
			c.Summary = fmt.Sprintf("%s: %s %s, plugin %s", c.Module, side, c.Want, c.Have)
			c.Fix = pinFix(c.Module, mb, against, forked)
			return c
		}
	}
	if b.GoVersion != p.GoVersion {
		c.Kind = CauseToolchain
		c.Module = ""
		c.Want, c.Have = b.GoVersion, p.GoVersion
		c.Summary = fmt.Sprintf("toolchain: %s %s, plugin %s", side, b.GoVersion, p.GoVersion)
		c.Fix = fmt.Sprintf("build the plugin with %s (GOTOOLCHAIN=%s)", b.GoVersion, b.GoVersion)
		return c
	}
	var diff []string
	var fix []string
	for _, k := range fingerprintSettings {
		vb, vp := b.Setting(k), p.Setting(k)
		if vb == vp || (k == "CGO_ENABLED" && vb+vp == "1") {
			continue
		}
		c.Settings = append(c.Settings, Setting{k, vb})
		diff = append(diff, fmt.Sprintf("%s %s %s, plugin %s", k, side, orUnset(vb), orUnset(vp)))
		fix = append(fix, flagFor(k, vb))
	}
	if len(diff) > 0 {
		c.Kind = CauseBuildSettings
		c.Module, c.Want, c.Have = "", "", ""
		c.Summary = "build settings: " + strings.Join(diff, "; ")
		if against == "host" {
			c.Fix = "build the plugin with the host's settings: " + strings.Join(fix, ", ")
		} else {
			c.Fix = "build both plugins with the same settings: " + strings.Join(fix, ", ")
		}
		return c
	}
	if okb && okp && b.Setting("-trimpath") != "true" {
		other := strings.TrimPrefix(side, "plugin ")
		switch {
		case fromDir(mb) && fromDir(mp):
			c.Kind = CauseTrimpath
			c.Summary = fmt.Sprintf("%s: compiled from a directory in the %s and in the plugin, without -trimpath: %s", c.Module, side, TrimpathWhy)
			c.Fix = fmt.Sprintf("build the %s and the plugin with -trimpath (plugfork plugin build takes it from the host binary); if the source of %s differs too, build the plugin from the %s's", other, c.Module, other)
			return c
		case sameReplace(mb.Replace, mp.Replace) && mb.Sum == mp.Sum && !fromDir(mb):
			c.Kind = CauseTrimpath
			c.Summary = fmt.Sprintf("%s %s: the same version in the %s and in the plugin, without -trimpath: the module cache's directory is part of the fingerprint, so a build with another GOMODCACHE (another machine, a CI runner) differs", c.Module, c.Want, side)
			c.Fix = fmt.Sprintf("build the %s and the plugin with -trimpath (plugfork plugin build takes it from the host binary)", other)
			return c
		}
	}
	if okb && okp && (!sameReplace(mb.Replace, mp.Replace) || mb.Sum != mp.Sum || mb.Version == "(devel)" || mb.Replace != nil && mb.Replace.Version == "") {
		c.Kind = CauseModuleSource
		c.Summary = fmt.Sprintf("%s: %s %s, plugin %s: same version, another source (a replace or a local edit)", c.Module, side, c.Want, c.Have)
		c.Fix = fmt.Sprintf("build the plugin from the %s's source of %s (the same replace)%s", strings.TrimPrefix(side, "plugin "), c.Module, orFork(against, forked))
		return c
	}
	c.Kind = CauseUnknown
	c.Summary = "same version and build settings: another source directory or module cache without -trimpath, or an edited toolchain"
	c.Fix = "build host and plugins with -trimpath, from the same sources"
	return c
}

// fromDir reports whether m's packages are compiled from a directory: a
// main or workspace module, or one replaced by a directory.
func fromDir(m Module) bool {
	return m.Version == "(devel)" || m.Replace != nil && (m.Replace.Version == "" || m.Replace.Version == "(devel)")
}

func sameReplace(a, b *Module) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Path == b.Path && a.Version == b.Version && a.Sum == b.Sum
}

func versionOf(m Module, ok bool) string {
	if !ok {
		return "(not linked)"
	}
	v := m.Version
	if m.Replace != nil {
		r := m.Replace.Path
		if m.Replace.Version != "" {
			r += " " + m.Replace.Version
		}
		v += " => " + r
	}
	return v
}

// pinFix says how to make the plugin require b's version of module; forked
// says that b is a forked host, which shares module with plugins.
func pinFix(module string, m Module, against string, forked bool) string {
	if against != "host" {
		return fmt.Sprintf("require the same version of %s in both plugins (%s has %s), or plugfork fork it in one", module, against, m.Version)
	}
	if m.Version == "(devel)" {
		return fmt.Sprintf("build the plugin against the host's source of %s%s", module, orFork(against, forked))
	}
	if fromDir(m) && forked {
		return fmt.Sprintf("build the plugin against the host's source as the host binary was built from it (%s %s from %s): the host's source has moved on since (an upgraded fork), or the binary is out of date: rebuild it", module, m.Version, m.Replace.Path)
	}
	if m.Replace != nil {
		r := m.Replace.Path
		if m.Replace.Version != "" {
			r += " " + m.Replace.Version
		}
		return fmt.Sprintf("in the plugin's go.mod: require %s %s and replace %s => %s%s", module, m.Version, module, r, orFork(against, forked))
	}
	return fmt.Sprintf("in the plugin's go.mod: require %s %s (go get %s@%s)%s", module, m.Version, module, m.Version, orFork(against, forked))
}

// orFork ends a fix against the host: forking it is the other way out,
// unless it is forked, and then it shares the module with plugins on
// purpose (kept), which plugfork plugin build aligns plugins to.
func orFork(against string, forked bool) string {
	switch {
	case against != "host":
		return ""
	case forked:
		return "; the forked host shares it with plugins (kept): plugfork plugin build aligns the plugin to it"
	}
	return ", or plugfork fork the host"
}

// forkedHost reports whether host b is forked: the lock read with it
// (hz) says so, or its buildinfo links a fork of the modules layout, a
// module PREFIX/M replaced by a directory that ends in M, escaped as the
// fork dir names it.
func forkedHost(hz *Hazards, b *Binary) bool {
	if hz != nil {
		return true
	}
	for _, m := range b.Modules {
		if m.Replace == nil || m.Replace.Version != "" && m.Replace.Version != "(devel)" {
			continue
		}
		dir := path.Clean(strings.ReplaceAll(m.Replace.Path, `\`, "/"))
		for i := strings.Index(m.Path, "/"); i >= 0; {
			up := m.Path[i+1:]
			first, _, _ := strings.Cut(up, "/")
			if esc, err := modpath.EscapePath(up); err == nil && strings.Contains(first, ".") && strings.HasSuffix(dir, "/"+esc) {
				return true
			}
			j := strings.Index(up, "/")
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return false
}

func orUnset(v string) string {
	if v == "" {
		return "unset"
	}
	return strconv.Quote(v)
}

// flagFor is the go build flag or variable that sets k to v.
func flagFor(k, v string) string {
	switch {
	case k == "GOEXPERIMENT" || k == "CGO_ENABLED":
		return k + "=" + v
	case v == "":
		return "without " + k
	case v == "true":
		return k
	}
	return k + "=" + strconv.Quote(v)
}
