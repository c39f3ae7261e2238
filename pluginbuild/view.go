package pluginbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/version"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/swap"
	"golang.org/x/mod/modfile"
)

// A view is the temporary workspace a plugin builds in, inside the plugin
// module's work dir: a go.work that uses the plugin and the host module (so
// the host's packages compile from its source, as the host's own build
// compiled them, and the host's go.mod replaces, the forks among them,
// apply), and an overlay that gives the plugin module an aligned go.mod
// and go.sum. The plugin's own files are never written.
type view struct {
	Dir      string // the view's directory
	work     string // its go.work
	gomod    string // the plugin's go.mod as the view has it
	gosum    string // the plugin's go.sum as the view has it
	overlay  string // the overlay that maps the plugin's go.mod and go.sum to the view's
	plugin   *module
	host     *host
	env      []string // the go command's environment in the view
	userWork string   // the user's go.work, combined into the view's; "" if none
	// hostReplaced lists the module paths whose replace directives the
	// alignment view copies from the host, those the plugin does not
	// replace itself.
	hostReplaced []string
	// workReplaced lists the module paths the view's go.work replaces by
	// the host's absolute directories, which -w leaves out.
	workReplaced []string
}

// newView makes the view of plugin p against host h, with the user's
// go.work in effect combined in ("" for none).
func newView(p *module, h *host, env []string, userWork string, fl resolvedFlags) (_ *view, err error) {
	work := filepath.Join(p.root, swap.WorkDir)
	if err := os.MkdirAll(work, 0o777); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(work, "plugin-")
	if err != nil {
		return nil, err
	}
	v := &view{Dir: dir, plugin: p, host: h, userWork: userWork}
	defer func() {
		if err != nil {
			v.remove()
		}
	}()
	v.work = filepath.Join(dir, "go.work")
	v.gomod = filepath.Join(dir, "go.mod")
	v.gosum = filepath.Join(dir, "go.sum")
	v.overlay = filepath.Join(dir, "overlay.json")

	workData, err := v.workFile()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(v.work, workData, 0o666); err != nil {
		return nil, err
	}
	if err := os.WriteFile(v.gomod, p.gomod, 0o666); err != nil {
		return nil, err
	}
	sum, err := os.ReadFile(filepath.Join(p.root, "go.sum"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.WriteFile(v.gosum, sum, 0o666); err != nil {
		return nil, err
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(p.root, "go.mod"): v.gomod,
		filepath.Join(p.root, "go.sum"): v.gosum,
	}})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(v.overlay, ov, 0o666); err != nil {
		return nil, err
	}
	v.env = gocmd.Setenv(gocmd.WithModFlag(fl.goflags(env), ""), "GOWORK", v.work)
	for _, kv := range fl.env {
		k, val, _ := strings.Cut(kv, "=")
		v.env = gocmd.Setenv(v.env, k, val)
	}
	f, err := hostmodel.ParseGoMod("go.mod", p.gomod)
	if err != nil {
		return nil, err
	}
	replaced := map[string]bool{}
	for _, r := range f.Replace {
		replaced[r.Old.Path] = true
	}
	for _, r := range h.file.Replace {
		if !replaced[r.Old.Path] {
			v.hostReplaced = append(v.hostReplaced, r.Old.Path)
		}
	}
	return v, nil
}

// workFile returns the view's go.work: the plugin and the host module, and
// the user's own workspace, if one is in effect, combined in.
func (v *view) workFile() ([]byte, error) {
	goVer := maxGo(v.plugin.goVer, v.host.goVer)
	uses := []string{v.plugin.root, v.host.root}
	var uw *modfile.WorkFile
	if v.userWork != "" {
		data, err := os.ReadFile(v.userWork)
		if err != nil {
			return nil, fmt.Errorf("reading the go.work in effect: %w", err)
		}
		if uw, err = modfile.ParseWork(v.userWork, data, nil); err != nil {
			return nil, fmt.Errorf("reading the go.work in effect: %w", err)
		}
		if uw.Go != nil {
			goVer = maxGo(goVer, uw.Go.Version)
		}
		base := filepath.Dir(v.userWork)
		for _, u := range uw.Use {
			dir := absFrom(base, filepath.FromSlash(u.Path))
			if dir == v.plugin.root || dir == v.host.root {
				continue
			}
			m, err := readModule(dir)
			if err != nil {
				return nil, fmt.Errorf("%s: use %s: %w", v.userWork, u.Path, err)
			}
			if m.path == v.host.path {
				return nil, fmt.Errorf("the go.work in effect (%s) uses the host module %s from %s, but --host is %s: point --host there, or drop it from go.work", v.userWork, m.path, dir, v.host.root)
			}
			goVer = maxGo(goVer, m.goVer)
			uses = append(uses, dir)
		}
	}
	wf, err := gocmd.WorkFile(goVer, uses...)
	if err != nil {
		return nil, err
	}
	// The host's directory replacements (its forks) as absolute
	// directories: they apply from the host's go.mod anyway, but the go
	// command records a relative one in the plugin's build information
	// relative to this temporary go.work, which would then name it.
	for _, r := range v.host.replaces() {
		if r.New.Version == "" && !slices.ContainsFunc(uwReplaces(uw), func(u *modfile.Replace) bool { return u.Old.Path == r.Old.Path }) {
			if err := wf.AddReplace(r.Old.Path, r.Old.Version, filepath.Clean(r.New.Path), ""); err != nil {
				return nil, err
			}
			v.workReplaced = append(v.workReplaced, r.Old.Path)
		}
	}
	if uw != nil {
		if uw.Toolchain != nil {
			if err := wf.AddToolchainStmt(uw.Toolchain.Name); err != nil {
				return nil, err
			}
		}
		for _, r := range uw.Replace {
			newPath := r.New.Path
			if r.New.Version == "" && !filepath.IsAbs(newPath) {
				newPath = absFrom(filepath.Dir(v.userWork), filepath.FromSlash(newPath))
			}
			if err := wf.AddReplace(r.Old.Path, r.Old.Version, newPath, r.New.Version); err != nil {
				return nil, err
			}
		}
	}
	wf.Cleanup()
	return modfile.Format(wf.Syntax), nil
}

// uwReplaces returns the replace directives of the user's go.work, if any.
func uwReplaces(uw *modfile.WorkFile) []*modfile.Replace {
	if uw == nil {
		return nil
	}
	return uw.Replace
}

// maxGo returns the later of two go versions ("1.22", "1.22.3"), as written,
// ordered as the go command orders them ("1.26" before "1.26rc1" before
// "1.26.0"); an empty one loses.
func maxGo(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case version.Compare("go"+a, "go"+b) < 0:
		return b
	}
	return a
}

// runner runs the go command in the plugin module, in the view.
func (v *view) runner() gocmd.Runner { return gocmd.Runner{Dir: v.plugin.root, Env: v.env} }

// run runs a go subcommand in the view, with the overlay.
func (v *view) run(ctx context.Context, sub string, args ...string) ([]byte, error) {
	return v.runner().Run(ctx, append([]string{sub, "-overlay=" + v.overlay}, args...)...)
}

// remove removes the view, and the plugin's work dir if nothing else is in it.
func (v *view) remove() {
	os.RemoveAll(v.Dir)
	os.Remove(filepath.Dir(v.Dir))
}
