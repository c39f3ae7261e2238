package main

import (
	"fmt"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
)

func newUnforkCmd(inv *invocation) *cobra.Command {
	var (
		cfg    fork.Config
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "unfork [MODULE...]",
		Short: "Reverse forks: original imports and requires restored",
		Long: `Unfork reverses forks. With no arguments it reverses all of them: the host's
imports and go.mod requires return to what they were before the first fork
(byte-identical sources and go.mod; go.sum may keep extra lines), and the
fork dir and plugfork.lock are removed. With modules, only those are
unforked: they are recorded as --keep patterns so that later forks leave them
shared with plugins. The result is type-checked and swapped in atomically.`,
		Example: `  plugfork unfork
  plugfork unfork github.com/pkg/errors
  plugfork unfork --dry-run --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir, cfg.Env = inv.Dir, inv.Env
			res, err := fork.Unfork(cmd.Context(), cfg, args)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(inv.Stdout, res)
			}
			for _, m := range res.Unforked {
				fmt.Fprintf(inv.Stdout, "unforked %s\n", m)
			}
			verb := "restored"
			if res.DryRun {
				verb = "would restore"
			}
			fmt.Fprintf(inv.Stdout, "%s imports in %s; %s\n", verb, plural.S(len(res.HostFiles), "host file"), plural.Count(res.Remaining, "fork remains", "forks remain"))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&cfg.DryRun, "dry-run", "n", false, "print what would be unforked, write nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.UnforkSchema+")")
	return cmd
}
