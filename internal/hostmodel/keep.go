package hostmodel

import (
	"strings"

	"github.com/plugfork/plugfork/internal/pkgpath"
)

// Keep is the keep rule: which third-party packages stay shared with
// plugins, by --keep patterns of packages or modules. Fork's closure walk
// and check both judge with it.
type Keep struct {
	pats []pkgpath.Pattern
}

// NewKeep returns the keep rule of the patterns.
func NewKeep(patterns []string) Keep {
	var k Keep
	for _, p := range patterns {
		k.pats = append(k.pats, pkgpath.Compile(p))
	}
	return k
}

// Keeps reports whether a pattern matches package pkgPath or its module
// modPath ("" when unknown: then only the package counts), and whether only
// by the module's path. A pattern naming a module keeps that module's
// packages, not those of another module below its path: --keep
// example.com/api keeps example.com/api/x, not example.com/api/v2/x, a
// module of its own. The module's own path, literally, names the module,
// even where its root package has that path too.
func (k Keep) Keeps(pkgPath, modPath string) (kept, byModule bool) {
	for _, pat := range k.pats {
		if pat.Match(pkgPath) && !(pkgPath == modPath && pat.String() == modPath) {
			return true, false
		}
	}
	if modPath == "" || !pkgpath.Within(pkgPath, modPath) {
		return false, false
	}
	for _, pat := range k.pats {
		if pat.Match(modPath) {
			return true, true
		}
	}
	return false, false
}

// NamesOwn reports whether keep pattern pattern names packages of the
// module hostPath itself (not of a module nested in it: nested, when one
// of those provides them): the part before its first "..." lies within
// the host module. Such a pattern keeps nothing, since the host's own
// packages are never forked.
func NamesOwn(pattern, hostPath string, nested func(string) bool) bool {
	lit, _, _ := strings.Cut(pattern, "...")
	lit = strings.TrimSuffix(lit, "/")
	return lit != "" && pkgpath.Within(lit, hostPath) && !nested(lit)
}
