package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd(inv *invocation) *cobra.Command {
	root := &cobra.Command{
		Use:   "plugfork",
		Short: "Fork a Go plugin host's dependencies so that plugins built with other versions load",
		Long: `plugfork ends "plugin was built with a different version of package X".
It forks the host's third-party dependencies into a private import-path namespace,
so host and plugins no longer share them, and checks built binaries before plugin.Open does.

Exit status: 0 success, 1 findings (check or inspect found a problem), 2 usage or operational error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(
		newVersionCmd(),
		newForkCmd(inv),
		newUpgradeCmd(inv),
		newUnforkCmd(inv),
		newCheckCmd(inv),
		newStatusCmd(inv),
		newInspectCmd(inv),
		newVulnCmd(inv),
		newSBOMCmd(inv),
		newPluginCmd(inv),
	)
	return root
}

// exactArgs is cobra.ExactArgs with the usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// minArgs is cobra.MinimumNArgs with the usage exit code.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
