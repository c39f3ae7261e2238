package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
		// Shell completion is cobra's, not plugfork's: it stays
		// available as "plugfork completion", but help lists only
		// plugfork's own commands.
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{err}
	})
	root.SetUsageFunc(writeUsage)
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		text := cmd.Long
		if text == "" {
			text = cmd.Short
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s\n\n", strings.TrimSpace(text))
		writeUsage(cmd)
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

// goStyleArgs rewrites the long flags of the command args name written with
// one dash, as the go command writes them (-json, -binary=x), to the two
// dashes the flag parser wants. A one-letter flag (-v, -o) stays, and so does
// a flag's value given as the next argument and everything after "--". The go
// command never groups one-letter flags, so neither does plugfork.
func goStyleArgs(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil {
		return args
	}
	cmd.InitDefaultHelpFlag()
	lookup := func(name string) *pflag.Flag {
		for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()} {
			if f := fs.Lookup(name); f != nil {
				return f
			}
			if len(name) == 1 {
				if f := fs.ShorthandLookup(name); f != nil {
					return f
				}
			}
		}
		return nil
	}
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "--") && len(name) > 1 {
			a = "-" + a
		}
		out = append(out, a)
		if f := lookup(name); f != nil && !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			// The value is the next argument, even when it starts with a dash
			// (-ldflags "-s -w").
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// writeUsage writes cmd's usage, its flags as a Go user reads them: a
// one-letter flag with one dash, a flag that takes no value without a
// placeholder.
func writeUsage(cmd *cobra.Command) error {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Usage:\n")
	if cmd.Runnable() {
		fmt.Fprintf(w, "  %s\n", cmd.UseLine())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "  %s [command]\n", cmd.CommandPath())
	}
	if cmd.HasExample() {
		fmt.Fprintf(w, "\nExamples:\n%s\n", cmd.Example)
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nCommands:\n")
		tw := newTable(w, 3)
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				fmt.Fprintf(tw, "  %s\t%s\n", c.Name(), c.Short)
			}
		}
		tw.Flush()
	}
	if cmd.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\nFlags:\n")
		writeFlags(w, cmd.LocalFlags())
	}
	if cmd.HasAvailableInheritedFlags() {
		fmt.Fprintf(w, "\nGlobal flags:\n")
		writeFlags(w, cmd.InheritedFlags())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nRun \"%s COMMAND --help\" for more about a command.\n", cmd.CommandPath())
	}
	return nil
}

// writeFlags writes one line per flag: -o file, --host directory, -h, --help.
func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	tw := newTable(w, 3)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		var name string
		switch {
		case len(f.Name) == 1:
			name = "-" + f.Name
		case f.Shorthand != "":
			name = "-" + f.Shorthand + ", --" + f.Name
		default:
			name = "--" + f.Name
		}
		placeholder, usage := pflag.UnquoteUsage(f)
		if f.NoOptDefVal == "" && placeholder != "" {
			if placeholder == "stringArray" {
				placeholder = "string"
			}
			name += " " + placeholder
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	})
	tw.Flush()
}
