package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionSchema is the schema of "plugfork version --json".
const versionSchema = "plugfork/version/v1"

// versionInfo is the --json output of "plugfork version".
type versionInfo struct {
	Schema    string `json:"schema"`
	Version   string `json:"version"`
	GoVersion string `json:"go_version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Time      string `json:"vcs_time,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"`
}

func readVersion() versionInfo {
	v := versionInfo{Schema: versionSchema, Version: "(devel)"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.GoVersion = bi.GoVersion
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print plugfork's version and build information",
		Args:    exactArgs(0),
		Example: "  plugfork version\n  plugfork version --json",
		RunE: func(cmd *cobra.Command, args []string) error {
			v := readVersion()
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "plugfork %s %s", v.Version, v.GoVersion)
			if v.Revision != "" {
				fmt.Fprintf(cmd.OutOrStdout(), " %s", v.Revision)
				if v.Modified {
					fmt.Fprint(cmd.OutOrStdout(), "+dirty")
				}
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON (schema "+versionSchema+")")
	return cmd
}
