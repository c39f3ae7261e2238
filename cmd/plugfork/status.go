package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
	"golang.org/x/mod/module"
)

func newStatusCmd(inv *invocation) *cobra.Command {
	var (
		updates bool
		asJSON  bool
		vulns   bool
		db      string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the forks: upstream versions, fork paths, where they live",
		Long: `Status lists the forks plugfork.lock records: the upstream path@version, the
fork's module path, its directory, and its files and size on disk. With -u it
also asks the go command (GOPROXY, GOPRIVATE and GOFLAGS apply) for the newest
upstream version of each; plugfork upgrade moves to it. With --vuln it asks the
vulnerability database (--db, as govulncheck's -db) which advisories affect
each fork's upstream version, whether or not the host calls them (plugfork
vuln says that); without --vuln, status uses no network.`,
		Example: `  plugfork status
  plugfork status -u
  plugfork status --json
  plugfork status --vuln`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := fork.Status(cmd.Context(), inv.Dir, inv.Env, updates)
			if err != nil {
				return err
			}
			if vulns {
				if err := addKnownVulns(cmd.Context(), inv, res, db); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(inv.Stdout, res)
			}
			tw := newTable(inv.Stdout, 2)
			fmt.Fprintf(tw, "UPSTREAM\tFORK\tDIR\tFILES\tSIZE")
			if updates {
				fmt.Fprintf(tw, "\tUPDATE")
			}
			if vulns {
				fmt.Fprintf(tw, "\tVULNERABILITIES")
			}
			fmt.Fprintln(tw)
			for _, f := range res.Forks {
				fmt.Fprintf(tw, "%s@%s\t%s\t%s\t%d\t%s", f.Path, f.Version, f.ForkPath, f.Dir, f.Files, fork.FormatSize(f.Bytes))
				if updates {
					switch {
					case f.Latest != "":
						fmt.Fprintf(tw, "\t%s", f.Latest)
					case f.Error != "":
						fmt.Fprintf(tw, "\t(%s)", f.Error)
					default:
						fmt.Fprintf(tw, "\tup to date")
					}
				}
				if vulns {
					fmt.Fprintf(tw, "\t%s", knownVulnsText(f.Vulns))
				}
				fmt.Fprintln(tw)
			}
			tw.Flush()
			layout := ""
			if res.Layout == fork.LayoutInline {
				layout = " (inline: packages of the host module)"
			}
			fmt.Fprintf(inv.Stdout, "%s under %s in %s%s\n", plural.S(len(res.Forks), "fork"), res.Prefix, res.Dir, layout)
			if sc := res.Scope; sc != nil {
				fmt.Fprintf(inv.Stdout, "scope: %s\n", sc)
			}
			renderSurface(inv.Stdout, res.Surface, res.Platform, nil)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&updates, "updates", "u", false, "show the newest upstream versions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.StatusSchema+")")
	cmd.Flags().BoolVar(&vulns, "vuln", false, "show the advisories the vulnerability database knows in each fork's upstream version")
	cmd.Flags().StringVar(&db, "db", fork.DefaultVulnDB, "with --vuln, the vulnerability database `url` (file:///path for a local one)")
	return cmd
}

// addKnownVulns fills in each fork's advisories from the database.
func addKnownVulns(ctx context.Context, inv *invocation, res *fork.StatusResult, db string) error {
	var mods []module.Version
	for _, f := range res.Forks {
		mods = append(mods, module.Version{Path: f.Path, Version: f.Version})
	}
	known, err := fork.KnownVulns(ctx, inv.Env, db, mods)
	if err != nil {
		return err
	}
	for i := range res.Forks {
		res.Forks[i].Vulns = known[res.Forks[i].Path]
	}
	return nil
}

// knownVulnsText lists advisories by ID with their fixed versions.
func knownVulnsText(vulns []fork.KnownVuln) string {
	if len(vulns) == 0 {
		return "none known"
	}
	var s []string
	for _, v := range vulns {
		if v.Fixed != "" {
			s = append(s, v.ID+" (fixed in "+v.Fixed+")")
		} else {
			s = append(s, v.ID+" (no fix)")
		}
	}
	return strings.Join(s, ", ")
}
