// Package lockfile reads and writes plugfork's on-disk formats: the lock
// (plugfork.lock) at the host's root, the marker (PLUGFORK.txt) in each
// fork, and the tree hashes that tie the two to the forks' files. Each
// format's reader sits next to its writer.
package lockfile

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Name is the file name of the lock at the host module's root.
const Name = "plugfork.lock"

// lockVersion is the version of the lock format this code writes; it reads
// this one and the ones before it (1: without registrations and accepted
// hazards; 2: without what a fork's result needs beyond the forks: the
// exposed host packages, the packages of kept modules not shared, the
// findings, the rewritten host files, each fork's files, bytes and
// remedies; 3: without the scope and the largest files).
const lockVersion = 4

// Complete is the first lock version that records everything a fork's
// result holds: a no-op re-run answers from such a lock alone.
const Complete = 4

// Lock records what a fork produced, so that a re-run reconciles with it,
// check verifies against it, and unfork reverses it.
type Lock struct {
	Prefix string `json:"prefix"`
	Dir    string `json:"dir"` // fork dir, slash-separated, relative to the host root
	// Layout is how the forks live in the host: "" (LayoutModules: nested
	// modules wired by replace directives) or LayoutInline (plain packages
	// of the host module).
	Layout string `json:"layout,omitempty"`
	// Unignored says, for the inline layout, that the host's go.mod could
	// not take an ignore directive (go older than 1.25): ./... in the host
	// matches the forked packages.
	Unignored bool     `json:"unignored,omitempty"`
	Keep      []string `json:"keep,omitempty"`
	Tests     bool     `json:"tests,omitempty"`
	Whole     bool     `json:"whole_modules,omitempty"`
	// Platforms and Tags scope the closure to the builds the host makes
	// (GOOS/GOARCH, custom build tags); none: every build.
	Platforms []string `json:"platforms,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	// Inputs is the h1: hash of everything a fork depends on in the host
	// (go.mod, go.sum, sources, local replacements, fork trees) as the
	// fork left it: a re-run that finds the same inputs has nothing to do.
	Inputs string `json:"inputs,omitempty"`
	// Accepted are the hazards a person accepted, by registering package:
	// plugfork check does not fail on them.
	Accepted []Acceptance `json:"accepted,omitempty"`
	// Surface is what host and plugins share: the kept packages and every
	// third-party package they import, transitively, with the
	// fingerprints (under -trimpath) that the fork proved unchanged.
	Surface []Shared `json:"surface,omitempty"`
	// Platform is the GOOS/GOARCH the surface was proved on.
	Platform string `json:"platform,omitempty"`
	// Exposed are the host packages plugins can import whose imports
	// reach forks, with the forked modules they reach.
	Exposed []Exposed `json:"exposed,omitempty"`
	// NotShared are the packages of kept modules forked all the same, with
	// the first private dependency each imports.
	NotShared []NotShared `json:"not_shared,omitempty"`
	// HostFiles are the host files whose imports the fork rewrote.
	HostFiles []string `json:"host_files,omitempty"`
	// Findings are what the rewrite could not fix, in forks and host.
	Findings []Finding `json:"findings,omitempty"`
	// Largest are the largest files of the forks, and every one over the
	// size a git host warns at, with where each is reached from.
	Largest []LargeFile `json:"largest,omitempty"`
	Forks   []Fork      `json:"forks"` // sorted by Path

	// Version is the format version the lock was read in (lockVersion for
	// a lock made in memory); not written.
	Version int `json:"-"`
}

// Exposed is a host package plugins can import whose imports reach forks.
type Exposed struct {
	Package string   `json:"package"`
	Forks   []string `json:"forks"` // forked modules, by upstream path
}

// NotShared is a package of a kept module that is forked all the same.
type NotShared struct {
	Package string `json:"package"`
	Imports string `json:"imports"`
}

// LargeFile is a file of a fork, by size, with the import chain that
// reaches the package it belongs to.
type LargeFile struct {
	Path   string `json:"path"`   // slash-separated, relative to the host root
	Module string `json:"module"` // the upstream module of its fork
	Bytes  int64  `json:"bytes"`
	// Chain is the import chain from a host package to the file's package
	// (empty for a file of no package: a licence, an embedded tree).
	Chain []Step `json:"chain,omitempty"`
}

// Step is one package of an import chain, with the file of it that
// imports the next and that file's build constraint.
type Step struct {
	Package    string `json:"package"`
	File       string `json:"file,omitempty"`
	Constraint string `json:"constraint,omitempty"`
}

// Finding is something the rewrite found and could not fix.
type Finding struct {
	Pos       string `json:"pos"`
	Kind      string `json:"kind"`
	Path      string `json:"path,omitempty"`
	Message   string `json:"message"`
	Behaviour string `json:"behaviour,omitempty"`
}

// Remedy records what a fork checked of the remedies of a registering
// package, which the lock alone cannot tell: what keeping it pins, whether
// it is its module's root (kept as PATH/...), and the build tags checked
// to drop every import of it.
type Remedy struct {
	Package string   `json:"package"`
	Root    bool     `json:"root,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	Pins    []string `json:"pins,omitempty"`
}

