package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/hazard"
	"github.com/plugfork/plugfork/internal/plural"
	"github.com/spf13/cobra"
)

func newForkCmd(inv *invocation) *cobra.Command {
	var (
		cfg     fork.Config
		asJSON  bool
		verbose bool
		accept  []string
		reason  string
	)
	cmd := &cobra.Command{
		Use:   "fork [packages]",
		Short: "Fork the host's third-party dependencies into a private namespace",
		Long: `Fork forks every third-party module that provides a package in the import
closure of the host's packages (default ./...) into the private namespace
PREFIX/<module path>, rewrites imports in the forks and in the host, wires
go.mod with a require and a replace per fork (with --layout inline the forks
are plain packages of the host module, with neither), records plugfork.lock,
and type-checks the result before changing anything. A re-run reconciles: new
third-party imports are forked, forks no longer needed are removed, and
nothing changes when nothing has to.`,
		Example: `  # First fork: the prefix is remembered in plugfork.lock.
  plugfork fork --prefix gitlab.example.com/workflow

  # After go get of a new dependency: absorb it.
  plugfork fork

  # Keep the plugin API shared with plugins, show the plan only.
  plugfork fork --keep example.com/api/... --dry-run

  # Fork only what the release builds compile: files for other platforms
  # and tags (and the modules only they import) stay out of the forks.
  plugfork fork --platform linux/amd64,linux/arm64 --tags goplugin

  # Machine-readable result with per-phase timings and the forks' size.
  plugfork fork --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir = inv.Dir
			cfg.Env = inv.Env
			if v := lookupEnv(inv.Env, "PLUGFORK_ZIP_LIMIT"); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					return usageError{fmt.Errorf("PLUGFORK_ZIP_LIMIT=%s: want a size in bytes", v)}
				}
				cfg.ZipLimit = n
			}
			cfg.Patterns = args
			cfg.KeepSet = cmd.Flags().Changed("keep")
			cfg.PlatformsSet, cfg.TagsSet = cmd.Flags().Changed("platform"), cmd.Flags().Changed("tags")
			if len(accept) > 0 && reason == "" {
				return usageError{fmt.Errorf("--accept-hazard needs --reason: say why plugins will not link %s", strings.Join(accept, ", "))}
			}
			if reason != "" && len(accept) == 0 {
				return usageError{fmt.Errorf("--reason goes with --accept-hazard")}
			}
			for _, p := range accept {
				cfg.Accept = append(cfg.Accept, fork.Acceptance{Package: p, Reason: reason})
			}
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
			renderFork(inv.Stdout, res, verbose)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Prefix, "prefix", "", "private import-path `prefix` of the forks (required the first time with the modules layout, then remembered)")
	f.StringVar(&cfg.Layout, "layout", "", "how forks live in the host: `modules` (nested modules wired by replace directives; the default) or inline (plain packages of the host module, which its module zip carries; the prefix is then the host module's path and the dir); remembered")
	f.StringVar(&cfg.ForkDir, "dir", "", "`directory` of the forks, relative to the host root (default "+fork.DefaultDir+")")
	f.StringArrayVar(&cfg.Keep, "keep", nil, "`pattern` of packages or modules to leave shared with plugins (repeatable)")
	f.StringSliceVar(&cfg.Platforms, "platform", nil, "scope the closure to the `GOOS/GOARCH` builds the host makes (comma-separated; remembered; empty: every platform)")
	f.StringSliceVar(&cfg.Tags, "tags", nil, "scope the closure to builds with these custom build `tags`, as go build -tags (comma-separated; remembered; others are off)")
	f.BoolVar(&cfg.Tests, "tests", false, "keep _test.go files and testdata in forks")
	f.BoolVar(&cfg.Whole, "whole-modules", false, "copy every file of forked modules, not only the closure's packages (_test.go files only with --tests)")
	f.BoolVarP(&cfg.DryRun, "dry-run", "n", false, "print the plan, write nothing")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+fork.ResultSchema+")")
	f.BoolVarP(&verbose, "verbose", "v", false, "list every hazard and finding, not one line per kind")
	f.StringArrayVar(&accept, "accept-hazard", nil, "accept the hazard of the registering `package` (repeatable; with --reason), so plugfork check passes")
	f.StringVar(&reason, "reason", "", "why plugins will not link the accepted packages, recorded in plugfork.lock")
	return cmd
}

func renderFork(w io.Writer, res *fork.Result, verbose bool) {
	verb := "forked"
	if res.DryRun {
		verb = "would fork"
	}
	if res.Recovered {
		fmt.Fprintln(w, "finished an interrupted plugfork run first")
	}
	tw := newTable(w, 2)
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
	switch {
	case res.DryRun:
		fmt.Fprintf(w, "dry run: %s would be forked under %s; nothing written\n", plural.S(len(res.Forks), "module"), res.Prefix)
	case !res.Changed:
		fmt.Fprintf(w, "up to date: %s under %s\n", plural.S(len(res.Forks), "fork"), res.Prefix)
	case res.Layout == fork.LayoutInline:
		fmt.Fprintf(w, "%s inline under %s (packages of the host module); %s rewritten\n", plural.S(len(res.Forks), "fork"), res.Prefix, plural.S(len(res.Rewritten), "host file"))
	default:
		fmt.Fprintf(w, "%s under %s in %s; %s rewritten\n", plural.S(len(res.Forks), "fork"), res.Prefix, res.Dir, plural.S(len(res.Rewritten), "host file"))
	}
	if res.Unignored {
		fmt.Fprintf(w, "note: ./... in the host matches the forks (go vet ./..., go test ./... and linters see them): its go line is older than go 1.25, which the ignore directive needs; raise it, or fork into a directory beginning with _ (--dir _forked)\n")
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
	renderExposures(w, res.Exposures, verbose)
	renderSize(w, res, verbose)
	renderSurface(w, res.Surface, res.Platform, res.NotShared)
	renderHazards(w, res.Hazards, verbose)
	renderFindings(w, res.Findings, verbose)
}

// renderExposures writes, per forked module whose types the API of host
// packages hands plugins, where (three declarations unless verbose), and
// the keep that shares it with what that pins.
func renderExposures(w io.Writer, exposures []fork.Exposure, verbose bool) {
	for _, x := range exposures {
		n := len(x.By)
		if !verbose {
			n = min(n, 3)
		}
		var decls []string
		for _, b := range x.By[:n] {
			decls = append(decls, fmt.Sprintf("%s.%s (%s %s)", b.Package, b.Decl, b.Kind, b.Type))
		}
		more := ""
		if n < len(x.By) {
			more = fmt.Sprintf(", +%d more (-v lists them)", len(x.By)-n)
		}
		fmt.Fprintf(w, "exposed: %s's types are in the API plugins import: %s%s\n", x.Module, strings.Join(decls, ", "), more)
		fmt.Fprintf(w, "\ta plugin that uses these with its own copy of %s does not compile; --keep %s shares it, and pins %s for plugins\n", x.Module, x.Keep, strings.Join(x.Pins, ", "))
	}
}

// renderSize writes the scope, when there is one, and the size report:
// always the files git hosts warn at or refuse, with where each is reached
// from; with verbose, the total, the largest modules and files too.
func renderSize(w io.Writer, res *fork.Result, verbose bool) {
	sz := res.Size
	if len(res.Scope.Platforms) > 0 || len(res.Scope.Tags) > 0 {
		fmt.Fprintf(w, "scope: %s (files of other builds are not forked)\n", res.Scope)
	}
	var large []fork.LargeFile
	for _, f := range sz.Largest {
		if verbose || f.Level != "" {
			large = append(large, f)
		}
	}
	if !verbose && len(large) == 0 {
		return
	}
	fmt.Fprintf(w, "size: %s in %s\n", fork.FormatSize(sz.Bytes), plural.S(sz.Files, "file"))
	if verbose {
		var mods []string
		for _, m := range sz.Modules {
			mods = append(mods, m.Module+" "+fork.FormatSize(m.Bytes))
		}
		fmt.Fprintf(w, "\tlargest modules: %s\n", strings.Join(mods, ", "))
	}
	for _, f := range large {
		note := ""
		switch f.Level {
		case fork.SizeWarning:
			note = ": git hosts warn over 50 MiB"
		case fork.SizeRefused:
			note = ": git hosts refuse files over 100 MiB"
		}
		fmt.Fprintf(w, "\t%s %s%s\n", f.Path, fork.FormatSize(f.Bytes), note)
		if len(f.ReachedFrom) > 0 {
			var steps []string
			for _, st := range f.ReachedFrom {
				s := st.Package
				if st.Constraint != "" {
					s += " (" + st.File + ", built with " + st.Constraint + ")"
				}
				steps = append(steps, s)
			}
			fmt.Fprintf(w, "\t\treached from %s\n", strings.Join(steps, " -> "))
		}
	}
	if len(large) > 0 && large[0].Level != "" {
		fmt.Fprintf(w, "\tleave out what the host's builds never compile with --platform GOOS/GOARCH,... and --tags\n")
	}
}

// renderSurface writes the shared surface, each package with why it is
// shared, and the platform it was proved on, and the packages of kept
// modules that are forked all the same.
func renderSurface(w io.Writer, surface []fork.Surface, platform string, notShared []fork.NotShared) {
	if len(surface) > 0 {
		fmt.Fprintf(w, "shared with plugins: %s (plugins must link exactly these versions; plugfork plugin build aligns them)\n", plural.S(len(surface), "package"))
		tw := newTable(w, 2)
		for _, e := range surface {
			why := e.Why
			if e.NotBuilt {
				why += " (does not build on " + platform + ": not linked there)"
			}
			fmt.Fprintf(tw, "\t%s\t%s\t%s\n", e.Package, e.Version, why)
		}
		tw.Flush()
		if platform != "" {
			fmt.Fprintf(w, "\tthe fork proves the surface on %s\n", platform)
		}
	}
	for _, n := range notShared {
		fmt.Fprintf(w, "not shared: %s, of a kept module, is forked: it imports %s, which is not kept, and a shared package's fingerprint covers everything it imports\n", n.Package, n.Imports)
		fmt.Fprintf(w, "\tplugins that import it link their own copy; to share it, keep %s too (--keep)\n", n.Imports)
	}
}

// renderHazards writes the decisions first: the registry hazards nobody
// accepted, by package, each with its panic and the remedies plugfork
// checked; then the accepted ones and the singletons, in one line each
// unless verbose.
func renderHazards(w io.Writer, hazards []fork.Hazard, verbose bool) {
	var open, accepted []string // packages, in order
	byPkg := map[string][]fork.Hazard{}
	var singletons []fork.Hazard
	for _, h := range hazards {
		if h.Kind == hazard.KindSingleton {
			singletons = append(singletons, h)
			continue
		}
		if _, ok := byPkg[h.Package]; !ok {
			if h.Accepted != "" {
				accepted = append(accepted, h.Package)
			} else {
				open = append(open, h.Package)
			}
		}
		byPkg[h.Package] = append(byPkg[h.Package], h)
	}
	if len(open) > 0 {
		fmt.Fprintf(w, "%s: plugins that also link %s will panic in plugin.Open\n", plural.S(len(open), "hazard"), orList(open))
		for _, pkg := range open {
			renderHazard(w, byPkg[pkg], verbose)
		}
	}
	if len(accepted) > 0 {
		if verbose {
			for _, pkg := range accepted {
				renderHazard(w, byPkg[pkg], verbose)
			}
		} else {
			fmt.Fprintf(w, "%s (%s): plugfork fork -v lists them\n", plural.S(len(accepted), "accepted hazard"), strings.Join(accepted, ", "))
		}
	}
	if len(singletons) > 0 {
		if verbose {
			for _, h := range singletons {
				fmt.Fprintf(w, "%s: singleton: %s\n", h.Module, h.Message)
			}
		} else {
			var mods []string
			for _, h := range singletons {
				mods = append(mods, h.Module)
			}
			fmt.Fprintf(w, "%s split in two, without a panic (%s): plugfork fork -v says how\n", plural.Count(len(singletons), "forked singleton", "forked singletons"), strings.Join(mods, ", "))
		}
	}
}

func renderHazard(w io.Writer, hs []fork.Hazard, verbose bool) {
	h := hs[0]
	where := h.Pos
	if where == "" {
		where = "(from plugfork's table of known libraries)"
	}
	fmt.Fprintf(w, "%s: %s at init, %s\n", h.Package, h.Call, where)
	if verbose {
		for _, more := range hs[1:] {
			fmt.Fprintf(w, "\talso %s, %s\n", more.Call, more.Pos)
		}
	} else if len(hs) > 1 {
		fmt.Fprintf(w, "\t(and %s: plugfork fork -v lists them)\n", plural.Count(len(hs)-1, "more registration", "more registrations"))
	}
	fmt.Fprintf(w, "\tpanic: %s\n", strings.ReplaceAll(h.Panic, "\n", "\n\t       "))
	if h.Accepted != "" {
		fmt.Fprintf(w, "\taccepted: %s\n", h.Accepted)
		return
	}
	for _, r := range h.Remedies {
		line := "\tremedy: " + r.Do
		if len(r.Pins) > 0 {
			line += " (plugins must then link exactly " + strings.Join(r.Pins, ", ") + ")"
		}
		if r.Note != "" {
			line += "; " + r.Note
		}
		fmt.Fprintln(w, line)
	}
}

// renderFindings writes, for each kind of finding, one line with the count
// and how to list them; verbose, every finding, string literals that can
// change behaviour first.
func renderFindings(w io.Writer, findings []fork.Finding, verbose bool) {
	byKind := map[fork.FindingKind][]fork.Finding{}
	for _, f := range findings {
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	lits := byKind[fork.FindingStringLiteral]
	behaving := 0
	for _, f := range lits {
		if f.Behaviour != "" {
			behaving++
		}
	}
	if verbose {
		slices.SortStableFunc(lits, func(a, b fork.Finding) int {
			return cmp.Compare(boolInt(a.Behaviour == ""), boolInt(b.Behaviour == ""))
		})
		for _, kind := range []fork.FindingKind{fork.FindingStringLiteral, fork.FindingCgo, fork.FindingLdflags} {
			for _, f := range byKind[kind] {
				if f.Behaviour != "" {
					fmt.Fprintf(w, "%s: %s (%s)\n", f.Pos, f.Message, f.Behaviour)
				} else {
					fmt.Fprintf(w, "%s: %s\n", f.Pos, f.Message)
				}
			}
		}
		return
	}
	if n := len(lits); n > 0 {
		also := ""
		if behaving > 0 {
			also = fmt.Sprintf(", %d where %s behaviour", behaving, plural.Pick(behaving, "it can change", "they can change"))
		}
		fmt.Fprintf(w, "%s%s: plugfork fork -v lists them\n", plural.Count(n, "string literal holds a forked import path", "string literals hold forked import paths"), also)
	}
	if n := len(byKind[fork.FindingCgo]); n > 0 {
		fmt.Fprintf(w, "%s cgo (C symbols are not renamed): plugfork fork -v lists them\n", plural.Count(n, "file uses", "files use"))
	}
	if n := len(byKind[fork.FindingLdflags]); n > 0 {
		fmt.Fprintf(w, "%s -X for forked packages (rewrite them as they say): plugfork fork -v lists them\n", plural.Count(n, "build file line sets", "build file lines set"))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// lookupEnv returns the value of key in the environment env ("KEY=value"
// entries, the last one winning, as the os package reads them), or "".
func lookupEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
