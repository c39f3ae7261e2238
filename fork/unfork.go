package fork

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/plugfork/plugfork/internal/lockfile"
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
	if err := notForked(old, modules); err != nil {
		return nil, err
	}
	res := &UnforkResult{Schema: UnforkSchema, DryRun: cfg.DryRun}
	if len(modules) > 0 && len(modules) < len(old.Forks) {
		set, err := newSettings(cfg, old, s.h.Path)
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
	changed, err := changedHostFiles(st, s.h.Root, old.Dir)
	if err != nil {
		return nil, err
	}
	res.HostFiles = changed
	if cfg.DryRun {
		res.Millis = time.Since(start).Milliseconds()
		return res, nil
	}
	// The same phases as a fork's, without the forks: go mod tidy brings
	// back the upstream modules' go.mod and go.sum lines, the host
	// type-checks, and the swap removes the fork dir and the lock.
	unwired, err := os.ReadFile(st.Path("go.mod"))
	if err != nil {
		return nil, err
	}
	if err := s.tidy(ctx, st, unwired, old.Prefix, true); err != nil {
		return nil, err
	}
	gomod, err := s.checkStage(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	if _, err := s.apply(ctx, st, nil, gomod); err != nil {
		return nil, err
	}
	res.Changed = true
	res.Millis = time.Since(start).Milliseconds()
	return res, nil
}

// notForked is the error of a command naming modules the lock does not
// fork (upgrade and unfork say it alike), nil when it forks all of them.
// It names what is forked.
func notForked(lock *lockfile.Lock, modules []string) error {
	var missing []string
	for _, m := range modules {
		if lock.Find(m) == nil {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	const shown = 5
	var forked []string
	for _, f := range lock.Forks[:min(shown, len(lock.Forks))] {
		forked = append(forked, f.Path)
	}
	list := strings.Join(forked, ", ")
	if n := len(lock.Forks) - shown; n > 0 {
		list += fmt.Sprintf(" and %d more", n)
	}
	return fmt.Errorf("%s %s not forked: the forked modules are %s (see plugfork status)", strings.Join(missing, ", "), verb, list)
}
