package fork

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"golang.org/x/mod/modfile"
)

// host is the host module as found on disk.
type host struct {
	Root   string // absolute directory of go.mod
	GoMod  []byte
	File   *modfile.File
	Path   string // module path
	Vendor bool   // a vendor directory is in use
	Lock   *Lock  // nil before the first fork
	env    []string
}

// findHost locates the host module containing dir and reads its go.mod and
// lock. It refuses workspaces: go.work changes what the build list is.
func findHost(ctx context.Context, dir string, env []string) (*host, error) {
	out, err := gocmd.Runner{Dir: dir, Env: env}.Run(ctx, "env", "GOMOD", "GOWORK")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(out))+"\n", "\n")
	gomod, gowork := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
	if gomod == "" || gomod == os.DevNull {
		return nil, fmt.Errorf("%s is not in a Go module (no go.mod): run plugfork in the host module's root", dir)
	}
	if gowork != "" && gowork != "off" {
		return nil, fmt.Errorf("a go.work file is in effect (%s): plugfork forks one module; run it with GOWORK=off", gowork)
	}
	h := &host{Root: filepath.Dir(gomod), env: env}
	h.GoMod, err = os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	h.File, err = modfile.Parse(gomod, h.GoMod, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing go.mod: %w", err)
	}
	if h.File.Module == nil {
		return nil, fmt.Errorf("%s: no module directive", gomod)
	}
	h.Path = h.File.Module.Mod.Path
	if fi, err := os.Stat(filepath.Join(h.Root, "vendor")); err == nil && fi.IsDir() {
		h.Vendor = true
	}
	data, err := os.ReadFile(filepath.Join(h.Root, LockFile))
	switch {
	case err == nil:
		h.Lock, err = ParseLock(filepath.Join(h.Root, LockFile), data)
		if err != nil {
			return nil, err
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	return h, nil
}

// hostSources returns the names of the Go and assembly files in a host
// package directory, sorted: the files plugfork rewrites.
func hostSources(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if _, ok := rewritable(e.Name()); ok && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// hostFiles returns the Go and assembly files of every package of the
// module in dir (see walkHost), relative and slash-separated, sorted.
func hostFiles(dir string) ([]string, error) {
	rels, err := walkHost(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, rel := range rels {
		names, err := hostSources(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			files = append(files, path.Join(rel, n))
		}
	}
	return files, nil
}

// withModFlag returns env with GOFLAGS's -mod set to mode, keeping the
// user's other flags (-tags, say): plugfork decides whether the go command
// may write go.mod, the user decides the rest.
func withModFlag(env []string, mode string) []string {
	var flags []string
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			flags = nil
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "--mod=") {
					flags = append(flags, f)
				}
			}
			continue
		}
		out = append(out, kv)
	}
	flags = append(flags, "-mod="+mode)
	return append(out, "GOFLAGS="+strings.Join(flags, " "))
}
