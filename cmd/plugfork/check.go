package main

import (
	"fmt"
	"strings"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
)

func newCheckCmd(inv *invocation) *cobra.Command {
	var (
		cfg    fork.CheckConfig
		binary string
		asJSON bool
		format string
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "CI gate: fail if anything is unforked, drifted or miswired",
		Long: `Check is the CI gate. It exits 1 with findings when a host package or a fork
imports a third-party package that is neither forked nor kept (on any
GOOS/GOARCH and build tag: every file is read), when a fork's files differ
from what plugfork generated (naming the files), when a fork directory is
missing or unknown, when go.mod's requires and replaces disagree with
plugfork.lock, or when a module of the shared surface is required at another
version than the fork proved. With --binary it also reads a built host and
reports every linked third-party package that is shared with plugins, and,
for a host built with -trimpath, every package of the shared surface whose
fingerprint is not the one the fork proved. It runs no go command
and no network: fast enough for a pre-commit hook.`,
		Example: `  plugfork check
  plugfork check --json
  plugfork check --binary ./bin/host
  plugfork check --keep example.com/api/...`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir = inv.Dir
			out, err := outputFormat(format, asJSON)
			if err != nil {
				return err
			}
			if binary != "" {
				// A host that cannot load plugins cannot collide with them.
				b, err := inspect.ReadFileIn(inv.Dir, binary)
				if err == nil {
					err = b.HostError()
				}
				if err != nil {
					return fmt.Errorf("reading --binary: %w", err)
				}
				cfg.Binary = b.Built()
			}
			res, err := fork.Check(cfg)
			if err != nil {
				return err
			}
			switch out {
			case "json":
				err = writeJSON(inv.Stdout, res)
			case "sarif":
				err = writeCheckSARIF(inv.Stdout, res)
			default:
				renderCheck(inv, res)
			}
			if err != nil {
				return err
			}
			if !res.OK {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&binary, "binary", "", "also judge the packages linked into this built host `file`")
	cmd.Flags().StringArrayVar(&cfg.Keep, "keep", nil, "`pattern` of packages allowed to stay shared, beyond plugfork.lock's (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.CheckSchema+"); as --format json")
	cmd.Flags().StringVar(&format, "format", "", "output `format`: text, json or sarif (SARIF 2.1.0, findings located in the host repository)")
	return cmd
}

func renderCheck(inv *invocation, res *fork.CheckResult) {
	w := inv.Stdout
	for _, f := range res.Findings {
		where := f.Pos
		if where == "" {
			where = f.Path
		}
		if where != "" {
			where += ": "
		}
		fmt.Fprintf(w, "%s%s: %s\n", where, f.Kind, f.Message)
		if len(f.Files) > 0 {
			fmt.Fprintf(w, "\t%s\n", strings.Join(f.Files, "\n\t"))
		}
		fmt.Fprintf(w, "\tfix: %s\n", f.Fix)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s: %s: %s\n\t%s\n", n.Pos, n.Kind, n.Message, n.Fix)
	}
	if res.OK {
		fmt.Fprintf(w, "ok: %s, %s checked in %dms\n", plural.S(res.Forks, "fork"), plural.S(res.Files, "file"), res.Millis)
	} else {
		fmt.Fprintf(w, "%s: %s, %s checked in %dms\n", plural.S(len(res.Findings), "finding"), plural.S(res.Forks, "fork"), plural.S(res.Files, "file"), res.Millis)
	}
}
