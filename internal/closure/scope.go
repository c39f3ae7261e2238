package closure

import (
	"fmt"
	"go/build/constraint"
	"path"
	"slices"
	"strings"
)

// Scope is the builds a host really makes: the platforms (GOOS/GOARCH) and
// the custom build tags it builds with. The zero Scope is every build, as
// go mod vendor sees it: every file counts whatever its constraints (but
// "ignore"). A scoped closure keeps only the files that build in one of
// the scoped builds, and follows only their imports.
type Scope struct {
	Platforms []string // "linux/amd64"; none: every platform
	Tags      []string // custom tags set in every scoped build
}

// IsZero reports whether the scope is every build.
func (s Scope) IsZero() bool { return len(s.Platforms) == 0 && len(s.Tags) == 0 }

// NewScope returns the scope of the platforms and tags, sorted and
// checked: a platform is GOOS/GOARCH of a known GOOS and GOARCH, a tag a
// build tag.
func NewScope(platforms, tags []string) (Scope, error) {
	var s Scope
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok || !slices.Contains(knownOS, goos) || !slices.Contains(knownArch, goarch) {
			return Scope{}, fmt.Errorf("platform %q: want GOOS/GOARCH, e.g. linux/amd64 (go tool dist list names them)", p)
		}
		s.Platforms = append(s.Platforms, p)
	}
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, " \t,!&|()") {
			return Scope{}, fmt.Errorf("tag %q: want a build tag, e.g. goplugin", t)
		}
		if t == "ignore" {
			return Scope{}, fmt.Errorf("tag %q: files constrained to ignore are never built", t)
		}
		s.Tags = append(s.Tags, t)
	}
	s.Platforms = slices.Compact(slices.Sorted(slices.Values(s.Platforms)))
	s.Tags = slices.Compact(slices.Sorted(slices.Values(s.Tags)))
	return s, nil
}

// Builds reports whether the file name (its base name counts) with source
// src builds in one of the scope's builds: its _GOOS and _GOARCH name
// suffixes and its build constraint (the //go:build line, else the
// // +build lines) hold for one scoped platform with the scoped tags. A
// tag that a build mode sets (cgo, race, msan, asan) or a release or
// architecture level may go either way; any other custom tag holds only
// when the scope names it. The zero Scope keeps every file but those
// constrained to "ignore".
func (s Scope) Builds(name string, src []byte) bool {
	expr := fileConstraint(src)
	if s.IsZero() {
		return expr == nil || anyTags(expr, true)
	}
	platforms := s.Platforms
	if len(platforms) == 0 {
		platforms = []string{"/"} // any GOOS, any GOARCH
	}
	fileOS, fileArch := nameSuffix(name)
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		if fileOS != "" && goos != "" && !osMatches(goos, fileOS) || fileArch != "" && goarch != "" && fileArch != goarch {
			continue
		}
		if expr == nil || s.eval(expr, goos, goarch, true) {
			return true
		}
	}
	return false
}

// eval evaluates a constraint in the scoped build goos/goarch ("" for
// any): a tag that may go either way takes the value preferred.
func (s Scope) eval(x constraint.Expr, goos, goarch string, prefer bool) bool {
	switch x := x.(type) {
	case *constraint.TagExpr:
		switch v := s.tag(x.Tag, goos, goarch); v {
		case either:
			return prefer
		default:
			return v == yes
		}
	case *constraint.NotExpr:
		return !s.eval(x.X, goos, goarch, !prefer)
	case *constraint.AndExpr:
		return s.eval(x.X, goos, goarch, prefer) && s.eval(x.Y, goos, goarch, prefer)
	case *constraint.OrExpr:
		return s.eval(x.X, goos, goarch, prefer) || s.eval(x.Y, goos, goarch, prefer)
	}
	return true
}

type tagValue int

const (
	no tagValue = iota
	yes
	either
)

// tag returns the value of a build tag in the scoped build goos/goarch.
func (s Scope) tag(tag, goos, goarch string) tagValue {
	isOS, isArch := slices.Contains(knownOS, tag) || tag == "unix", slices.Contains(knownArch, tag)
	switch {
	case tag == "ignore":
		return no
	case slices.Contains(s.Tags, tag):
		return yes
	case isOS && goos == "", isArch && goarch == "":
		return either
	case tag == "unix":
		return when(slices.Contains(unixOS, goos))
	case isOS:
		return when(osMatches(goos, tag))
	case isArch:
		return when(tag == goarch)
	case tag == "gc":
		return yes
	case tag == "gccgo":
		return no
	case tag == "cgo", tag == "race", tag == "msan", tag == "asan", strings.Contains(tag, "."):
		// A build mode, a release (go1.27 && !x beside !go1.27: the
		// toolchain building the host picks) or an architecture level
		// (amd64.v3).
		return either
	}
	return no
}

