package fork

import (
	"context"
	"fmt"
	"go/types"
	"os"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/pkgpath"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/internal/typecheck"
	"golang.org/x/mod/modfile"
)

// verify settles the staged host's go.mod and go.sum as go mod tidy has
// them, makes sure tidy moved nothing plugfork did not fork, and
// type-checks the forked host, handing api each package's API (nil: no
// need). It returns the go.mod the host gets.
func (s *session) verify(ctx context.Context, st *swap.Stage, wired []byte, prefix string, api func(*types.Package)) ([]byte, error) {
	if err := s.tidy(ctx, st, wired, prefix, false); err != nil {
		return nil, err
	}
	return s.checkStage(ctx, st, api)
}

// checkStage type-checks the staged host, whose go.mod and go.sum are
// settled, handing api each package's API (nil: no need), and returns the
// go.mod the host gets.
func (s *session) checkStage(ctx context.Context, st *swap.Stage, api func(*types.Package)) ([]byte, error) {
	errs, err := typeCheck(ctx, st.Dir, gocmd.WithModFlag(s.cfg.Env, "readonly"), []string{"./..."}, s.progress, api)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		tc := &TypeCheckError{Errors: errs}
		// Did it build before? Asked of the host itself, which must not
		// change: read-only (or vendor, as the host builds).
		mode := "readonly"
		if s.h.Vendor {
			mode = "vendor"
		}
		if before, err := typeCheck(ctx, s.h.Root, gocmd.WithModFlag(s.cfg.Env, mode), []string{"./..."}, nil, nil); err == nil && len(before) > 0 && s.h.Lock == nil {
			tc.BrokeBefore, tc.Errors = true, before
		}
		return nil, tc
	}
	return st.HostGoMod()
}

// tidy runs go mod tidy in the stage and makes sure it only settled go.sum
// and indirect markers: a change of the go line or of a version of a module
// plugfork did not fork would be a bug, and is refused. With restore (an
// unfork), tidy may also add back requires that no fork needs but the
// upstream modules do (what only their tests import), as the fork's tidy
// dropped them.
func (s *session) tidy(ctx context.Context, st *swap.Stage, want []byte, prefix string, restore bool) error {
	what := "forking"
	if restore {
		what = "unforking"
	}
	if _, err := s.runner(st).Run(ctx, "mod", "tidy"); err != nil {
		return fmt.Errorf("settling go.mod after %s: %w", what, err)
	}
	got, err := os.ReadFile(st.Path("go.mod"))
	if err != nil {
		return err
	}
	a, err := modfile.Parse("go.mod", want, nil)
	if err != nil {
		return err
	}
	b, err := modfile.Parse("go.mod", got, nil)
	if err != nil {
		return err
	}
	if goLine(a) != goLine(b) {
		return fmt.Errorf("go mod tidy would change the go line from %q to %q after %s (a plugfork bug); nothing was changed", goLine(a), goLine(b), what)
	}
	versions := map[string]string{}
	for _, req := range a.Require {
		versions[req.Mod.Path] = req.Mod.Version
	}
	for _, req := range b.Require {
		if v, ok := versions[req.Mod.Path]; !ok || v != req.Mod.Version {
			if pkgpath.Within(req.Mod.Path, prefix) && req.Mod.Path != prefix || restore && !ok {
				continue
			}
			return fmt.Errorf("go mod tidy would require %s %s after %s (a plugfork bug or an untidy host: run go mod tidy first); nothing was changed", req.Mod.Path, req.Mod.Version, what)
		}
	}
	return nil
}

func goLine(f *modfile.File) string {
	if f.Go == nil {
		return ""
	}
	return f.Go.Version
}

// typeCheck type-checks the packages matching patterns in dir and all
// they import (see package typecheck: from source, in dependency order, in
// bounded memory), and returns every error, with positions relative to
// dir, sorted and de-duplicated. progress, when set, hears how many
// packages are checked; api, when set, gets each package's API.
func typeCheck(ctx context.Context, dir string, env []string, patterns []string, progress func(string, ...any), api func(*types.Package)) ([]PackageError, error) {
	cfg := typecheck.Config{Dir: dir, Env: env, Patterns: patterns, API: api}
	if progress != nil {
		cfg.Progress = func(done, total int) { progress("type-checked %d/%d packages", done, total) }
	}
	errs, err := typecheck.Check(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out := make([]PackageError, len(errs))
	for i, e := range errs {
		out[i] = PackageError{Pos: e.Pos, Msg: e.Msg}
	}
	return out, nil
}
