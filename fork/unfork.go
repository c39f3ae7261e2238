package fork

import (
	"context"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/swap"
)

// UnforkResult is what an unfork did.
type UnforkResult struct {
	Schema    string   `json:"schema"`
	Unforked  []string `json:"unforked"`             // upstream module paths, shared with plugins again
	Remaining int      `json:"remaining"`            // forks left
	HostFiles []string `json:"host_files,omitempty"` // host files whose imports were restored
	Changed   bool     `json:"changed"`
	DryRun    bool     `json:"dry_run,omitempty"`
	Millis    int64    `json:"ms"`
}

// UnforkSchema versions the JSON form of UnforkResult.
const UnforkSchema = "plugfork/unfork/v1"

// Unfork reverses forks. With no modules, all of them: the host's imports
// and requires are restored as they were before the first fork (fork then
// unfork gives back byte-identical sources and go.mod), the fork dir and
// the lock are removed. With modules, only those: they become --keep
// patterns in the lock, so later forks leave them shared, and the rest is
// re-forked around them. Either way the result is type-checked and swapped
// in atomically.
func Unfork(ctx context.Context, cfg Config, modules []string) (*UnforkResult, error) {
	start := time.Now()
	s, err := openForked(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	old := s.h.Lock
	modules = slices.Compact(slices.Sorted(slices.Values(modules))) // each once: a module named twice is not two forks
	for _, m := range modules {
		if old.Find(m) == nil {
			return nil, fmt.Errorf("%s is not forked (see plugfork status)", m)
		}
	}
	res := &UnforkResult{Schema: UnforkSchema, DryRun: cfg.DryRun}
	if len(modules) > 0 && len(modules) < len(old.Forks) {
		set, err := newSettings(cfg, old)
		if err != nil {
			return nil, err
		}
		set.Keep = append(slices.Clone(set.Keep), modules...)
		fr, _, err := s.fork(ctx, set, nil)
		if err != nil {
			return nil, err
		}
		res.Unforked = modules
		res.Remaining = len(fr.Forks)
		res.HostFiles = fr.HostFiles
		res.Changed = fr.Changed
		res.Millis = time.Since(start).Milliseconds()
		return res, nil
	}

	// Everything: the upstream view is the result.
	for _, f := range old.Forks {
		res.Unforked = append(res.Unforked, f.Path)
	}
	st, err := s.upstreamView(old.Dir)
	if err != nil {
		return nil, err
	}
	changed, err := changedHostFiles(st, s.h.Root)
	if err != nil {
		return nil, err
	}
	res.HostFiles = changed
	if cfg.DryRun {
		res.Millis = time.Since(start).Milliseconds()
		return res, nil
	}
	// go.sum needs the upstream modules' sums back: -mod=mod lets the
	// go command add them while it type-checks.
	if errs, err := typeCheck(ctx, st.Dir, gocmd.WithModFlag(cfg.Env, "mod"), []string{"./..."}, s.progress); err != nil {
		return nil, err
	} else if len(errs) > 0 {
		return nil, &TypeCheckError{Errors: errs}
	}
	gomod, err := st.HostGoMod()
	if err != nil {
		return nil, err
	}
	var j swap.Journal
	for _, rel := range changed {
		j.Rename(swap.StagedPath(rel), rel)
	}
	if s.h.Vendor {
		if err := s.refreshVendor(ctx, st, &j); err != nil {
			return nil, err
		}
	}
	if err := st.WriteFile("go.mod", gomod); err != nil {
		return nil, err
	}
	j.Rename(swap.StagedPath("go.mod"), "go.mod")
	j.Rename(swap.StagedPath("go.sum"), "go.sum")
	j.Remove(old.Dir)
	j.Prune(path.Dir(old.Dir))
	j.Remove(LockFile)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := j.Commit(s.h.Root); err != nil {
		return nil, err
	}
	res.Changed = true
	res.Millis = time.Since(start).Milliseconds()
	return res, nil
}
