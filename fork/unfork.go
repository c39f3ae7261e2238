package fork

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"time"
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
	r, err := newRunLocked(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.cleanup()
	old := r.h.Lock
	for _, m := range modules {
		if old.Find(m) == nil {
			return nil, fmt.Errorf("%s is not forked (see plugfork status)", m)
		}
	}
	res := &UnforkResult{Schema: UnforkSchema, DryRun: cfg.DryRun}
	if len(modules) > 0 && len(modules) < len(old.Forks) {
		r.lock.Keep = append(slices.Clone(r.lock.Keep), modules...)
		fr, err := r.fork(ctx)
		if err != nil {
			return nil, err
		}
		res.Unforked = slices.Clone(modules)
		slices.Sort(res.Unforked)
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
	if err := r.upstreamView(ctx); err != nil {
		return nil, err
	}
	changed, err := r.changedHostFiles()
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
	if errs, err := typecheck(ctx, r.st.Dir, withModFlag(cfg.Env, "mod"), []string{"./..."}); err != nil {
		return nil, err
	} else if len(errs) > 0 {
		return nil, &TypeCheckError{Errors: errs}
	}
	gomod, err := r.st.unstageGoMod()
	if err != nil {
		return nil, err
	}
	var j journal
	for _, rel := range changed {
		j.rename(path.Join(workDir, "stage", rel), rel)
	}
	if err := r.st.writeFile("go.mod", gomod); err != nil {
		return nil, err
	}
	j.rename(path.Join(workDir, "stage", "go.mod"), "go.mod")
	j.rename(path.Join(workDir, "stage", "go.sum"), "go.sum")
	j.remove(old.Dir)
	j.remove(LockFile)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := j.commit(r.h.Root); err != nil {
		return nil, err
	}
	res.Changed = true
	res.Millis = time.Since(start).Milliseconds()
	return res, nil
}

// newRunLocked is newRun for commands that need a lock.
func newRunLocked(ctx context.Context, cfg Config) (*run, error) {
	r, err := newRun(ctx, cfg)
	if errors.Is(err, errNoPrefix) {
		return nil, fmt.Errorf("nothing is forked here (no %s)", LockFile)
	}
	if err != nil {
		return nil, err
	}
	if r.h.Lock == nil {
		r.cleanup()
		return nil, fmt.Errorf("nothing is forked here (no %s)", LockFile)
	}
	return r, nil
}

// changedHostFiles returns the host's Go and assembly files that differ
// between the stage and the host.
func (r *run) changedHostFiles() ([]string, error) {
	files, err := hostFiles(r.st.Dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rel := range files {
		same, err := sameFile(r.st.path(rel), filepath.Join(r.h.Root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		if !same {
			out = append(out, rel)
		}
	}
	return out, nil
}
