// Package load reads package metadata for plugfork: the one place the go
// command lists packages, through golang.org/x/tools/go/packages, with the
// modes each caller asks for and never syntax or types.
package load

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"golang.org/x/tools/go/packages"
)

// The modes callers combine: what go list is asked for.
const (
	Name          = packages.NeedName
	Files         = packages.NeedFiles
	CompiledFiles = packages.NeedCompiledGoFiles
	Deps          = packages.NeedImports | packages.NeedDeps // the imports, resolved, and all they import
	Module        = packages.NeedModule
	ExportFile    = packages.NeedExportFile
	Embeds        = packages.NeedEmbedPatterns
)

// Config says where and how to load.
type Config struct {
	Dir string   // the directory the go command runs in
	Env []string // its environment; nil means this process's
	// BuildFlags are go build flags: -tags=a,b, -trimpath,
	// -overlay=file.
	BuildFlags []string
}

// Packages loads the packages patterns match, with what mode asks for.
// When mode has Deps, it returns them and all they import, in dependency
// order: each after every package it imports, the last matched package
// last; otherwise the matched packages, in the go command's order. A package that does not load has its errors in Errors, as
// go list -e reports them, with their positions as the go command gives
// them (relative to Dir below it). The error is for the go command
// failing as a whole: it quotes the go command's standard error.
func Packages(ctx context.Context, cfg Config, mode packages.LoadMode, patterns ...string) ([]*packages.Package, error) {
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	// The go command decides, not a driver the user set for editors.
	env = gocmd.Setenv(env, "GOPACKAGESDRIVER", "off")
	roots, err := packages.Load(&packages.Config{
		Context:    ctx,
		Mode:       mode,
		Dir:        cfg.Dir,
		Env:        env,
		BuildFlags: cfg.BuildFlags,
	}, patterns...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, listError(err, cfg.BuildFlags, patterns)
	}
	if mode&packages.NeedDeps == 0 {
		return roots, nil
	}
	var out []*packages.Package
	packages.Visit(roots, nil, func(p *packages.Package) { out = append(out, p) })
	return out, nil
}

// listError returns the go command's failure that go/packages reports
// ("err: exit status 1: stderr: ...") as a *gocmd.Error, as every other
// go command plugfork runs fails.
func listError(err error, flags, patterns []string) error {
	msg := err.Error()
	const sep = ": stderr: "
	i := strings.Index(msg, sep)
	if !strings.HasPrefix(msg, "err: ") || i < 0 {
		return err
	}
	args := append(append([]string{"list"}, flags...), patterns...)
	return &gocmd.Error{Args: args, Stderr: msg[i+len(sep):], Err: msg[len("err: "):i]}
}

// Errors returns the errors of pkgs as go list without -e reports them,
// one a line, "file:line:col: message" or "package: message", sorted and
// each once; nil when every package loaded.
func Errors(pkgs []*packages.Package) error {
	var lines []string
	for _, p := range pkgs {
		for _, e := range p.Errors {
			if e.Kind != packages.ListError {
				continue
			}
			msg := strings.TrimSpace(e.Msg)
			if e.Pos != "" {
				lines = append(lines, e.Pos+": "+msg)
			} else {
				lines = append(lines, p.PkgPath+": "+msg)
			}
		}
	}
	if len(lines) == 0 {
		return nil
	}
	slices.Sort(lines)
	return errors.New(strings.Join(slices.Compact(lines), "\n"))
}
