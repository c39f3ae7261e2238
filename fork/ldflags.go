package fork

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/plugfork/plugfork/internal/modtree"
	"github.com/plugfork/plugfork/internal/swap"
	"github.com/plugfork/plugfork/rewrite"
)

// xFlagRE matches the package path of a linker -X flag: -X pkg.name=value,
// -X=pkg.name=value, with or without quotes.
var xFlagRE = regexp.MustCompile(`-X[= ]['"]?([A-Za-z0-9._~/\-]+)\.[A-Za-z_][A-Za-z0-9_]*=`)

// isBuildFile reports whether a host file may hold go build flags.
func isBuildFile(rel string) bool {
	base := path.Base(rel)
	switch {
	case base == "Makefile" || base == "GNUmakefile" || base == "Dockerfile" || base == "Taskfile.yml",
		strings.HasSuffix(base, ".mk"), strings.HasSuffix(base, ".sh"), strings.HasSuffix(base, ".bash"),
		strings.HasPrefix(base, ".goreleaser.") && (strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")),
		strings.HasPrefix(rel, ".github/workflows/"):
		return true
	}
	return false
}

// ldflagsFindings reports -ldflags -X flags in the host's build files that
// name a forked package: the linker would set a variable of the upstream
// package, which the forked host no longer links. plugfork does not edit
// build files; it says what to change.
func ldflagsFindings(root, forkDir string, m *rewrite.Mapping) ([]Finding, error) {
	var out []Finding
	// Build files may be hidden (.github, .goreleaser.yml) or live in
	// nested modules; testdata holds none, node_modules none of ours.
	include := modtree.Hidden | modtree.Nested | modtree.Vendor
	skip := []string{forkDir, "vendor", swap.WorkDir, ".git"}
	err := modtree.Walk(root, include, skip, func(rel string, d fs.DirEntry) error {
		if d.IsDir() {
			if d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !isBuildFile(rel) {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, len(data)+1)
		for line := 1; sc.Scan(); line++ {
			for _, loc := range xFlagRE.FindAllStringSubmatchIndex(sc.Text(), -1) {
				pkg := sc.Text()[loc[2]:loc[3]]
				if to, ok := m.Lookup(pkg); ok {
					out = append(out, Finding{
						Pos:     fmt.Sprintf("%s:%d:%d", rel, line, loc[0]+1),
						Kind:    FindingLdflags,
						Path:    pkg,
						Message: fmt.Sprintf("-X names %s, which is forked: write -X %s... instead (plugfork does not edit build files)", pkg, to),
					})
				}
			}
		}
		return nil
	})
	return out, err
}