// Shared is one package of the shared surface.
type Shared struct {
	Package     string `json:"package"`
	Module      string `json:"module"`
	Version     string `json:"version"`
	Fingerprint string `json:"fingerprint"` // under -trimpath, hex
	Why         string `json:"why"`         // "kept", "exposed by example.com/sdk/api.Plugin.Handle", "imported by ..."
	// Unbuilt says that no Go file of the package builds on the lock's
	// Platform: a binary for it does not link the package, and it has no
	// fingerprint (written "-").
	Unbuilt bool `json:"unbuilt,omitempty"`
}

// Acceptance is a hazard accepted on purpose, with the reason given.
type Acceptance struct {
	Package string `json:"package"`
	Reason  string `json:"reason"`
}

// Fork is one forked module as the lock records it.
type Fork struct {
	Path     string  `json:"path"`               // upstream module path
	Version  string  `json:"version"`            // upstream version the host's build list selected
	Replace  string  `json:"replace,omitempty"`  // the host's replacement it was taken from: "path version" or a directory
	Sum      string  `json:"sum"`                // upstream h1: hash of the source
	ForkPath string  `json:"fork_path"`          // module path of the fork
	ForkDir  string  `json:"fork_dir"`           // slash-separated, relative to the host root
	TreeHash string  `json:"tree_hash"`          // h1: hash of the generated fork tree
	Require  Require `json:"require"`            // the host's require of Path before forking
	Packages int     `json:"packages,omitempty"` // packages of the closure it holds
	// Registrations are the fixed names the fork's packages register in
	// process-wide registries at init: hazards, since a plugin that links
	// the original package panics in plugin.Open.
	Registrations []hazard.Registration `json:"registrations,omitempty"`
	// Remedies are the checked facts of the registering packages' remedies.
	Remedies []Remedy `json:"remedies,omitempty"`
	Files    int      `json:"files,omitempty"` // files of the fork tree
	Bytes    int64    `json:"bytes,omitempty"` // their size
	// ExposedBy are the declarations of the exported API of host packages
	// plugins can import that refer to the fork's types.
	ExposedBy []ExposedBy `json:"exposed_by,omitempty"`
	// KeepPins are the modules that keeping the module (--keep PATH) would
	// pin for plugins, as path@version: recorded with ExposedBy.
	KeepPins []string `json:"keep_pins,omitempty"`
}

// ExposedBy is a declaration of a host package's exported API that refers
// to a type of a forked package.
type ExposedBy struct {
	Package string `json:"package"` // the host package
	Decl    string `json:"decl"`    // as plugins name it in the package: "Request.ID"
	Kind    string `json:"kind"`    // what part of it refers to the type: "field", "parameter", ...
	Type    string `json:"type"`    // the forked package whose type it is, by upstream path
}

// Require is how the host's go.mod required a fork's upstream module
// before the fork, so that unfork can restore it.
type Require string

