package fork

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/pkgpath"
	"github.com/plugfork/plugfork/internal/swap"
	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/packages"
)

// verify settles the staged host's go.mod and go.sum as go mod tidy has
// them, makes sure tidy moved nothing plugfork did not fork, and
// type-checks the forked host. It returns the go.mod the host gets.
func (s *session) verify(ctx context.Context, st *swap.Stage, wired []byte, prefix string) ([]byte, error) {
	if err := s.tidy(ctx, st, wired, prefix); err != nil {
		return nil, err
	}
	errs, err := typecheck(ctx, st.Dir, withModFlag(s.cfg.Env, "readonly"), []string{"./..."})
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
		if before, err := typecheck(ctx, s.h.Root, withModFlag(s.cfg.Env, mode), []string{"./..."}); err == nil && len(before) > 0 && s.h.Lock == nil {
			tc.BrokeBefore, tc.Errors = true, before
		}
		return nil, tc
	}
	return st.HostGoMod()
}

// tidy runs go mod tidy in the stage and makes sure it only settled go.sum
// and indirect markers: a change of the go line or of a version of a module
// plugfork did not fork would be a bug, and is refused.
func (s *session) tidy(ctx context.Context, st *swap.Stage, want []byte, prefix string) error {
	if _, err := s.runner(st).Run(ctx, "mod", "tidy"); err != nil {
		return fmt.Errorf("settling go.mod of the forked host: %w", err)
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
		return fmt.Errorf("go mod tidy would change the go line from %q to %q after forking (a plugfork bug); nothing was changed", goLine(a), goLine(b))
	}
	versions := map[string]string{}
	for _, req := range a.Require {
		versions[req.Mod.Path] = req.Mod.Version
	}
	for _, req := range b.Require {
		if v, ok := versions[req.Mod.Path]; !ok || v != req.Mod.Version {
			if pkgpath.Within(req.Mod.Path, prefix) && req.Mod.Path != prefix {
				continue
			}
			return fmt.Errorf("go mod tidy would require %s %s after forking (a plugfork bug or an untidy host: run go mod tidy first); nothing was changed", req.Mod.Path, req.Mod.Version)
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

// typecheck loads the packages matching patterns in dir and type-checks
// them and all their dependencies, as the compiler does (types come from
// export data, so this is a build without the link). It returns every
// package error, with positions relative to dir, sorted and de-duplicated.
func typecheck(ctx context.Context, dir string, env []string, patterns []string) ([]PackageError, error) {
	cfg := &packages.Config{
		Context: ctx,
		Dir:     dir,
		Env:     env,
		Mode:    packages.NeedName | packages.NeedImports | packages.NeedDeps | packages.NeedTypes,
		Tests:   false,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	seen := map[PackageError]bool{}
	var errs []PackageError
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			pe := PackageError{Msg: strings.ReplaceAll(e.Msg, dir+string(filepath.Separator), "")}
			if e.Pos != "" {
				pe.Pos = e.Pos
				if rel, err := filepath.Rel(dir, e.Pos); err == nil && !strings.HasPrefix(rel, "..") {
					pe.Pos = filepath.ToSlash(rel)
				}
			}
			if !seen[pe] {
				seen[pe] = true
				errs = append(errs, pe)
			}
		}
	})
	slices.SortFunc(errs, func(a, b PackageError) int { return strings.Compare(a.String(), b.String()) })
	return errs, nil
}
