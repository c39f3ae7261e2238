package pluginbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"

	"github.com/plugfork/plugfork/internal/gocmd"
	"golang.org/x/mod/modfile"
)

// EnvConfig says which host plugin env describes.
type EnvConfig struct {
	Dir        string   // the directory relative paths are taken from
	Env        []string // the go command's environment
	Host       string   // the host module's directory, or MODULE@VERSION
	HostBinary string   // the built host; "" for none
	// Progress, when set, receives one line per step of long work.
	Progress io.Writer
}

// EnvResult is what a plugin build must use to build plugins that load
// into the host, for build systems that do not call plugfork. Its JSON
// form is EnvSchema.
type EnvResult struct {
	Schema string   `json:"schema"`
	Host   HostInfo `json:"host"`
	// Workspace is a go.work for the plugin module's root: it uses the
	// plugin (".") and the host, so the host's packages compile from its
	// source and its go.mod replaces (the forks) apply.
	Workspace string `json:"workspace"`
	// Replace are the lines that do the same from the plugin's go.mod,
	// without a workspace: the host and its replacements, with absolute
	// directories. The host's own packages then match only without
	// -trimpath (see Notes).
	Replace []Replacement `json:"replace"`
	// Require are the modules a plugin shares with the host when it links
	// their packages: each at the host's version, which a plugin must
	// select exactly.
	Require []Requirement `json:"require"`
	Flags   []string      `json:"flags"`               // go build flags
	Env     []string      `json:"env"`                 // environment settings
	Go      string        `json:"toolchain,omitempty"` // the Go release (GOTOOLCHAIN) the host was built with
	Checked bool          `json:"checked"`             // flags, environment and versions come from the host binary
	Notes   []string      `json:"notes,omitempty"`
}

// Replacement is one replace line: Old => New.
type Replacement struct {
	Old string `json:"old"` // "path" or "path version"
	New string `json:"new"` // a directory, or "path version"
}

// Requirement is a module at a version.
type Requirement struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

// Env describes what a plugin build against the host must use.
func Env(ctx context.Context, cfg EnvConfig) (*EnvResult, error) {
	if cfg.Host == "" {
		return nil, errors.New("no --host: name the host module's directory")
	}
	h, err := readHost(ctx, cfg.Dir, cfg.Host, cfg.Env, cfg.Progress)
	if err != nil {
		return nil, err
	}
	if cfg.HostBinary != "" {
		if err := h.readBinary(cfg.Dir, cfg.HostBinary); err != nil {
			return nil, err
		}
	}
	// The host's Go release is what plugins must use, whatever this
	// machine's go command is: the result says so (GOTOOLCHAIN).
	goVersion := ""
	if h.bin != nil {
		goVersion = h.bin.GoVersion
	}
	fl, err := resolveFlags(Flags{}, cfg.Env, h.bin, goVersion)
	if err != nil {
		return nil, err
	}
	r := &EnvResult{
		Schema:  EnvSchema,
		Host:    h.info(),
		Flags:   append([]string{"-buildmode=plugin"}, fl.args()...),
		Env:     fl.env,
		Checked: h.bin != nil,
	}

	wf, err := gocmd.WorkFile(h.goVer, ".", h.root)
	if err != nil {
		return nil, err
	}
	r.Workspace = string(modfile.Format(wf.Syntax))

	r.Replace = append(r.Replace, Replacement{Old: h.path, New: h.root})
	for _, rp := range h.replaces() {
		old, nw := rp.Old.Path, rp.New.Path
		if rp.Old.Version != "" {
			old += " " + rp.Old.Version
		}
		if rp.New.Version != "" {
			nw += " " + rp.New.Version
		} else {
			nw = filepath.Clean(nw)
		}
		r.Replace = append(r.Replace, Replacement{Old: old, New: nw})
	}

	_, versions, err := h.links(ctx, fl.tags())
	if err != nil {
		return nil, err
	}
	for _, path := range slices.Sorted(maps.Keys(versions)) {
		if path != h.path && !h.forked(path) {
			r.Require = append(r.Require, Requirement{Path: path, Version: versions[path]})
		}
	}

	if h.bin != nil {
		r.Go = h.bin.GoVersion
		r.Env = append(r.Env, "GOTOOLCHAIN="+h.bin.GoVersion)
	} else {
		r.Notes = append(r.Notes, "without --host-binary the host's build settings and Go release are not known: build plugins with the ones the host is built with (-trimpath, -tags, -race, -gcflags, the toolchain), and the versions are the host's build list, not what its binary links")
	}
	if h.version != "" {
		r.Notes = append(r.Notes, fmt.Sprintf("the host is the published %s: the go.work uses its source in the module cache (read-only; go mod download -json %s prints where it is on each machine), so the host's packages compile as the host's own build compiles them only when the host is built with -trimpath from that version's source", h.name(), h.name()))
	}
	if r.Host.Forks > 0 {
		r.Notes = append(r.Notes, "the host is forked: a plugin that imports host packages needs the workspace (or the replace lines) to resolve the forks")
	}
	if note := h.scopeNote(); note != "" {
		r.Notes = append(r.Notes, note)
	}
	if fl.set["-trimpath"] == "true" {
		r.Notes = append(r.Notes, "the host is built with -trimpath: the host's own packages match only when the plugin builds in the workspace; the replace lines compile them as a dependency, recorded as module@version")
	}
	r.Notes = append(r.Notes, isolateEnvNote)
	return r, nil
}
