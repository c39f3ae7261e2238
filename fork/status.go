package fork

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/hostmodel"
	"github.com/plugfork/plugfork/internal/lockfile"
	"golang.org/x/mod/semver"
)

// StatusSchema versions the JSON form of StatusResult.
const StatusSchema = "plugfork/status/v1"

// StatusResult lists the forks of a host.
type StatusResult struct {
	Schema string       `json:"schema"`
	Prefix string       `json:"prefix"`
	Dir    string       `json:"dir"`
	Layout string       `json:"layout,omitempty"` // LayoutInline, or none: nested modules
	Keep   []string     `json:"keep,omitempty"`
	Scope  *Scope       `json:"scope,omitempty"` // the builds the forks hold; nil: every build
	Forks  []StatusFork `json:"forks"`
	// Surface is what host and plugins share, with why.
	Surface []Surface `json:"surface,omitempty"`
	// Platform is the GOOS/GOARCH the surface was proved on.
	Platform string `json:"proved_on,omitempty"`
}

// StatusFork is one fork's state.
type StatusFork struct {
	Path     string `json:"path"`
	Version  string `json:"version"`
	ForkPath string `json:"fork_path"`
	Dir      string `json:"dir"`
	Packages int    `json:"packages"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"bytes"`
	Latest   string `json:"latest,omitempty"` // with updates: the newest upstream version, when newer
	Error    string `json:"error,omitempty"`  // with updates: why the newest version is unknown
	// Vulns are the advisories the database knows in the upstream
	// version, when asked (plugfork status --vuln; see KnownVulns).
	Vulns []KnownVuln `json:"vulns,omitempty"`
}

// Status reports the forks recorded in the lock and their size on disk.
// With updates, it asks the go command (so GOPROXY, GOPRIVATE and GOFLAGS
// apply) for the newest upstream version of each.
func Status(ctx context.Context, dir string, env []string, updates bool) (*StatusResult, error) {
	h, err := hostmodel.Find(dir)
	if err != nil {
		return nil, err
	}
	root, lock := h.Root, h.Lock
	if lock == nil {
		return nil, ErrNotForked
	}
	res := &StatusResult{Schema: StatusSchema, Prefix: lock.Prefix, Dir: lock.Dir, Layout: lock.Layout, Keep: lock.Keep}
	if len(lock.Platforms) > 0 || len(lock.Tags) > 0 {
		res.Scope = &Scope{Platforms: lock.Platforms, Tags: lock.Tags}
	}
	for _, f := range lock.Forks {
		sf := StatusFork{Path: f.Path, Version: f.Version, ForkPath: f.ForkPath, Dir: f.ForkDir, Packages: f.Packages}
		forkDir := filepath.Join(root, filepath.FromSlash(f.ForkDir))
		files, _ := lockfile.TreeFiles(forkDir)
		for _, name := range files {
			if fi, err := os.Stat(filepath.Join(forkDir, filepath.FromSlash(name))); err == nil {
				sf.Files++
				sf.Bytes += fi.Size()
			}
		}
		res.Forks = append(res.Forks, sf)
	}
	res.Surface, res.Platform = lockSurface(h.Surface()), lock.Platform
	if updates && len(res.Forks) > 0 {
		args := []string{"list", "-m", "-e", "-json"}
		for _, f := range res.Forks {
			args = append(args, f.Path+"@latest")
		}
		byPath := map[string]*StatusFork{}
		for i := range res.Forks {
			byPath[res.Forks[i].Path] = &res.Forks[i]
		}
		type listed struct {
			Path, Version string
			Error         *struct{ Err string }
		}
		// Outside the host's build list: a query per module, as go get resolves it.
		r := gocmd.Runner{Dir: root, Env: env}
		err := gocmd.JSON(ctx, r, func(m *listed) error {
			sf := byPath[m.Path]
			switch {
			case sf == nil:
			case m.Error != nil:
				sf.Error = m.Error.Err
			case semver.Compare(m.Version, sf.Version) > 0:
				sf.Latest = m.Version
			}
			return nil
		}, args...)
		if err != nil {
			return nil, fmt.Errorf("looking up upstream versions: %w", err)
		}
	}
	return res, nil
}
