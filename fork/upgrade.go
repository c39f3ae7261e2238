package fork

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/lockfile"
	"golang.org/x/mod/module"
)

// UpgradeResult is what an upgrade did: the fork's result and the version
// changes of forked modules.
type UpgradeResult struct {
	*Result
	Changes []VersionChange `json:"changes"`
}

// VersionChange is one module moving from one version to another; an empty
// Old is a new fork, an empty New a fork dropped.
type VersionChange struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Upgrade re-forks the host with the upstream modules moved as "go get"
// moves them for the queries (path@version, path@latest, path@patch, a
// downgrade): the go command's minimal version selection over the upstream
// requirements decides every transitive change, then the fork is redone,
// type-checked and swapped in as Fork does.
func Upgrade(ctx context.Context, cfg Config, queries []string) (*UpgradeResult, error) {
	if len(queries) == 0 {
		return nil, fmt.Errorf("no MODULE@QUERY given")
	}
	for _, q := range queries {
		path, vers, ok := strings.Cut(q, "@")
		if !ok || vers == "" {
			return nil, fmt.Errorf("%s: want MODULE@QUERY (a version, latest, patch)", q)
		}
		if err := module.CheckPath(path); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	s, err := openForked(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var modules []string
	for _, q := range queries {
		path, _, _ := strings.Cut(q, "@")
		modules = append(modules, path)
	}
	if err := notForked(s.h.Lock, modules); err != nil {
		return nil, err
	}
	set, err := newSettings(cfg, s.h.Lock, s.h.Path)
	if err != nil {
		return nil, err
	}
	res, lock, err := s.fork(ctx, set, queries)
	if err != nil {
		return nil, err
	}
	if lock == nil { // a dry run: the plan's versions
		lock = &lockfile.Lock{}
		for _, f := range res.Forks {
			lock.Forks = append(lock.Forks, lockfile.Fork{Path: f.Path, Version: f.Version})
		}
	}
	return &UpgradeResult{Result: res, Changes: versionChanges(s.h.Lock, lock)}, nil
}

func versionChanges(old, cur *lockfile.Lock) []VersionChange {
	var out []VersionChange
	seen := map[string]bool{}
	for _, f := range cur.Forks {
		seen[f.Path] = true
		o := old.Find(f.Path)
		switch {
		case o == nil:
			out = append(out, VersionChange{Path: f.Path, New: f.Version})
		case o.Version != f.Version:
			out = append(out, VersionChange{Path: f.Path, Old: o.Version, New: f.Version})
		}
	}
	for _, f := range old.Forks {
		if !seen[f.Path] {
			out = append(out, VersionChange{Path: f.Path, Old: f.Version})
		}
	}
	slices.SortFunc(out, func(a, b VersionChange) int { return strings.Compare(a.Path, b.Path) })
	return out
}
