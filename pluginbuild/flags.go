package pluginbuild

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/gocmd"
)

// Flags are the go build flags a plugin build was given.
type Flags struct {
	// Set holds the flags that enter package fingerprints, by the key go
	// version -m prints them under ("-trimpath": "true", "-tags": "a,b",
	// "-gcflags": "all=-N -l"); also "-asmflags" and "-coverpkg", which a
	// binary does not record.
	Set map[string]string
	// Extra are the other go build flags, passed through as given
	// ("-v", "-ldflags=-s -w", "-p=2").
	Extra []string
}

// fingerprintFlags are the go build flags whose values enter package
// fingerprints and that a binary records, in the order they are passed.
var fingerprintFlags = []string{"-trimpath", "-race", "-msan", "-asan", "-tags", "-gcflags"}

// unrecorded are fingerprint flags no binary records: a build checked
// against a host binary cannot tell whether they match it.
var unrecorded = []string{"-asmflags", "-coverpkg"}

// IsFingerprintFlag reports whether a go build flag, named without its
// dashes ("trimpath"), enters package fingerprints: Flags.Set holds it.
func IsFingerprintFlag(name string) bool {
	return slices.Contains(fingerprintFlags, "-"+name) || slices.Contains(unrecorded, "-"+name)
}

// GoBuildFlags are the go build flags a plugin build takes, beside its own,
// named without their dashes: name -> whether it takes a value (-tags=x)
// rather than standing alone (-trimpath).
var GoBuildFlags = map[string]bool{
	"trimpath": false, "race": false, "msan": false, "asan": false, "cover": false, "a": false, "v": false, "x": false, "work": false,
	"tags": true, "gcflags": true, "asmflags": true, "ldflags": true, "coverpkg": true, "buildvcs": true, "pgo": true, "p": true,
}

// NewFlags classifies the go build flags given, by name (without dashes,
// one of GoBuildFlags) with their values ("true" for one standing alone):
// those that enter fingerprints into Set, the others into Extra, as the go
// command takes them, sorted.
func NewFlags(given map[string]string) Flags {
	fl := Flags{Set: map[string]string{}}
	for name, v := range given {
		switch {
		case IsFingerprintFlag(name):
			fl.Set["-"+name] = v
		case !GoBuildFlags[name] && v == "true":
			fl.Extra = append(fl.Extra, "-"+name)
		default:
			fl.Extra = append(fl.Extra, "-"+name+"="+v)
		}
	}
	slices.Sort(fl.Extra)
	return fl
}

// resolvedFlags are the build settings a plugin build uses.
type resolvedFlags struct {
	set   map[string]string // fingerprint flags, as Flags.Set
	extra []string
	env   []string // environment settings: CGO_ENABLED=1, GOEXPERIMENT=..., GOOS, GOARCH
	notes []string
	// userTags are the tags the user gave where the host binary's differ;
	// the build refuses them if they change a shared package's files.
	userTags *string
}

