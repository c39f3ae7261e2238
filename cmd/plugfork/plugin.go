package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/pluginbuild"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newPluginCmd(inv *invocation) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Build plugins against a host: plugin build, plugin env",
		Long: `The plugin commands serve the teams that write plugins: run them in the
plugin's module, with --host naming the host module's directory (forked by
plugfork or not), or a published version of it, MODULE@VERSION, taken from
the module proxy as the go command takes it.`,
	}
	cmd.AddCommand(newPluginBuildCmd(inv), newPluginEnvCmd(inv))
	return cmd
}

func newPluginBuildCmd(inv *invocation) *cobra.Command {
	var (
		cfg    pluginbuild.Config
		asJSON bool
		given  map[string]*string // the go build flags, by name
	)
	cmd := &cobra.Command{
		Use:   "build [package] --host DIR|MODULE@VERSION [--host-binary FILE] [-o FILE] [--also PLUGIN]... [--isolate [--isolate-id ID]] [go build flags]",
		Short: "Build a plugin that loads into the host: forks seen, shared modules aligned, judged",
		Long: `Plugin build builds the plugin's main package (default ".") with
-buildmode=plugin so that it loads into the host:

  - in a temporary workspace that uses the plugin module and the host module
    (--host): the host's own packages compile from the host's source, as the
    host's build compiled them, and the host's go.mod replaces apply, so a
    plugin that imports a host package sees the host's forks. --host
    MODULE@VERSION takes the host's source from the module cache (go mod
    download, through GOPROXY, GOPRIVATE, GONOSUMDB and GOFLAGS), no checkout
    needed: its forks must travel in it (plugfork fork --layout inline), and
    the host must be built with -trimpath from that version's source;
  - every module that provides a package both the plugin and the host link is
    moved to exactly the host's version (go get, so minimal version selection
    moves what depends on it); a plugin that does not build at the host's
    versions is refused with the modules, both versions, and the ways out;
  - with --host-binary, the host's fingerprint-relevant build settings are
    taken from its build information (-trimpath, -tags, -race, -msan, -asan,
    -gcflags, CGO_ENABLED, GOEXPERIMENT, GOOS/GOARCH) and the Go release must
    be the host's; a flag given that would make a difference is refused with
    the reason. The built plugin is then judged as plugfork inspect judges it,
    loaded after the --also plugins, and written to -o only if plugin.Open
    would load it (exit 1 otherwise).

The plugin's go.mod, go.sum and go.work are not modified; -w writes the
wiring into the plugin module on purpose (the aligned go.mod and go.sum, and a
go.work using the host), so that a plain go build -buildmode=plugin builds the
same plugin.

With --isolate, every package the plugin links that it need not share with the
host (its own packages and the third-party ones the host does not link) gets a
private import path, plugfork.isolated/ID/<module path>, rewritten as plugfork
fork rewrites forks, in a stage in .plugfork/ (the plugin's files are not
changed); the standard library, the host module's packages and the packages
the host links stay shared. Plugins of different modules then never share a
package beyond that, whatever their versions, and a new build of a plugin
loads beside the old one: the plugin's own id derives from its sources and
dependency versions (--isolate-id sets it), its dependencies' from the plugin
module and the versions it links, not from its own code, so the build cache
stays warm. Go build flags may be written as the go command writes them
(-trimpath, -tags=x).`,
		Example: `  # In the plugin's module, against a framework checked out beside it:
  plugfork plugin build --host ../framework

  # Against a tagged framework through the module proxy, no checkout:
  plugfork plugin build --host example.com/framework@v1.4.0 --host-binary ./host

  # Checked against the built host, judged, written only if it loads:
  plugfork plugin build --host ../framework --host-binary ../framework/bin/host -o biz.so

  # Also judged against plugins the host loads first:
  plugfork plugin build --host ../framework --host-binary ../bin/host --also ../audit/audit.so

  # Isolated from other plugins, and loadable beside an older build of itself:
  plugfork plugin build --host ../framework --host-binary ../bin/host --isolate

  # Write the wiring for builds that do not call plugfork:
  plugfork plugin build --host ../framework -w`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			if err := f.Parse(args); err != nil {
				return usageError{err}
			}
			if help, _ := f.GetBool("help"); help {
				return cmd.Help()
			}
			goFlags := map[string]string{}
			f.Visit(func(fl *pflag.Flag) {
				if v, ok := given[fl.Name]; ok {
					goFlags[fl.Name] = *v
				}
			})
			cfg.Flags = pluginbuild.NewFlags(goFlags)
			cfg.Packages = f.Args()
			cfg.Dir, cfg.Env = inv.Dir, inv.Env
			if !asJSON && isTerminal(inv.Stderr) {
				cfg.Progress = inv.Stderr
			}
			res, err := pluginbuild.Build(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				err = writeJSON(inv.Stdout, res)
			} else {
				err = renderPluginBuild(inv.Stdout, res, isTerminal(inv.Stdout))
			}
			if err != nil {
				return err
			}
			if !res.Loads() {
				return errFindings
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Host, "host", "", "the host module's `directory`, or MODULE@VERSION (required)")
	f.StringVar(&cfg.HostBinary, "host-binary", "", "the built host `file`: check build settings against it and judge the plugin")
	f.StringVarP(&cfg.Output, "o", "o", "", "write the plugin to `file` (default <package name>.so)")
	f.StringArrayVar(&cfg.Also, "also", nil, "a `plugin` the host loads before this one (repeatable, in load order)")
	f.BoolVarP(&cfg.Write, "w", "w", false, "write the wiring into the plugin module (go.mod, go.sum, go.work)")
	f.BoolVar(&cfg.Isolate, "isolate", false, "give every package the plugin need not share with the host a private import path of this build")
	f.StringVar(&cfg.IsolateID, "isolate-id", "", "with --isolate, the private `id` of the plugin's own packages (default: derived from its sources and dependency versions)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+pluginbuild.BuildSchema+")")
	f.BoolP("help", "h", false, "help for build")
	given = map[string]*string{}
	for name, takesValue := range pluginbuild.GoBuildFlags {
		short := ""
		if len(name) == 1 {
			short = name
		}
		given[name] = f.StringP(name, short, "", "as go build -"+name)
		if !takesValue {
			f.Lookup(name).NoOptDefVal = "true"
		}
	}
	return cmd
}

func renderPluginBuild(w io.Writer, res *pluginbuild.Result, color bool) error {
	tw := newTable(w, 2)
	host := res.Host.Path + " (" + res.Host.Dir
	if res.Host.Version != "" {
		host = res.Host.Path + "@" + res.Host.Version + " (module cache"
	}
	if res.Host.Forks > 0 {
		host += ", " + fmt.Sprintf("forked under %s", res.Host.Prefix)
	}
	host += ")"
	fmt.Fprintf(tw, "host\t%s\n", host)
	for _, a := range res.Aligned {
		fmt.Fprintf(tw, "aligned\t%s %s => %s\t(the host's)\n", a.Module, a.From, a.To)
	}
	if iso := res.Isolated; iso != nil {
		fmt.Fprintf(tw, "isolated\t%s\t(plugin path)\n", iso.PluginPath)
		for _, c := range iso.Copies {
			fmt.Fprintf(tw, "private\t%s\t=> %s\n", strings.TrimSpace(c.Module+" "+c.Version), c.Path)
		}
		fmt.Fprintf(tw, "shared\t%d packages\t(the host's, and what the host links)\n", iso.Shared)
	}
	flags := "(none)"
	if len(res.Flags) > 0 {
		flags = strings.Join(res.Flags, " ")
	}
	from := "as given; not checked"
	if res.Checked {
		from = "from " + res.Host.Binary
	}
	fmt.Fprintf(tw, "flags\t%s\t(%s)\n", flags, from)
	if v := res.Verdict; v != nil {
		writeVerdicts(tw, []*inspect.Verdict{v}, color)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.Output != "" {
		fmt.Fprintf(w, "wrote %s\n", res.Name)
	}
	for _, name := range res.Wrote {
		fmt.Fprintf(w, "wrote %s (-w)\n", name)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func newPluginEnvCmd(inv *invocation) *cobra.Command {
	var (
		cfg    pluginbuild.EnvConfig
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "env --host DIR|MODULE@VERSION [--host-binary FILE] [--json]",
		Short: "Print what a plugin build must use (wiring, versions, flags, toolchain)",
		Long: `Plugin env prints what a plugin build against the host must use, for build
systems that do not call plugfork (Dockerfiles, Make, Bazel): a go.work that
uses the plugin module and the host (or, without a workspace, the replace
lines with absolute directories), the modules plugins share with the host at
the host's versions, and, with --host-binary, the build flags, the
environment and the Go release the host was built with. --host
MODULE@VERSION describes a published version of the host, from the module
cache: the go.work then uses its directory there.`,
		Example: `  plugfork plugin env --host ../framework --host-binary ../framework/bin/host
  plugfork plugin env --host example.com/framework@v1.4.0 --host-binary ./host
  plugfork plugin env --host ../framework --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Dir, cfg.Env = inv.Dir, inv.Env
			if !asJSON && isTerminal(inv.Stderr) {
				cfg.Progress = inv.Stderr
			}
			res, err := pluginbuild.Env(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(inv.Stdout, res)
			}
			return renderPluginEnv(inv.Stdout, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Host, "host", "", "the host module's `directory`, or MODULE@VERSION (required)")
	f.StringVar(&cfg.HostBinary, "host-binary", "", "the built host `file`: its build settings, versions and Go release")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (schema "+pluginbuild.EnvSchema+")")
	return cmd
}

func renderPluginEnv(w io.Writer, res *pluginbuild.EnvResult) error {
	if res.Host.Version != "" {
		fmt.Fprintf(w, "# host %s@%s (%s)\n", res.Host.Path, res.Host.Version, res.Host.Dir)
	} else {
		fmt.Fprintf(w, "# host %s (%s)\n", res.Host.Path, res.Host.Dir)
	}
	fmt.Fprintf(w, "\n# go.work, in the plugin module's root:\n%s", res.Workspace)
	fmt.Fprintf(w, "\n# or, without a workspace, in the plugin's go.mod:\n")
	for _, r := range res.Replace {
		fmt.Fprintf(w, "replace %s => %s\n", r.Old, r.New)
	}
	if len(res.Require) > 0 {
		fmt.Fprintf(w, "\n# versions plugins must select when they link these modules (go get PATH@VERSION):\n")
		for _, r := range res.Require {
			fmt.Fprintf(w, "require %s %s\n", r.Path, r.Version)
		}
	}
	fmt.Fprintf(w, "\n# build:\n")
	if len(res.Env) > 0 {
		fmt.Fprintf(w, "%s ", strings.Join(res.Env, " "))
	}
	fmt.Fprintf(w, "go build %s\n", strings.Join(res.Flags, " "))
	for _, n := range res.Notes {
		fmt.Fprintf(w, "\n# note: %s\n", n)
	}
	return nil
}
