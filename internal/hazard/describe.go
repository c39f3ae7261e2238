package hazard

import (
	"fmt"
	"strings"
)

// This file owns the wording of a hazard and of its remedies: fork (its
// result, fresh or read back from the lock), check and inspect say what
// they say through it, and nobody else formats them. Which remedies apply
// (a checked build tag, what a keep pins) is decided by the caller.

// Report is a hazard as plugfork reports it: where two copies of a library
// in one process (the host's fork and a plugin's original) break, what
// plugin.Open panics with, the ways out, and whether a person accepted it.
// A registry hazard is a decision: one of its remedies must be taken, or it
// must be accepted.
type Report struct {
	Module   string   `json:"module"`
	Package  string   `json:"package,omitempty"` // the registering package, by its upstream path
	Pos      string   `json:"pos,omitempty"`     // file:line:col of the call, relative to the host root
	Call     string   `json:"call,omitempty"`
	Kind     Kind     `json:"kind"`
	Registry Registry `json:"registry,omitempty"`
	Name     string   `json:"name,omitempty"`  // the name registered
	Panic    string   `json:"panic,omitempty"` // what plugin.Open panics with
	Message  string   `json:"message"`
	Remedies []Remedy `json:"remedies,omitempty"`
	Accepted string   `json:"accepted,omitempty"` // the reason it was accepted with, if it was
}

// RemedyKind says what a Remedy does.
type RemedyKind string

// The kinds of Remedy.
const (
	RemedyKeep     RemedyKind = "keep"      // keep the package shared with plugins
	RemedyBuildTag RemedyKind = "build-tag" // build the host with a tag that drops its import
	RemedyLdflags  RemedyKind = "ldflags"   // rename the registration with the linker's -X
	RemedyAccept   RemedyKind = "accept"    // accept the hazard, with a reason
)

// Remedy is one way out of a hazard.
type Remedy struct {
	Kind RemedyKind `json:"kind"`
	Do   string     `json:"do"`             // the command or flag
	Pins []string   `json:"pins,omitempty"` // keep: the module@version plugins must then link exactly
	Note string     `json:"note,omitempty"`
}

// Registered returns the report of registration r, made by a package of
// the forked module mod under prefix, with the remedies given and the
// reason it was accepted with ("" if it was not).
func Registered(mod, prefix string, r Registration, remedies []Remedy, accepted string) Report {
	text := ForkPanic(prefix, r)
	return Report{
		Module: mod, Package: r.Package, Pos: r.Pos, Call: r.Call, Kind: KindRegistry,
		Registry: r.Registry, Name: r.Name, Panic: text, Remedies: remedies, Accepted: accepted,
		Message: fmt.Sprintf("%s registers %q in %s when the package initializes: if a plugin links its own copy of %s, plugin.Open panics (%q)",
			callOr(r), r.Name, r.Registry, r.Package, firstLine(text)),
	}
}

// Singleton returns the report of singleton hazard h.
func Singleton(h Hazard) Report {
	return Report{Module: h.Module, Pos: h.Pos, Call: h.Call, Kind: h.Kind, Message: h.Message}
}

// ForkPanic returns what plugin.Open panics with when a plugin links its
// own copy of r's package and the host its fork under prefix.
func ForkPanic(prefix string, r Registration) string {
	return r.PanicText(prefix+"/"+r.Package, r.Package, "<host>")
}

// Unremedied returns check's message and fix for registration r of a fork
// under prefix that nobody remedied or accepted.
func Unremedied(prefix string, r Registration) (message, fix string) {
	message = fmt.Sprintf("%s registers %q in %s at init: a plugin that links its own copy of %s panics in plugin.Open (%q)",
		callOr(r), r.Name, r.Registry, r.Package, firstLine(ForkPanic(prefix, r)))
	fix = fmt.Sprintf("take a remedy plugfork fork lists (plugfork fork --keep %s, a build tag or -X), or plugfork fork --accept-hazard %s --reason \"...\"", r.Package, r.Package)
	return message, fix
}

// InitPanic returns inspect's summary and fix of a predicted panic: pkg
// (of upstream module up) registers name in registry, which first (of
// side, "the host" or a plugin) registered before it.
func InitPanic(pkg, name, registry, side, first, up string) (summary, fix string) {
	summary = fmt.Sprintf("%s registers %q in %s when it initializes, and %s registered it first (%s): plugin.Open panics, and the host dies unless it recovers the panic", pkg, name, registry, side, first)
	fix = fmt.Sprintf("keep %s shared in the host (plugfork fork --keep %s, then build the plugin with plugfork plugin build), take a knob plugfork fork lists (a build tag, -X), or leave %s out of the plugin", up, up, up)
	return summary, fix
}

// Remedies returns the ways out of registration r of a fork under
// prefix, in the order plugfork lists them: keeping the package shared (as
// PATH/... when root, it being its module's root package that imports
// others; pinning the module versions pins), building the host with tags
// (which the caller checked drop every import of it; none when nil), the
// shared protobuf runtime's conflict policy, renaming it with -X when a
// variable names it, and accepting it. A new remedy is added here, and,
// when it needs a fact only a fork can check, in fork's remedies and the
// lock's remedy line.
func Remedies(prefix string, r Registration, root bool, pins, tags []string) []Remedy {
	out := []Remedy{keep(r.Package, root, pins)}
	if len(tags) > 0 {
		out = append(out, Remedy{Kind: RemedyBuildTag, Do: "build the host with -tags " + strings.Join(tags, ","),
			Note: "checked: built with it, the host links no " + r.Package + ", so no plugin's copy collides with it"})
	}
	if r.Registry == Protobuf {
		out = append(out, Remedy{Kind: RemedyLdflags,
			Do:   "build the host with -ldflags=-X=" + ProtoRegistry + ".conflictPolicy=warn",
			Note: "the runtime the host shares with plugins then warns instead of panicking; both copies stay registered, and lookups by name find the first"})
	}
	if r.Var != "" {
		out = append(out, Remedy{Kind: RemedyLdflags,
			Do:   fmt.Sprintf("build the host with -ldflags=-X=%s/%s.%s=%s-host", prefix, r.Package, r.Var, r.Name),
			Note: fmt.Sprintf("the host's copy then registers %q as %s-host: the host must use that name itself (an empty value skips the registration where the library allows it)", r.Name, r.Name)})
	}
	return append(out, Remedy{Kind: RemedyAccept, Do: fmt.Sprintf("plugfork fork --accept-hazard %s --reason \"...\"", r.Package),
		Note: "when no plugin will link " + r.Package})
}

// keep is the remedy of keeping package pkg shared with plugins.
func keep(pkg string, root bool, pins []string) Remedy {
	if root {
		return Remedy{Kind: RemedyKeep, Do: "plugfork fork --keep " + pkg + "/...", Pins: pins,
			Note: "the package is its module's root: --keep " + pkg + " would name the module"}
	}
	return Remedy{Kind: RemedyKeep, Do: "plugfork fork --keep " + pkg, Pins: pins}
}

func callOr(r Registration) string {
	if r.Call != "" {
		return r.Call
	}
	return r.Package
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
