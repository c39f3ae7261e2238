package pluginbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/load"
	"github.com/plugfork/plugfork/internal/lockfile"
	"github.com/plugfork/plugfork/internal/modtree"
	"golang.org/x/mod/modfile"
)

// host is the host module a plugin is built against, and what it links.
type host struct {
	module
	file  *modfile.File
	model *hostmodel.Host
	lock  *lockfile.Lock  // the model's: nil for a host never forked
	bin   *inspect.Binary // nil without --host-binary
	env   []string        // the go command's environment, for the host's own view
	// version is the published version --host named (MODULE@VERSION),
	// whose source is in the module cache at root; "" for a directory.
	version string
}

// readHost reads the host module --host names, relative to dir: a
// directory, or MODULE@VERSION from the module cache, saying so on
// progress (when not nil) while it downloads.
func readHost(ctx context.Context, dir, spec string, env []string, progress io.Writer) (*host, error) {
	dir, version, err := locateHost(ctx, dir, spec, env, progress)
	if err != nil {
		return nil, err
	}
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--host %s: no such directory: name the host module's root directory, or MODULE@VERSION for a published version of it", dir)
	case err != nil:
		return nil, fmt.Errorf("reading --host: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("--host %s is a file, not a directory: name the host module's root directory", dir)
	}
	m, err := hostmodel.Read(dir)
	if errors.Is(err, modtree.ErrNotModule) {
		return nil, fmt.Errorf("--host %s is not a Go module (no go.mod): name the host module's root directory", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading --host: %w", err)
	}
	h := &host{module: module{root: dir, path: m.Path, gomod: m.GoMod}, file: m.File, model: m, lock: m.Lock, env: env, version: version}
	if m.File.Go != nil {
		h.goVer = m.File.Go.Version
	}
	if err := h.checkReplaced(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// readBinary reads the built host at file (named as the user named it,
// relative to dir) and checks that it is this host, able to load plugins,
// and, for a published version, built with -trimpath: a plugin compiles
// such a host's packages from the module cache, another directory.
func (h *host) readBinary(dir, name string) error {
	b, err := inspect.ReadFileIn(dir, name)
	if err == nil {
		err = b.HostError()
	}
	if err != nil {
		return fmt.Errorf("reading --host-binary: %w", err)
	}
	if b.Main.Path != h.path {
		return fmt.Errorf("--host-binary %s was built from %s, not from the host %s (%s): give the binary built from --host", name, b.Main.Path, h.path, h.name())
	}
	if h.version != "" && b.Setting("-trimpath") != "true" {
		return fmt.Errorf("--host-binary %s was built without -trimpath, and --host %s compiles the host's packages from the module cache, never from the directory the binary was built in: without -trimpath %s, so no package of the host could match\nbuild the host with -trimpath from %s's source (plugfork plugin build then takes it from the host binary), or give --host the checkout the binary was built in", name, h.name(), inspect.TrimpathWhy, h.name())
	}
	h.bin = b
	return nil
}

// hazards returns what the host's lock records of its forks'
// registrations, for inspect; nil for a host never forked.
func (h *host) hazards() *inspect.Hazards {
	return inspect.LockHazards(h.model)
}

// info is the HostInfo of a result.
func (h *host) info() HostInfo {
	hi := HostInfo{Path: h.path, Version: h.version, Dir: h.root}
	if h.lock != nil {
		hi.Prefix, hi.Forks = h.lock.Prefix, len(h.lock.Forks)
	}
	if h.bin != nil {
		hi.Binary, hi.Go = h.bin.Path, h.bin.GoVersion
	}
	return hi
}

// forked reports whether module path is one of the host's forks.
func (h *host) forked(path string) bool {
	_, ok := h.model.Upstream(path)
	return ok
}

// runner runs the go command in the host's own module, GOWORK off and
// without writing it.
func (h *host) runner() gocmd.Runner {
	return gocmd.Runner{Dir: h.root, Env: gocmd.Setenv(gocmd.WithModFlag(h.env, "readonly"), "GOWORK", "off")}
}

// links returns the packages the host links and the versions of their
// modules: from the binary, or, without one, from what the host module's
// packages import (more than one program of it may link; what no program
// links cannot collide). The host's own module and the standard library
// have no version.
func (h *host) links(ctx context.Context, tags string) (pkgs map[string]bool, versions map[string]string, err error) {
	pkgs, versions = map[string]bool{}, map[string]string{}
	if h.bin != nil {
		for _, p := range h.bin.Packages {
			pkgs[p.Path] = true
		}
		for _, m := range h.bin.Modules {
			versions[m.Path] = m.Version
		}
		return pkgs, versions, nil
	}
	var flags []string
	if tags != "" {
		flags = append(flags, "-tags="+tags)
	}
	r := h.runner()
	loaded, err := load.Packages(ctx, load.Config{Dir: r.Dir, Env: r.Env, BuildFlags: flags}, load.Name|load.Deps|load.Module, "./...")
	if err == nil {
		err = load.Errors(loaded)
	}
	if err != nil {
		if gosum := h.goSumError(ctx, err); gosum != nil {
			return nil, nil, gosum
		}
		return nil, nil, fmt.Errorf("listing the host's packages: %w", err)
	}
	for _, p := range loaded {
		pkgs[p.PkgPath] = true
		if p.Module != nil && p.Module.Version != "" {
			versions[p.Module.Path] = p.Module.Version
		}
	}
	return pkgs, versions, nil
}

// goSumError says plainly what a published host's incomplete go.sum means
// when err, from loading its packages, is the go command's "missing go.sum
// entry" (whose "go get" hint cannot apply inside the module cache); nil
// for any other error or host.
func (h *host) goSumError(ctx context.Context, err error) error {
	i := strings.Index(err.Error(), "missing go.sum entry")
	if i < 0 || h.version == "" && !h.inModCache(ctx) {
		return nil
	}
	// The go command's line, without its hint.
	msg := err.Error()
	line, _, _ := strings.Cut(msg[strings.LastIndexByte(msg[:i], '\n')+1:], "\n")
	line, _, _ = strings.Cut(line, "; to add")
	at := "that version"
	if h.version != "" {
		at = h.version
	}
	return fmt.Errorf("--host %s: the published version's go.sum lacks entries for modules it needs, so its packages cannot load from the module cache (read-only: the go command's hint to run go get there cannot apply):\n\t%s\nThe framework team must run go mod tidy in the host before tagging, and tag a new version. Meanwhile, build against a checkout of the host at %s, after go mod tidy there, with --host DIR", h.name(), line, at)
}

// replaces returns the host's replace directives with local directories
// made absolute, as a plugin's go.mod would have to hold them.
func (h *host) replaces() []*modfile.Replace {
	var out []*modfile.Replace
	for _, r := range h.file.Replace {
		r := *r
		if r.New.Version == "" && !filepath.IsAbs(r.New.Path) {
			r.New.Path = filepath.Join(h.root, filepath.FromSlash(r.New.Path))
		}
		out = append(out, &r)
	}
	return out
}
