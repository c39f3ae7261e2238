package closure

import (
	"fmt"
	"path"
	"strings"

	"github.com/plugfork/plugfork/internal/pkgpath"
)

// Select returns the host package directories among rels (relative to the
// root of the host module hostPath, as modtree.Packages lists them) that
// the package patterns select, in order: import-path patterns, or
// relative ones ("./...", "./cmd/x") resolved against the host root. With
// no patterns, all of them. A pattern that selects nothing is an error.
func Select(hostPath string, rels, patterns []string) ([]string, error) {
	if len(patterns) == 0 {
		return rels, nil
	}
	pats := make([]pkgpath.Pattern, len(patterns))
	for i, pat := range patterns {
		if rest, ok := strings.CutPrefix(pat, "."); ok && (rest == "" || rest[0] == '/') {
			pat = path.Join(hostPath, rest)
			if strings.HasSuffix(rest, "...") && !strings.HasSuffix(pat, "...") {
				pat += "/..."
			}
		}
		pats[i] = pkgpath.Compile(pat)
	}
	var out []string
	matched := make([]bool, len(patterns))
	for _, rel := range rels {
		ip := path.Join(hostPath, rel)
		for i, pat := range pats {
			if pat.Match(ip) {
				matched[i] = true
				out = append(out, rel)
				break
			}
		}
	}
	for i, ok := range matched {
		if !ok {
			return nil, fmt.Errorf("pattern %s matches no host package", patterns[i])
		}
	}
	return out, nil
}
