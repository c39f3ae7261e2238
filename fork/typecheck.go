package fork

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
)

// typecheck loads the packages matching patterns in dir and type-checks
// them and all their dependencies, as the compiler does (types come from
// export data, so this is a build without the link). It returns every
// package error, as "file:line:col: msg" with files relative to dir, sorted
// and de-duplicated.
func typecheck(ctx context.Context, dir string, env []string, patterns []string) ([]string, error) {
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
	seen := map[string]bool{}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			msg := e.Error()
			if e.Pos != "" {
				pos := e.Pos
				if rel, err := filepath.Rel(dir, pos); err == nil && !strings.HasPrefix(rel, "..") {
					pos = filepath.ToSlash(rel)
				}
				msg = pos + ": " + e.Msg
			}
			msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
			if !seen[msg] {
				seen[msg] = true
				errs = append(errs, msg)
			}
		}
	})
	slices.Sort(errs)
	return errs, nil
}