// The Require states.
const (
	RequireDirect   Require = "direct"   // a require line without // indirect
	RequireIndirect Require = "indirect" // a require line marked // indirect
	RequireNone     Require = "none"     // no require line: reached through another module
)

// Find returns the fork of the upstream module path, or nil.
func (l *Lock) Find(path string) *Fork {
	for i := range l.Forks {
		if l.Forks[i].Path == path {
			return &l.Forks[i]
		}
	}
	return nil
}

// Remedy returns the fork's checked remedy facts of package pkg, or nil.
func (f *Fork) Remedy(pkg string) *Remedy {
	for i := range f.Remedies {
		if f.Remedies[i].Package == pkg {
			return &f.Remedies[i]
		}
	}
	return nil
}

// Normal returns a copy of the lock in the order Format writes it: every
// list sorted, keep patterns and host files once each. A result built from
// it says what the lock, written and read back, says.
func (l *Lock) Normal() *Lock {
	n := *l
	n.Keep = slices.Compact(slices.Sorted(slices.Values(l.Keep)))
	n.Platforms = slices.Compact(slices.Sorted(slices.Values(l.Platforms)))
	n.Tags = slices.Compact(slices.Sorted(slices.Values(l.Tags)))
	n.Largest = slices.SortedStableFunc(slices.Values(l.Largest), func(a, b LargeFile) int {
		if a.Bytes != b.Bytes {
			return cmpInt64(b.Bytes, a.Bytes)
		}
		return strings.Compare(a.Path, b.Path)
	})
	n.HostFiles = slices.Compact(slices.Sorted(slices.Values(l.HostFiles)))
	n.Accepted = slices.SortedFunc(slices.Values(l.Accepted), func(a, b Acceptance) int { return strings.Compare(a.Package, b.Package) })
	n.Surface = slices.SortedFunc(slices.Values(l.Surface), func(a, b Shared) int { return strings.Compare(a.Package, b.Package) })
	n.Exposed = slices.SortedFunc(slices.Values(l.Exposed), func(a, b Exposed) int { return strings.Compare(a.Package, b.Package) })
	n.NotShared = slices.SortedFunc(slices.Values(l.NotShared), func(a, b NotShared) int { return strings.Compare(a.Package, b.Package) })
	n.Findings = slices.SortedStableFunc(slices.Values(l.Findings), func(a, b Finding) int {
		return strings.Compare(a.Pos+"\x00"+a.Kind, b.Pos+"\x00"+b.Kind)
	})
	n.Forks = slices.SortedFunc(slices.Values(l.Forks), func(a, b Fork) int { return strings.Compare(a.Path, b.Path) })
	for i := range n.Forks {
		f := &n.Forks[i]
		f.Registrations = slices.SortedStableFunc(slices.Values(f.Registrations), func(a, b hazard.Registration) int {
			return strings.Compare(a.Package+"\x00"+a.Pos, b.Package+"\x00"+b.Pos)
		})
		f.Remedies = slices.SortedFunc(slices.Values(f.Remedies), func(a, b Remedy) int { return strings.Compare(a.Package, b.Package) })
		f.ExposedBy = slices.SortedFunc(slices.Values(f.ExposedBy), func(a, b ExposedBy) int {
			return strings.Compare(a.Package+"\x00"+a.Decl+"\x00"+a.Type, b.Package+"\x00"+b.Decl+"\x00"+b.Type)
		})
		f.KeepPins = slices.Sorted(slices.Values(f.KeepPins))
	}
	return &n
}

