package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plugfork/plugfork/sbom"
	"github.com/spf13/cobra"
)

func newSBOMCmd(inv *invocation) *cobra.Command {
	var (
		out    string
		format string
	)
	cmd := &cobra.Command{
		Use:   "sbom",
		Short: "Write a bill of materials in which each fork names its upstream module",
		Long: `Sbom writes the host's software bill of materials from go.mod, go.sum and
plugfork.lock (no go command, no network). Each fork is a component of its own
(its module path, the version go.mod requires, the h1: hash of the forked
tree) that names the upstream module it was made from: in CycloneDX 1.6 as
pedigree.ancestors (pkg:golang/<module>@<version>, with the upstream h1:
hash), in SPDX 2.3 as a DESCENDANT_OF relationship. The upstream module is
also a top-level component, so scanners that ignore pedigree (Grype) still
match it. The output is deterministic: the serial number and namespace are
derived from the content; SPDX's required creation time is SOURCE_DATE_EPOCH
when set, else the Unix epoch.`,
		Example: `  plugfork sbom -o host.cdx.json
  plugfork sbom --format spdx -o host.spdx.json
  plugfork sbom | grype`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			bill, err := sbom.Read(inv.Dir)
			if err != nil {
				return err
			}
			opts := sbom.Options{}
			if opts.Created, err = sourceDateEpoch(inv.Env); err != nil {
				return usageError{err}
			}
			var buf bytes.Buffer
			if err := bill.Write(&buf, sbom.Format(format), opts); err != nil {
				return usageError{fmt.Errorf("--format: %w", err)}
			}
			if out == "" || out == "-" {
				_, err := inv.Stdout.Write(buf.Bytes())
				return err
			}
			if !filepath.IsAbs(out) {
				out = filepath.Join(inv.Dir, out)
			}
			return os.WriteFile(out, buf.Bytes(), 0o666)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "write to `file` instead of standard output")
	f.StringVar(&format, "format", string(sbom.CycloneDX), "`format`: cyclonedx (CycloneDX 1.6 JSON) or spdx (SPDX 2.3 JSON)")
	return cmd
}

// sourceDateEpoch returns SOURCE_DATE_EPOCH from env as RFC 3339, or "".
func sourceDateEpoch(env []string) (string, error) {
	var v string
	for _, kv := range env {
		if s, ok := strings.CutPrefix(kv, "SOURCE_DATE_EPOCH="); ok {
			v = s
		}
	}
	if v == "" {
		return "", nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", fmt.Errorf("SOURCE_DATE_EPOCH=%s: want seconds since 1970", v)
	}
	return time.Unix(sec, 0).UTC().Format(time.RFC3339), nil
}
