package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
)

func newForkCmd(inv *invocation) *cobra.Command {
	var (
		cfg    fork.Config
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "fork [packages]",
		Short: "Fork the host's third-party dependencies into a private namespace",
		Long: `Fork forks every third-party module that provides a package in the import
closure of the host's packages (default ./...) into the private namespace
PREFIX/<module path>, rewrites imports in the forks and in the host, wires
go.mod with a require and a replace per fork, records plugfork.lock, and
type-checks the result before changing anything. A re-run reconciles: new
third-party imports are forked, forks no longer needed are removed, and
nothing changes when nothing has to.`,
		Example: `  # First fork: the prefix is remembered in plugfork.lock.
  plugfork fork --prefix gitlab.example.com/workflow

  # After go get of a new dependency: absorb it.
  plugfork fork

  # Keep the plugin API shared with plugins, show the plan only.
  plugfork fork --keep example.com/api/... --dry-run

  # Machine-readable result with per-phase timings.
  plugfork fork --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir = inv.Dir
			cfg.Env = inv.Env
			cfg.Patterns = args
			cfg.KeepSet = cmd.Flags().Changed("keep")
			if !asJSON && isTerminal(inv.Stderr) {
				cfg.Progress = inv.Stderr
			}
			res, err := fork.Fork(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(inv.Stdout, res)
			}
			renderFork(inv.Stdout, res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Prefix, "prefix", "", "private import-path `prefix` of the forks (required the first time, then remembered)")
	f.StringVar(&cfg.ForkDir, "dir", "", "`directory` of the forks, relative to the host root (default "+fork.DefaultDir+")")
	f.StringArrayVar(&cfg.Keep, "keep", nil, "`pattern` of packages or modules to leave shared with plugins (repeatable)")
	f.BoolVar(&cfg.Tests, "tests", false, "keep _test.go files and testdata in forks")
	f.BoolVar(&cfg.Whole, "whole-modules", false, "copy every file of forked modules, not only the closure's packages (_test.go files only with --tests)")
	f.BoolVarP(&cfg.DryRun, "dry-run", "n", false, "print the plan, write nothing")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.ResultSchema+")")
	return cmd
}

func renderFork(w io.Writer, res *fork.Result) {
	verb := "forked"
	if res.DryRun {
		verb = "would fork"
	}
	if res.Recovered {
		fmt.Fprintln(w, "finished an interrupted plugfork run first")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range res.Forks {
		status := string(f.Status)
		if f.Previous != "" {
			status = f.Previous + " => " + f.Version
		}
		if res.DryRun {
			status = "plan"
		}
		fmt.Fprintf(tw, "%s\t%s@%s\t%s\t%s\t%s\n", verb, f.Path, f.Version, f.Dir, plural.S(f.Packages, "pkg"), status)
	}
	for _, p := range res.Removed {
		fmt.Fprintf(tw, "removed\t%s\t\t\t\n", p)
	}
	for _, p := range res.Pinned {
		fmt.Fprintf(tw, "pinned\t%s@%s\t(plugins must use exactly this version)\t%s\t\n", p.Module, p.Version, plural.S(len(p.Packages), "pkg"))
	}
	tw.Flush()
	for _, f := range res.Findings {
		fmt.Fprintf(w, "%s: %s\n", f.Pos, f.Message)
	}
	if n := len(res.Exposed); n > 0 {
		var names []string
		for _, e := range res.Exposed[:min(n, 3)] {
			names = append(names, e.Package+" ("+strings.Join(e.Forks, ", ")+")")
		}
		more := ""
		if n > 3 {
			more = fmt.Sprintf(", +%d more", n-3)
		}
		fmt.Fprintf(w, "plugins: %s: %s%s\n", plural.Count(n, "host package that plugins can import uses forks", "host packages that plugins can import use forks"), strings.Join(names, "; "), more)
		fmt.Fprintf(w, "\tbuild plugins that import them with plugfork plugin build --host <this module>, or the wiring of plugfork plugin env\n")
	}
	for _, h := range res.Hazards {
		where := h.Pos
		if where == "" {
			where = h.Module
		}
		fmt.Fprintf(w, "%s: hazard: %s\n", where, h.Message)
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(w, "dry run: %s would be forked under %s; nothing written\n", plural.S(len(res.Forks), "module"), res.Prefix)
	case !res.Changed:
		fmt.Fprintf(w, "up to date: %s under %s\n", plural.S(len(res.Forks), "fork"), res.Prefix)
	default:
		fmt.Fprintf(w, "%s under %s in %s; %s rewritten\n", plural.S(len(res.Forks), "fork"), res.Prefix, res.Dir, plural.S(len(res.HostFiles), "host file"))
	}
}