// Format returns the lock's text: sorted, one fork per line, stable.
func (l *Lock) Format() []byte {
	l = l.Normal()
	var b bytes.Buffer
	b.WriteString("# Generated by plugfork. Do not edit: run plugfork fork, upgrade or unfork.\n")
	fmt.Fprintf(&b, "plugfork %d\n", lockVersion)
	fmt.Fprintf(&b, "prefix %s\n", quote(l.Prefix))
	fmt.Fprintf(&b, "dir %s\n", quote(l.Dir))
	if l.Inline() {
		b.WriteString("layout inline\n")
		if l.Unignored {
			b.WriteString("unignored\n")
		}
	}
	for _, k := range l.Keep {
		fmt.Fprintf(&b, "keep %s\n", quote(k))
	}
	if l.Tests {
		b.WriteString("tests\n")
	}
	if l.Whole {
		b.WriteString("whole-modules\n")
	}
	for _, p := range l.Platforms {
		fmt.Fprintf(&b, "platform %s\n", quote(p))
	}
	for _, t := range l.Tags {
		fmt.Fprintf(&b, "tag %s\n", quote(t))
	}
	if l.Inputs != "" {
		fmt.Fprintf(&b, "inputs %s\n", quote(l.Inputs))
	}
	for _, a := range l.Accepted {
		fmt.Fprintf(&b, "accept %s %s\n", quote(a.Package), strconv.Quote(a.Reason))
	}
	if l.Platform != "" {
		fmt.Fprintf(&b, "proved-on %s\n", quote(l.Platform))
	}
	for _, e := range l.Surface {
		fp := e.Fingerprint
		if e.Unbuilt {
			fp = "-"
		}
		fmt.Fprintf(&b, "surface %s %s %s %s %s\n", quote(e.Package), quote(e.Module), quote(e.Version), quote(fp), strconv.Quote(e.Why))
	}
	for _, e := range l.Exposed {
		fmt.Fprintf(&b, "exposed %s", quote(e.Package))
		for _, f := range e.Forks {
			fmt.Fprintf(&b, " %s", quote(f))
		}
		b.WriteString("\n")
	}
	for _, n := range l.NotShared {
		fmt.Fprintf(&b, "not-shared %s %s\n", quote(n.Package), quote(n.Imports))
	}
	for _, name := range l.HostFiles {
		fmt.Fprintf(&b, "host-file %s\n", strconv.Quote(name))
	}
	for _, f := range l.Findings {
		fmt.Fprintf(&b, "finding %s %s %s %s %s\n", quote(f.Kind), strconv.Quote(f.Pos), strconv.Quote(f.Path), strconv.Quote(f.Message), strconv.Quote(f.Behaviour))
	}
	for _, f := range l.Largest {
		fmt.Fprintf(&b, "large-file %s %d %s", strconv.Quote(f.Path), f.Bytes, quote(f.Module))
		for _, st := range f.Chain {
			fmt.Fprintf(&b, " %s %s %s", quote(st.Package), strconv.Quote(st.File), strconv.Quote(st.Constraint))
		}
		b.WriteString("\n")
	}
	for _, f := range l.Forks {
		b.WriteString("\n")
		fmt.Fprintf(&b, "fork %s %s\n", quote(f.Path), quote(f.Version))
		if f.Replace != "" {
			fmt.Fprintf(&b, "\treplace %s\n", quote(f.Replace))
		}
		fmt.Fprintf(&b, "\tsum %s\n", quote(f.Sum))
		fmt.Fprintf(&b, "\tpath %s\n", quote(f.ForkPath))
		fmt.Fprintf(&b, "\tdir %s\n", quote(f.ForkDir))
		fmt.Fprintf(&b, "\ttree %s\n", quote(f.TreeHash))
		fmt.Fprintf(&b, "\trequire %s\n", f.Require)
		fmt.Fprintf(&b, "\tpackages %d\n", f.Packages)
		if f.Files > 0 || f.Bytes > 0 {
			fmt.Fprintf(&b, "\tfiles %d %d\n", f.Files, f.Bytes)
		}
		for _, r := range f.Registrations {
			fmt.Fprintf(&b, "\tregisters %s %s %s %s %s %s %s\n", quote(r.Package), quote(string(r.Registry)), strconv.Quote(r.Name),
				strconv.Quote(r.Var), strconv.Quote(r.Pos), strconv.Quote(r.Call), strconv.Quote(r.Panic))
		}
		for _, r := range f.Remedies {
			keep := "package"
			if r.Root {
				keep = "root"
			}
			fmt.Fprintf(&b, "\tremedy %s %s %s", quote(r.Package), keep, strconv.Quote(strings.Join(r.Tags, ",")))
			for _, p := range r.Pins {
				fmt.Fprintf(&b, " %s", quote(p))
			}
			b.WriteString("\n")
		}
		for _, e := range f.ExposedBy {
			fmt.Fprintf(&b, "\texposed-by %s %s %s %s\n", quote(e.Package), quote(e.Decl), quote(e.Kind), quote(e.Type))
		}
		if len(f.KeepPins) > 0 {
			b.WriteString("\tkeep-pins")
			for _, p := range f.KeepPins {
				fmt.Fprintf(&b, " %s", quote(p))
			}
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\r\n\"\\#") || !strconv.IsPrint(firstRune(s)) {
		return strconv.Quote(s)
	}
	return s
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

// Parse parses a lock. It rejects anything it does not understand and any
// fork entry that would point outside the fork dir.
func Parse(filename string, data []byte) (*Lock, error) {
	l := new(Lock)
	var cur *Fork
	dirLines := map[string]int{} // fork path -> line of its dir field, for validate's errors
	sawHeader := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	line := 0
	errorf := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", filename, line, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		indented := strings.HasPrefix(sc.Text(), "\t")
		key, rest, _ := strings.Cut(text, " ")
		var val string
		if rest != "" && !multiField[key] {
			v, err := unquote(rest)
			if err != nil {
				return nil, errorf("%s: %v", key, err)
			}
			val = v
		}
		if !sawHeader {
			if key != "plugfork" {
				return nil, errorf("not a plugfork lock: want \"plugfork %d\" first", lockVersion)
			}
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > lockVersion {
				return nil, errorf("lock format %q is not supported by this plugfork (want %d): upgrade plugfork", val, lockVersion)
			}
			l.Version = n
			sawHeader = true
			continue
		}
		if indented {
			if cur == nil {
				return nil, errorf("%s outside a fork entry", key)
			}
			switch key {
			case "replace":
				cur.Replace = val
			case "sum":
				cur.Sum = val
			case "path":
				cur.ForkPath = val
			case "dir":
				cur.ForkDir = val
				dirLines[cur.Path] = line
			case "tree":
				cur.TreeHash = val
			case "require":
				switch r := Require(val); r {
				case RequireDirect, RequireIndirect, RequireNone:
					cur.Require = r
				default:
					return nil, errorf("require %q: want direct, indirect or none", val)
				}
			case "packages":
				n, err := strconv.Atoi(val)
				if err != nil || n < 0 {
					return nil, errorf("packages %q: not a count", val)
				}
				cur.Packages = n
			case "registers":
				f, err := fields(rest)
				if err != nil || len(f) != 7 {
					return nil, errorf("registers: want package, registry, name, var, pos, call and panic")
				}
				cur.Registrations = append(cur.Registrations, hazard.Registration{
					Package: f[0], Registry: hazard.Registry(f[1]), Name: f[2], Var: f[3], Pos: f[4], Call: f[5], Panic: f[6],
				})
			case "files":
				f := strings.Fields(rest)
				var n int
				var size int64
				var err1, err2 error
				if len(f) == 2 {
					n, err1 = strconv.Atoi(f[0])
					size, err2 = strconv.ParseInt(f[1], 10, 64)
				}
				if len(f) != 2 || err1 != nil || err2 != nil || n < 0 || size < 0 {
					return nil, errorf("files: want \"files COUNT BYTES\"")
				}
				cur.Files, cur.Bytes = n, size
			case "remedy":
				f, err := fields(rest)
				if err != nil || len(f) < 3 || (f[1] != "root" && f[1] != "package") || f[0] == "" {
					return nil, errorf("remedy: want \"remedy PACKAGE root|package TAGS PIN...\"")
				}
				r := Remedy{Package: f[0], Root: f[1] == "root"}
				if len(f) > 3 {
					r.Pins = f[3:]
				}
				if f[2] != "" {
					r.Tags = strings.Split(f[2], ",")
				}
				if slices.Contains(r.Tags, "") || slices.Contains(r.Pins, "") {
					return nil, errorf("remedy: empty tag or pin")
				}
				cur.Remedies = append(cur.Remedies, r)
			case "exposed-by":
				f, err := fields(rest)
				if err != nil || len(f) != 4 || slices.Contains(f, "") {
					return nil, errorf("exposed-by: want \"exposed-by PACKAGE DECL KIND TYPE-PACKAGE\"")
				}
				cur.ExposedBy = append(cur.ExposedBy, ExposedBy{Package: f[0], Decl: f[1], Kind: f[2], Type: f[3]})
			case "keep-pins":
				f, err := fields(rest)
				if err != nil || len(f) == 0 || slices.Contains(f, "") {
					return nil, errorf("keep-pins: want \"keep-pins MODULE@VERSION...\"")
				}
				cur.KeepPins = f
			default:
				return nil, errorf("unknown fork field %q", key)
			}
			continue
		}
		cur = nil
		switch key {
		case "prefix":
			l.Prefix = val
		case "dir":
			l.Dir = val
		case "layout":
			if val != LayoutModules {
				l.Layout = val
			}
		case "unignored":
			l.Unignored = true
		case "keep":
			l.Keep = append(l.Keep, val)
		case "tests":
			l.Tests = true
		case "whole-modules":
			l.Whole = true
		case "platform":
			l.Platforms = append(l.Platforms, val)
		case "tag":
			l.Tags = append(l.Tags, val)
		case "large-file":
			f, err := fields(rest)
			var size int64
			if err == nil && len(f) >= 3 {
				size, err = strconv.ParseInt(f[1], 10, 64)
			}
			if err != nil || len(f) < 3 || (len(f)-3)%3 != 0 || size < 0 || f[0] == "" || f[2] == "" {
				return nil, errorf("large-file: want \"large-file PATH BYTES MODULE [PACKAGE FILE CONSTRAINT]...\"")
			}
			lf := LargeFile{Path: f[0], Bytes: size, Module: f[2]}
			for i := 3; i < len(f); i += 3 {
				lf.Chain = append(lf.Chain, Step{Package: f[i], File: f[i+1], Constraint: f[i+2]})
			}
			l.Largest = append(l.Largest, lf)
		case "accept":
			f, err := fields(rest)
			if err != nil || len(f) != 2 || f[0] == "" {
				return nil, errorf("accept: want a package and a reason")
			}
			l.Accepted = append(l.Accepted, Acceptance{Package: f[0], Reason: f[1]})
		case "surface":
			f, err := fields(rest)
			if err != nil || len(f) != 5 {
				return nil, errorf("surface: want \"surface PACKAGE MODULE VERSION FINGERPRINT WHY\"")
			}
			e := Shared{Package: f[0], Module: f[1], Version: f[2], Fingerprint: f[3], Why: f[4]}
			if e.Fingerprint == "-" {
				e.Fingerprint, e.Unbuilt = "", true
			}
			l.Surface = append(l.Surface, e)
		case "proved-on":
			l.Platform = val
		case "exposed":
			f, err := fields(rest)
			if err != nil || len(f) < 2 || slices.Contains(f, "") {
				return nil, errorf("exposed: want \"exposed PACKAGE FORKED-MODULE...\"")
			}
			l.Exposed = append(l.Exposed, Exposed{Package: f[0], Forks: f[1:]})
		case "not-shared":
			f, err := fields(rest)
			if err != nil || len(f) != 2 || f[0] == "" {
				return nil, errorf("not-shared: want \"not-shared PACKAGE IMPORTS\"")
			}
			l.NotShared = append(l.NotShared, NotShared{Package: f[0], Imports: f[1]})
		case "host-file":
			if err := CheckRelDir(val); err != nil {
				return nil, errorf("host-file %q: %v", val, err)
			}
			l.HostFiles = append(l.HostFiles, val)
		case "finding":
			f, err := fields(rest)
			if err != nil || len(f) != 5 || f[0] == "" {
				return nil, errorf("finding: want \"finding KIND POS PATH MESSAGE BEHAVIOUR\"")
			}
			l.Findings = append(l.Findings, Finding{Kind: f[0], Pos: f[1], Path: f[2], Message: f[3], Behaviour: f[4]})
		case "inputs":
			if !strings.HasPrefix(val, "h1:") {
				return nil, errorf("inputs must be an h1: hash")
			}
			l.Inputs = val
		case "fork":
			p, v, ok := strings.Cut(rest, " ")
			if !ok {
				return nil, errorf("fork: want \"fork PATH VERSION\"")
			}
			fp, err1 := unquote(p)
			fv, err2 := unquote(v)
			if err1 != nil || err2 != nil {
				return nil, errorf("fork: bad quoting")
			}
			l.Forks = append(l.Forks, Fork{Path: fp, Version: fv})
			cur = &l.Forks[len(l.Forks)-1]
		default:
			return nil, errorf("unknown directive %q", key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	if !sawHeader {
		return nil, fmt.Errorf("%s: empty lock: want \"plugfork %d\" first", filename, lockVersion)
	}
	if err := l.validate(filename, dirLines); err != nil {
		if strings.HasPrefix(err.Error(), filename+":") {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", filename, err)
	}
	return l, nil
}

// multiField are the keys whose lines hold several values, each bare or
// quoted (see fields).
var multiField = map[string]bool{
	"fork": true, "registers": true, "accept": true, "surface": true, "exposed": true,
	"not-shared": true, "finding": true, "remedy": true, "files": true, "exposed-by": true, "keep-pins": true, "large-file": true,
}

// fields splits the rest of a line into its values, each bare or quoted.
func fields(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '"' {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, err
			}
			v, _ := strconv.Unquote(q)
			out = append(out, v)
			s = s[len(q):]
			continue
		}
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			i = len(s)
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out, nil
}

func unquote(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		return strconv.Unquote(s)
	}
	if strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("unexpected space in %q", s)
	}
	return s, nil
}

// validate checks the lock's paths: module paths valid, directories
// relative, clean and inside the fork dir, no entry twice. dirLines gives
// the line of each fork's dir field in filename, for the error that names
// one pointing elsewhere.
func (l *Lock) validate(filename string, dirLines map[string]int) error {
	if err := module.CheckPath(l.Prefix); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	if err := CheckRelDir(l.Dir); err != nil {
		return fmt.Errorf("dir %q: %w", l.Dir, err)
	}
	if l.Layout != "" && l.Layout != LayoutInline {
		return fmt.Errorf("layout %q: want %s (no layout line: %s)", l.Layout, LayoutInline, LayoutModules)
	}
	if l.Unignored && !l.Inline() {
		return fmt.Errorf("unignored: only the %s layout has it", LayoutInline)
	}
	seen := map[string]bool{}
	for _, f := range l.Forks {
		if seen[f.Path] {
			return fmt.Errorf("fork %s: listed twice", f.Path)
		}
		seen[f.Path] = true
		if err := module.CheckPath(f.Path); err != nil {
			return fmt.Errorf("fork %s: %w", f.Path, err)
		}
		if !semver.IsValid(f.Version) {
			return fmt.Errorf("fork %s: invalid version %q", f.Path, f.Version)
		}
		if f.ForkPath != l.Prefix+"/"+f.Path {
			return fmt.Errorf("fork %s: path %q is not %s/%s", f.Path, f.ForkPath, l.Prefix, f.Path)
		}
		want, err := ForkDir(l.Dir, f.Path, l.Inline())
		if err != nil {
			return fmt.Errorf("fork %s: %w", f.Path, err)
		}
		if f.ForkDir != want {
			// No plugfork command rewrites a lock it cannot trust; the
			// user can, either way.
			return fmt.Errorf("%s:%d: fork %s: dir %q is not where its fork lives (%s): the lock was edited by hand; restore it from version control (git checkout %s), or write \"dir %s\" on that line",
				filename, dirLines[f.Path], f.Path, f.ForkDir, want, Name, want)
		}
		if !strings.HasPrefix(f.Sum, "h1:") || !strings.HasPrefix(f.TreeHash, "h1:") {
			return fmt.Errorf("fork %s: sum and tree must be h1: hashes", f.Path)
		}
		if f.Require == "" {
			return fmt.Errorf("fork %s: missing require", f.Path)
		}
		for _, e := range f.ExposedBy {
			if !pkgpath.Within(e.Type, f.Path) {
				return fmt.Errorf("fork %s: exposed-by: package %s is not in module %s", f.Path, e.Type, f.Path)
			}
		}
		for _, r := range f.Registrations {
			if !pkgpath.Within(r.Package, f.Path) {
				return fmt.Errorf("fork %s: registers: package %s is not in module %s", f.Path, r.Package, f.Path)
			}
			if !slices.Contains(hazard.Registries, r.Registry) {
				return fmt.Errorf("fork %s: registers: unknown registry %q", f.Path, r.Registry)
			}
		}
	}
	shared := map[string]bool{}
	for _, e := range l.Surface {
		if shared[e.Package] {
			return fmt.Errorf("surface %s: listed twice", e.Package)
		}
		shared[e.Package] = true
		if err := module.CheckImportPath(e.Package); err != nil {
			return fmt.Errorf("surface %s: %w", e.Package, err)
		}
		if !pkgpath.Within(e.Package, e.Module) || !semver.IsValid(e.Version) {
			return fmt.Errorf("surface %s: not a package of %s at a valid version (%q)", e.Package, e.Module, e.Version)
		}
		if e.Unbuilt && l.Platform == "" {
			return fmt.Errorf("surface %s: no fingerprint, but no platform it does not build on", e.Package)
		}
		if !e.Unbuilt && (len(e.Fingerprint) != 16 || strings.Trim(e.Fingerprint, "0123456789abcdef") != "") {
			return fmt.Errorf("surface %s: fingerprint %q is not 16 hex digits", e.Package, e.Fingerprint)
		}
	}
	return nil
}

// CheckRelDir reports an error unless dir is a clean, relative,
// slash-separated path that stays below the directory it is relative to.
func CheckRelDir(dir string) error {
	switch {
	case dir == "" || dir == ".":
		return fmt.Errorf("empty")
	case path.IsAbs(dir) || strings.Contains(dir, `\`) || (len(dir) > 1 && dir[1] == ':'):
		return fmt.Errorf("must be relative to the host module root")
	case path.Clean(dir) != dir:
		return fmt.Errorf("not clean (want %q)", path.Clean(dir))
	case dir == ".." || strings.HasPrefix(dir, "../"):
		return fmt.Errorf("must stay inside the host module")
	}
	for _, elem := range strings.Split(dir, "/") {
		if strings.HasPrefix(elem, ".") {
			return fmt.Errorf("element %q begins with a dot", elem)
		}
	}
	return nil
}

// ForkDir returns where the fork of module path lives: the fork dir dir
// joined with the module path, escaped as the module cache escapes it for
// a nested module (its directory name is no import path), as it is for an
// inline fork (its directory is its import path below the host's).
func ForkDir(dir, modPath string, inline bool) (string, error) {
	if inline {
		if err := module.CheckImportPath(modPath); err != nil {
			return "", err
		}
		return path.Join(dir, modPath), nil
	}
	esc, err := module.EscapePath(modPath)
	if err != nil {
		return "", err
	}
	return path.Join(dir, esc), nil
}

// The layouts of the forks in a host.
const (
	// LayoutModules: each fork is a nested module (its own go.mod), which
	// the host requires and replaces by its directory. Module zips leave
	// nested modules out: the forks do not travel with a version.
	LayoutModules = "modules"
	// LayoutInline: each fork is plain packages of the host module, at
	// <host module>/<dir>/<upstream path>; the host's module zip carries
	// them.
	LayoutInline = "inline"
)

// Inline reports whether the forks are plain packages of the host module.
func (l *Lock) Inline() bool { return l.Layout == LayoutInline }