// resolveFlags decides the build settings: the host binary's, where one
// is given (refusing flags and settings that would make the plugin's
// fingerprints differ, with the reason), else the flags as given. Flags
// in GOFLAGS count as given.
func resolveFlags(given Flags, env []string, bin *inspect.Binary, goVersion string) (resolvedFlags, error) {
	set := map[string]string{}
	for _, f := range strings.Fields(gocmd.Getenv(env, "GOFLAGS")) {
		k, v, ok := strings.Cut(strings.TrimPrefix(f, "-"), "=")
		k = "-" + strings.TrimPrefix(k, "-")
		if slices.Contains(fingerprintFlags, k) || slices.Contains(unrecorded, k) {
			if !ok {
				v = "true"
			}
			set[k] = v
		}
	}
	for k, v := range given.Set {
		set[k] = v
	}
	for k, v := range set {
		if v == "false" || v == "" && k != "-tags" {
			delete(set, k)
		}
	}
	r := resolvedFlags{extra: given.Extra, env: []string{"CGO_ENABLED=1"}}
	if bin == nil {
		r.set = set
		return r, nil
	}

	// Checked against the host binary.
	if bin.GoVersion != goVersion {
		return r, fmt.Errorf("the host was built with %s, this go command is %s: a plugin built by another Go release does not load into the host; run plugfork plugin build with GOTOOLCHAIN=%s in the environment", bin.GoVersion, goVersion, bin.GoVersion)
	}
	for _, k := range unrecorded {
		if v, ok := set[k]; ok {
			return r, fmt.Errorf("%s=%s: %s changes the fingerprints of the packages it applies to, and a host binary does not record it, so plugfork cannot check it matches the host's build; build without it (or without --host-binary, unchecked)", k, v, k)
		}
	}
	r.set = map[string]string{}
	for _, k := range fingerprintFlags {
		want := bin.Setting(k)
		if v, ok := set[k]; ok && normalize(k, v) != normalize(k, want) {
			if k == "-tags" {
				r.userTags = &v
			} else {
				return r, fmt.Errorf("%s: %s", flagText(k, v), mismatchReason(k, want))
			}
		}
		if want != "" {
			r.set[k] = want
		}
	}
	for _, k := range []string{"GOEXPERIMENT", "GOOS", "GOARCH"} {
		want := bin.Setting(k)
		if have := gocmd.Getenv(env, k); have != "" && have != want {
			return r, fmt.Errorf("%s=%s: the host was built with %s=%s; a plugin must match it (%s)", k, have, k, orNone(want), mismatchReason(k, want))
		}
		if want != "" {
			r.env = append(r.env, k+"="+want)
		}
	}
	return r, nil
}

// normalize returns a flag value in a form two equal settings share.
func normalize(k, v string) string {
	if k == "-tags" {
		tags := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		slices.Sort(tags)
		return strings.Join(slices.Compact(tags), ",")
	}
	return strings.TrimSpace(v)
}

// mismatchReason says why a setting must be the host's.
func mismatchReason(k, want string) string {
	w := "without it"
	if want != "" {
		w = "with " + flagText(k, want)
	}
	switch k {
	case "-trimpath":
		return "the host was built " + w + ", and -trimpath on one side only changes the source positions in the export data of every package, the standard library's too: no package would match"
	case "-race", "-msan", "-asan":
		return "the host was built " + w + ", which changes the code and export data of every package"
	case "-gcflags":
		return "the host was built " + w + ", and compiler flags change the inlining and export data of the packages they apply to"
	case "GOEXPERIMENT":
		return "experiments change the runtime and export data"
	}
	return "the host was built " + w
}

func flagText(k, v string) string {
	switch {
	case v == "true":
		return k
	case v == "":
		return "no " + k
	}
	return k + "=" + v
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// args returns the go build flags, -buildmode=plugin aside.
func (r resolvedFlags) args() []string {
	var out []string
	for _, k := range append(slices.Clone(fingerprintFlags), unrecorded...) {
		v, ok := r.set[k]
		switch {
		case !ok:
		case v == "true":
			out = append(out, k)
		default:
			out = append(out, k+"="+v)
		}
	}
	return append(out, r.extra...)
}

// tags returns the build tags the build uses.
func (r resolvedFlags) tags() string { return r.set["-tags"] }

// goflags returns env with the fingerprint flags taken out of GOFLAGS:
// the build passes them itself, as resolved.
func (r resolvedFlags) goflags(env []string) []string {
	var flags []string
	for _, f := range strings.Fields(gocmd.Getenv(env, "GOFLAGS")) {
		k, _, _ := strings.Cut(strings.TrimPrefix(f, "-"), "=")
		k = "-" + strings.TrimPrefix(k, "-")
		if !slices.Contains(fingerprintFlags, k) && !slices.Contains(unrecorded, k) {
			flags = append(flags, f)
		}
	}
	return gocmd.Setenv(env, "GOFLAGS", strings.Join(flags, " "))
}
