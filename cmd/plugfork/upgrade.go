package main

import (
	"fmt"

	"github.com/plugfork/plugfork/fork"
	"github.com/spf13/cobra"
)

func newUpgradeCmd(inv *invocation) *cobra.Command {
	var (
		cfg    fork.Config
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "upgrade MODULE@QUERY...",
		Short: "Re-fork modules at new versions",
		Long: `Upgrade moves forked modules to new versions, with queries as go get takes
them (a version, latest, patch, or a downgrade). The go command's minimal
version selection over the upstream requirements decides every transitive
change: forks are added for new dependencies and dropped for ones no longer
needed. The result is type-checked and swapped in as fork does; an upgrade
that breaks the host's build is refused with the compiler's errors.`,
		Example: `  plugfork upgrade github.com/pkg/errors@v0.9.1
  plugfork upgrade golang.org/x/sys@latest go.uber.org/zap@patch
  plugfork upgrade github.com/pkg/errors@v0.8.0 --dry-run`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir, cfg.Env = inv.Dir, inv.Env
			if !asJSON && isTerminal(inv.Stderr) {
				cfg.Progress = inv.Stderr
			}
			res, err := fork.Upgrade(cmd.Context(), cfg, args)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(inv.Stdout, res)
			}
			tw := newTable(inv.Stdout, 1)
			for _, c := range res.Changes {
				switch {
				case c.Old == "":
					fmt.Fprintf(tw, "%s\t\t=> %s\t(new fork)\n", c.Path, c.New)
				case c.New == "":
					fmt.Fprintf(tw, "%s\t%s\t=>\t(fork removed)\n", c.Path, c.Old)
				default:
					fmt.Fprintf(tw, "%s\t%s\t=> %s\t\n", c.Path, c.Old, c.New)
				}
			}
			tw.Flush()
			switch {
			case len(res.Changes) == 0:
				fmt.Fprintln(inv.Stdout, "no version changed")
			case res.DryRun:
				fmt.Fprintln(inv.Stdout, "dry run: nothing written")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&cfg.DryRun, "dry-run", "n", false, "print the version changes, write nothing")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.ResultSchema+", with changes)")
	return cmd
}
