package pluginbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	modpath "golang.org/x/mod/module"
)

// hostVersion splits a --host of the form MODULE@VERSION; ok is false for a
// directory (one that exists is a directory even with an @ in its name).
func hostVersion(dir, host string) (path, version string, ok bool) {
	path, version, ok = strings.Cut(host, "@")
	if !ok || version == "" || modpath.CheckPath(path) != nil {
		return "", "", false
	}
	if _, err := os.Stat(absFrom(dir, host)); err == nil {
		return "", "", false
	}
	return path, version, true
}

// locateHost returns the host's root directory for --host: the directory
// named, or, for MODULE@VERSION, the version's source in the module cache,
// downloaded as the go command downloads it (the user's GOPROXY, GOPRIVATE,
// GONOSUMDB, GOFLAGS), and the version then ("" for a directory). A
// download says so on progress, when not nil.
func locateHost(ctx context.Context, dir, host string, env []string, progress io.Writer) (root, version string, err error) {
	path, query, ok := hostVersion(dir, host)
	if !ok {
		return absFrom(dir, host), "", nil
	}
	report(progress, "downloading the host %s", host)
	d, err := gocmd.Runner{Env: env}.Download(ctx, path, query)
	if err != nil {
		return "", "", fmt.Errorf("downloading --host %s: %w\nname a version the module proxy serves, or the directory of a checkout of the host", host, err)
	}
	return d.Dir, d.Version, nil
}

// name is the host as messages name it: MODULE@VERSION for a published
// version, its directory otherwise.
func (h *host) name() string {
	if h.version != "" {
		return h.path + "@" + h.version
	}
	return h.root
}

// checkReplaced refuses a host whose go.mod replaces modules with
// directories that are not there: forks as nested modules, left out of a
// published version (every module zip leaves out nested modules), or a
// checkout whose forks were removed.
func (h *host) checkReplaced(ctx context.Context) error {
	var forks, others []string
	for _, r := range h.file.Replace {
		if r.New.Version != "" {
			continue
		}
		dir := r.New.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(h.root, filepath.FromSlash(dir))
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		line := r.Old.Path + " => " + r.New.Path
		if h.forked(r.Old.Path) {
			forks = append(forks, line)
		} else {
			others = append(others, line)
		}
	}
	if len(forks)+len(others) == 0 {
		return nil
	}
	slices.Sort(forks)
	slices.Sort(others)
	published := h.version != "" || h.inModCache(ctx)
	var b strings.Builder
	switch {
	case len(forks) > 0 && published:
		fmt.Fprintf(&b, "--host %s: the host's forks are nested modules (each with its own go.mod), and a published version leaves nested modules out, so it has none of them; its go.mod replaces them with directories that are not there:\n", h.name())
	case len(forks) > 0:
		fmt.Fprintf(&b, "--host %s: the host's go.mod replaces its forks with directories that are not there:\n", h.name())
	case published:
		fmt.Fprintf(&b, "--host %s: the published version does not hold the directories its go.mod replaces modules with:\n", h.name())
	default:
		fmt.Fprintf(&b, "--host %s: the host's go.mod replaces modules with directories that are not there:\n", h.name())
	}
	for _, l := range append(forks, others...) {
		fmt.Fprintf(&b, "\t%s\n", l)
	}
	at := "that version"
	if h.version != "" {
		at = h.version
	}
	switch {
	case len(forks) > 0 && published:
		fmt.Fprintf(&b, "Two ways out: in the host, fork with plugfork fork --layout inline (the forks become packages of the host module, which its published versions carry) and tag a new version; or build against a checkout of the host at %s, with --host DIR.", at)
	case len(forks) > 0:
		b.WriteString("Run plugfork fork in the host to make them again.")
	case published:
		fmt.Fprintf(&b, "A plugin cannot build against this version; build against a checkout of the host at %s, with those directories beside it, with --host DIR.", at)
	default:
		b.WriteString("Put them back, or drop the replace directives, in the host.")
	}
	return errors.New(b.String())
}

// inModCache reports whether the host's directory is in the module cache:
// a published version, named by its directory.
func (h *host) inModCache(ctx context.Context) bool {
	vars, err := gocmd.Runner{Dir: h.root, Env: h.env}.GoEnv(ctx, "GOMODCACHE")
	if err != nil || vars[0] == "" {
		return false
	}
	rel, err := filepath.Rel(vars[0], h.root)
	return err == nil && rel != "." && !strings.HasPrefix(rel, "..")
}