func when(b bool) tagValue {
	if b {
		return yes
	}
	return no
}

// osMatches reports whether a build for goos satisfies the GOOS tag (an
// android build satisfies linux, ios darwin, illumos solaris).
func osMatches(goos, tag string) bool {
	return tag == goos || goos == "android" && tag == "linux" || goos == "ios" && tag == "darwin" || goos == "illumos" && tag == "solaris"
}

// fileConstraint returns a Go file's build constraint: its //go:build
// line, else its // +build lines, all of which must hold; nil for none.
func fileConstraint(src []byte) constraint.Expr {
	var goBuild, plusBuild constraint.Expr
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "package ") {
			break
		}
		if !constraint.IsGoBuild(line) && !constraint.IsPlusBuild(line) {
			continue
		}
		x, err := constraint.Parse(line)
		switch {
		case err != nil:
		case constraint.IsGoBuild(line):
			goBuild = x
		case plusBuild == nil:
			plusBuild = x
		default:
			plusBuild = &constraint.AndExpr{X: plusBuild, Y: x}
		}
	}
	if goBuild != nil {
		return goBuild
	}
	return plusBuild
}

// nameSuffix returns the GOOS and GOARCH a file's name restricts it to
// (x_linux.go, x_amd64.go, x_linux_amd64_test.go), "" for none, as the go
// command reads them.
func nameSuffix(name string) (goos, goarch string) {
	base := path.Base(name)
	base, _, _ = strings.Cut(base, ".")
	i := strings.Index(base, "_")
	if i < 0 {
		return "", ""
	}
	l := strings.Split(base[i:], "_")
	if n := len(l); n > 0 && l[n-1] == "test" {
		l = l[:n-1]
	}
	n := len(l)
	switch {
	case n >= 2 && slices.Contains(knownOS, l[n-2]) && slices.Contains(knownArch, l[n-1]):
		return l[n-2], l[n-1]
	case n >= 1 && slices.Contains(knownOS, l[n-1]):
		return l[n-1], ""
	case n >= 1 && slices.Contains(knownArch, l[n-1]):
		return "", l[n-1]
	}
	return "", ""
}

// knownArch are the GOARCH values the go command recognises in file names
// and constraints.
var knownArch = []string{"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"}

// siteConstraint returns a Go file's constraint as one expression: its
// name's GOOS and GOARCH (unless its build constraint names them) and its
// build constraint ("" for none).
func siteConstraint(name string, src []byte) string {
	x := fileConstraint(src)
	goos, goarch := nameSuffix(name)
	var parts []string
	for _, t := range []string{goos, goarch} {
		if t != "" && (x == nil || !hasTag(x, t)) {
			parts = append(parts, t)
		}
	}
	if x != nil {
		e := x.String()
		if _, or := x.(*constraint.OrExpr); or && len(parts) > 0 {
			e = "(" + e + ")"
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, " && ")
}

// hasTag reports whether the constraint x names tag.
func hasTag(x constraint.Expr, tag string) bool {
	switch x := x.(type) {
	case *constraint.TagExpr:
		return x.Tag == tag
	case *constraint.NotExpr:
		return hasTag(x.X, tag)
	case *constraint.AndExpr:
		return hasTag(x.X, tag) || hasTag(x.Y, tag)
	case *constraint.OrExpr:
		return hasTag(x.X, tag) || hasTag(x.Y, tag)
	}
	return false
}

// Outside returns why a build for goos/goarch with the build tags is not
// one of the scope's builds, "" when it is: its platform is not a scoped
// one, or it sets a custom tag the scope does not name (a fork may lack
// the files that tag selects). Tags that name a platform, a release, a
// build mode or an architecture level are not custom.
func (s Scope) Outside(goos, goarch string, tags []string) string {
	if s.IsZero() {
		return "" // every file was forked
	}
	if p := goos + "/" + goarch; len(s.Platforms) > 0 && !slices.Contains(s.Platforms, p) {
		return "it builds for " + p + ", a platform outside the scope"
	}
	for _, t := range tags {
		if t == "" || slices.Contains(s.Tags, t) || slices.Contains(knownOS, t) || slices.Contains(knownArch, t) || t == "unix" {
			continue
		}
		if s.tag(t, goos, goarch) == no {
			return "it sets the build tag " + t + ", outside the scope"
		}
	}
	return ""
}
