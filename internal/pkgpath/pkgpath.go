// Package pkgpath holds the rules of Go import paths that all of plugfork
// shares: which paths are the standard library's, whole-element prefixes,
// and the go command's package patterns.
package pkgpath

import (
	"regexp"
	"strings"
)

// IsStd reports whether an import path names a standard library package
// (or cgo's "C"): its first element has no dot.
func IsStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// Within reports whether path is prefix or lies below it, whole elements
// only: "foo/bar" is within "foo" but not within "fo".
func Within(path, prefix string) bool {
	return path == prefix || len(path) > len(prefix) && path[len(prefix)] == '/' && path[:len(prefix)] == prefix
}

// A Pattern is a package pattern as the go command reads one: "..." matches
// any string, including the empty string and strings with slashes; a
// trailing "/..." also matches the path before it ("x/..." matches "x");
// and "..." does not reach into vendor directories ("x/..." does not match
// "x/vendor/y", though "x/vendor/..." does). A pattern without "..." matches
// only itself.
type Pattern struct {
	text  string
	re    *regexp.Regexp // nil for a literal pattern
	never bool           // the pattern holds a byte no path may hold
}

// vendorMark stands for a vendor element in the strings the regexp sees:
// a byte no import path or pattern holds, which "..." cannot match.
const vendorMark = "\x00"

// Compile returns the pattern. Matching is linear in the length of the
// path, whatever the pattern (a regexp, not backtracking).
func Compile(pattern string) Pattern {
	p := Pattern{text: pattern}
	if !strings.Contains(pattern, "...") {
		return p
	}
	if strings.Contains(pattern, vendorMark) {
		p.never = true
		return p
	}
	expr := regexp.QuoteMeta(markVendor(pattern))
	const wild = `\.\.\.`
	switch {
	case expr == vendorMark+"/"+wild:
		expr = `(vendor|` + vendorMark + "/" + wild + `)`
	case strings.HasSuffix(expr, "/"+vendorMark+"/"+wild):
		// "x/vendor/..." matches "x/vendor" itself too.
		base := strings.TrimSuffix(expr, "/"+vendorMark+"/"+wild)
		expr = base + `(/vendor|/` + vendorMark + "/" + wild + `)`
	case strings.HasSuffix(expr, "/"+wild):
		expr = strings.TrimSuffix(expr, "/"+wild) + `(/` + wild + `)?`
	}
	expr = strings.ReplaceAll(expr, wild, `[^`+vendorMark+`]*`)
	p.re = regexp.MustCompile(`^` + expr + `$`)
	return p
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.text }

// Match reports whether path matches the pattern.
func (p Pattern) Match(path string) bool {
	if p.re == nil {
		return path == p.text && !p.never
	}
	if strings.Contains(path, vendorMark) {
		return false
	}
	return p.re.MatchString(markVendor(path))
}

// Match reports whether path matches pattern (see Pattern).
func Match(pattern, path string) bool { return Compile(pattern).Match(path) }

// markVendor replaces the vendor elements of s that are not its last
// element with vendorMark.
func markVendor(s string) string {
	if !strings.Contains(s, "vendor") {
		return s
	}
	elems := strings.Split(s, "/")
	for i := range len(elems) - 1 {
		if elems[i] == "vendor" {
			elems[i] = vendorMark
		}
	}
	return strings.Join(elems, "/")
}
