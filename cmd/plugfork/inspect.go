package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
)

func newInspectCmd(inv *invocation) *cobra.Command {
	var (
		asJSON bool
		lock   string
	)
	cmd := &cobra.Command{
		Use:   "inspect HOST [PLUGIN...]",
		Short: "Predict from the built binaries whether plugins will load into a host, and why not",
		Long: `Inspect reads a plugin host and plugins (ELF binaries, stripped ones too) and
predicts what plugin.Open does when the host loads the plugins in the given
order: for each plugin, loads or fails, and for a failure every package whose
fingerprint differs (plugin.Open reports only the first), grouped by cause
(module version, toolchain, build settings, another source, an earlier plugin,
the same plugin path twice), each with its fix.

A plugin whose package registers a name at init (a database/sql driver, a
pattern on http.DefaultServeMux, a flag, an expvar, a .proto file) that a copy
of it in the process registered first, the host's fork of the library, say, is
predicted to panic inside plugin.Open, with the panic's text: from the table of
well-known libraries, and with --lock from what plugfork found in the host's
forks.

Exit status: 0 every plugin loads, 1 some plugin fails or panics, 2 a file
inspect cannot judge (not ELF, not Go, a host that cannot load plugins, a
plugin that is not one).`,
		Example: `  # Will these plugins load into the host, in this order?
  plugfork inspect ./bin/host ./plugins/billing.so ./plugins/audit.so

  # The same verdicts as JSON (schema plugfork/inspect/v1)
  plugfork inspect --json ./bin/host ./plugins/*.so

  # Only the host's fingerprints and build information
  plugfork inspect --json ./bin/host

  # With what plugfork found in the host's forks: registrations that panic
  plugfork inspect --lock plugfork.lock ./bin/host ./plugins/*.so`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := inspect.ReadFileIn(inv.Dir, args[0])
			if err != nil {
				return err
			}
			var plugins []*inspect.Binary
			for _, arg := range args[1:] {
				p, err := inspect.ReadFileIn(inv.Dir, arg)
				if err != nil {
					return err
				}
				plugins = append(plugins, p)
			}
			var hz *inspect.Hazards
			if lock != "" {
				if hz, err = inspect.ReadLock(absFrom(inv.Dir, lock)); err != nil {
					return fmt.Errorf("reading --lock: %w", err)
				}
			}
			rep, err := inspect.CheckWith(hz, host, plugins...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = writeJSON(out, rep)
			} else {
				err = writeInspectText(out, rep, isTerminal(out))
			}
			if err != nil {
				return err
			}
			if !rep.Loads() {
				return errFindings
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (schema plugfork/inspect/v1)")
	cmd.Flags().StringVar(&lock, "lock", "", "the host's plugfork.lock `file`: the registrations plugfork found in its forks, to predict init-time panics")
	return cmd
}

// absFrom returns p made absolute against dir.
func absFrom(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// writeInspectText renders the report for people.
func writeInspectText(w io.Writer, rep *inspect.Report, color bool) error {
	tw := newTable(w, 2)
	h := rep.Host
	fmt.Fprintf(tw, "host\t%s\t%s %s/%s, %s%s%s\n", h.Path, h.GoVersion, h.GOOS, h.GOARCH, plural.S(len(h.Packages), "package"), settingsNote(h), strippedNote(h))
	fails := writeVerdicts(tw, rep.Plugins, color)
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case len(rep.Plugins) == 0:
	case fails == 0 && len(rep.Plugins) == 1:
		_, err := fmt.Fprintln(w, "the plugin loads")
		return err
	case fails == 0:
		_, err := fmt.Fprintf(w, "all %d plugins load\n", len(rep.Plugins))
		return err
	case len(rep.Plugins) == 1:
		_, err := fmt.Fprintln(w, "the plugin fails")
		return err
	case fails == 1:
		_, err := fmt.Fprintf(w, "1 of %d plugins fails\n", len(rep.Plugins))
		return err
	default:
		_, err := fmt.Fprintf(w, "%d of %d plugins fail\n", fails, len(rep.Plugins))
		return err
	}
	return nil
}

// writeVerdicts writes a row per verdict, with its error, note and causes,
// to tw, and returns how many fail.
func writeVerdicts(tw *tabwriter.Writer, verdicts []*inspect.Verdict, color bool) (fails int) {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	for _, v := range verdicts {
		p := v.Plugin
		status := paint("32", "loads")
		switch {
		case v.Outcome == inspect.OutcomePanics:
			status = paint("31", "panics")
			fails++
		case v.Outcome == inspect.OutcomeNotReached:
			status = paint("33", "not reached")
			fails++
		case !v.Loads():
			status = paint("31", "fails")
			fails++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s%s\n", status, p.Path, p.PluginPath, settingsNote(p), strippedNote(p))
		if p.Isolated != nil {
			fmt.Fprintf(tw, "\t\t%s\n", p.Isolated.Summary())
		}
		if v.Note != "" {
			fmt.Fprintf(tw, "\t\t%s\n", v.Note)
		}
		if v.Error != "" {
			fmt.Fprintf(tw, "\t\t%s\n", v.Error)
		}
		for _, c := range v.Causes {
			fmt.Fprintf(tw, "\t\t%s\t%s\n", c.Kind, c.Summary)
			if n := len(c.Packages); n > 0 {
				fmt.Fprintf(tw, "\t\t\t%s\n", packageList(c.Packages))
			}
			fmt.Fprintf(tw, "\t\t\tfix: %s\n", c.Fix)
		}
	}
	return fails
}

// settingsNote lists the build settings that change fingerprints.
func settingsNote(b *inspect.Binary) string {
	var s strings.Builder
	for _, kv := range b.FingerprintSettings() {
		s.WriteString(", ")
		s.WriteString(kv.Key)
		if kv.Value != "true" {
			s.WriteString("=" + kv.Value)
		}
	}
	return s.String()
}

func strippedNote(b *inspect.Binary) string {
	if b.Stripped {
		return " (stripped)"
	}
	return ""
}

// packageList names up to a few packages and counts the rest.
func packageList(pkgs []string) string {
	const show = 4
	s := fmt.Sprintf("%s: %s", plural.S(len(pkgs), "package"), strings.Join(pkgs[:min(show, len(pkgs))], ", "))
	if len(pkgs) > show {
		s += fmt.Sprintf(", +%d more", len(pkgs)-show)
	}
	return s
}
