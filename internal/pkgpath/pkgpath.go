// Package pkgpath holds the rules of Go import paths that all of plugfork
// shares: which paths are the standard library's, whole-element prefixes,
// and the go command's package patterns.
package pkgpath

import (
	"path"
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

// Match reports whether p matches a go-style package pattern:
// "..." matches any string; "x/..." also matches x itself.
func Match(pattern, p string) bool {
	if !strings.Contains(pattern, "...") {
		return pattern == p
	}
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok && !strings.Contains(prefix, "...") {
		return Within(p, prefix)
	}
	ok, _ := path.Match(strings.ReplaceAll(pattern, "...", "*"), p)
	if ok {
		return true
	}
	// "..." may span slashes, which path.Match's "*" does not.
	parts := strings.Split(pattern, "...")
	rest := p
	for i, part := range parts {
		j := strings.Index(rest, part)
		if j < 0 || (i == 0 && j != 0) {
			return false
		}
		rest = rest[j+len(part):]
	}
	return parts[len(parts)-1] == "" || rest == ""
}
