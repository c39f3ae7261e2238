package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
)

func newVulnCmd(inv *invocation) *cobra.Command {
	var (
		cfg    fork.VulnConfig
		asJSON bool
		format string
		show   []string
	)
	cmd := &cobra.Command{
		Use:   "vuln [packages]",
		Short: "Find known vulnerabilities in the forked host as if it were not forked",
		Long: `Vuln runs govulncheck on the host as if it were not forked. Scanners look a
fork up under its own module path, which no vulnerability database knows, so
govulncheck on a forked host says "No vulnerabilities found" even when the host
calls a vulnerable function of a forked module. Vuln analyses the upstream view
of the host instead (the lock's forks undone in a private stage, as unfork
makes it): the reachability is govulncheck's own (called, imported, required),
and each finding names the upstream module@version the database knows, the
fork's path and directory, and the host's call sites as file:line in the
forked tree. With --binary it reads a built host's modules and symbols, names
each fork's by its upstream module at the locked version, and checks those.

The database is govulncheck's: --db as its -db (a file:// URL works offline).
Exit 0 when no vulnerable symbol is called, 1 when one is, 2 on errors.`,
		Example: `  plugfork vuln
  plugfork vuln ./cmd/...
  plugfork vuln --show verbose
  plugfork vuln --binary ./bin/host
  plugfork vuln --db file:///srv/vulndb --json
  plugfork vuln --format sarif > vuln.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir, cfg.Env, cfg.Patterns = inv.Dir, inv.Env, args
			verbose := false
			for _, s := range show {
				for _, v := range strings.Split(s, ",") {
					switch v {
					case "verbose":
						verbose = true
					default:
						return usageError{fmt.Errorf("--show %s: want verbose", v)}
					}
				}
			}
			out, err := outputFormat(format, asJSON)
			if err != nil {
				return err
			}
			if cfg.Binary != "" && len(args) > 0 {
				return usageError{fmt.Errorf("--binary takes no packages: the binary is what is scanned")}
			}
			if out == "text" && isTerminal(inv.Stderr) {
				cfg.Progress = inv.Stderr
			}
			res, err := fork.Vuln(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			switch out {
			case "json":
				err = writeJSON(inv.Stdout, res)
			case "sarif":
				err = writeVulnSARIF(inv.Stdout, res)
			default:
				renderVuln(inv.Stdout, res, verbose)
			}
			if err == nil && res.Called {
				return errFindings
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DB, "db", fork.DefaultVulnDB, "vulnerability database `url` (file:///path for a local one)")
	f.StringVar(&cfg.Binary, "binary", "", "scan this built host `file` instead of the source")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.VulnSchema+"); as --format json")
	f.StringVar(&format, "format", "", "output `format`: text, json or sarif (SARIF 2.1.0, the host's call sites as locations)")
	f.StringSliceVar(&show, "show", nil, "`verbose`: also list the vulnerabilities in packages imported or modules required but not called")
	return cmd
}

// renderVuln prints the advisories the host calls, with their traces, then
// (verbose) those it only imports or requires, as govulncheck groups them.
func renderVuln(w io.Writer, res *fork.VulnResult, verbose bool) {
	var called, imported, required []fork.Advisory
	for _, v := range res.Vulns {
		switch v.Level {
		case fork.LevelCalled:
			called = append(called, v)
		case fork.LevelImported:
			imported = append(imported, v)
		default:
			required = append(required, v)
		}
	}
	if len(called) == 0 {
		fmt.Fprintln(w, "No vulnerable symbol is called.")
	}
	for _, v := range called {
		renderAdvisory(w, v)
		for _, t := range v.Traces {
			sink := t.Frames[0]
			caller := t.Frames[len(t.Frames)-1]
			for _, fr := range t.Frames[1:] {
				if fr.Pos == t.Site {
					caller = fr
					break
				}
			}
			pos := caller.Pos
			if pos == "" {
				pos = "(no position)"
			}
			fmt.Fprintf(w, "    %s: %s calls %s\n", pos, caller.Symbol(), sink.Symbol())
		}
	}
	if verbose {
		for _, group := range []struct {
			title string
			vulns []fork.Advisory
		}{{"in packages the host imports, not called", imported}, {"in modules the host requires, not imported", required}} {
			if len(group.vulns) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s %s:\n", plural.Count(len(group.vulns), "vulnerability", "vulnerabilities"), group.title)
			for _, v := range group.vulns {
				renderAdvisory(w, v)
			}
		}
	} else if n := len(imported) + len(required); n > 0 {
		fmt.Fprintf(w, "%s in packages the host imports or modules it requires, not called (--show verbose lists them).\n", plural.Count(n, "more vulnerability", "more vulnerabilities"))
	}
}

// renderAdvisory prints an advisory's header: ID, upstream module@version
// and fix, summary, and the fork that holds the module.
func renderAdvisory(w io.Writer, v fork.Advisory) {
	fixed := "no fix"
	if v.Fixed != "" {
		fixed = "fixed in " + v.Fixed
	}
	fmt.Fprintf(w, "%s %s@%s (%s): %s\n", v.ID, v.Module, v.Version, fixed, v.Summary)
	if v.ForkPath != "" {
		fmt.Fprintf(w, "    forked as %s in %s\n", v.ForkPath, v.ForkDir)
	}
	if v.URL != "" {
		fmt.Fprintf(w, "    %s\n", v.URL)
	}
}
