package rewrite

import "strings"

// Linker symbol names: the rules of cmd/internal/objabi (PathToPrefix,
// PrefixToPath) and cmd/compile/internal/ir (splitPkg).
//
// A symbol is named "<escaped package path>.<name>". In the escaped path,
// control characters, space, '%', '"', bytes >= 0x7f and every '.' of the last
// path element are written %xx, so package gopkg.in/yaml.v3's Func is
// "gopkg.in/yaml%2ev3.Func". The linker splits a symbol at the first '.' after
// the last '/' (the last '/' before any character illegal in an escaped import
// path, such as the '(' of "pkg.(*T).M" or the '[' of an instantiation).
//
// A //go:linkname target or an assembly reference may also name such a
// package unescaped ("gopkg.in/yaml.v3.Func"). That does not link (go1.26:
// "relocation target ... not defined"), but it names the package all the
// same, so it is mapped too: the linker's split gives "gopkg.in/yaml", and
// when that does not map and the path is unescaped, the later dots of the
// last element are tried in turn, the package being the shortest such prefix
// that is a forked module path. A rewritten path keeps the original's style:
// escaped if the original was.

// splitSymbol returns the offset at which the linker splits the symbol name
// into package path and local name, and the offset of the first character
// illegal in an escaped import path (len(name) if none). It returns dot == -1
// when name has no package path.
func splitSymbol(name string) (dot, limit int) {
	lastSlash, limit := 0, len(name)
	for i, r := range name {
		if !escapedImportPathOK(r) {
			limit = i
			break
		}
		if r == '/' {
			lastSlash = i
		}
	}
	dot = strings.IndexByte(name[lastSlash:], '.')
	if dot < 0 || lastSlash+dot == 0 {
		return -1, limit // no dot, or a leading dot: the current package
	}
	return lastSlash + dot, limit
}

// mapSymbol maps the package path of the symbol name. It returns the new
// package path, the offset at which the old one ends in name, and whether
// the old one was written escaped.
func mapSymbol(name string, m *Mapping) (newPath string, end int, esc bool, ok bool) {
	dot, limit := splitSymbol(name)
	if dot < 0 {
		return "", 0, false, false
	}
	prefix := name[:dot]
	esc = strings.IndexByte(prefix, '%') >= 0
	pkg, valid := prefixToPath(prefix)
	if !valid {
		return "", 0, false, false
	}
	if newPath, ok := m.Lookup(pkg); ok {
		return newPath, dot, esc, true
	}
	if esc {
		return "", 0, false, false // an escaped path splits exactly
	}
	// An unescaped path whose last element has dots. No forked module is a
	// segment prefix of pkg, so only a module path equal to a longer
	// prefix can match.
	for end := dot + 1; end < limit && end <= m.maxLen; end++ {
		if name[end] == '.' && !m.keptPkgs[name[:end]] {
			if newPath, ok := m.Module(name[:end]); ok {
				return newPath, end, false, true
			}
		}
	}
	return "", 0, false, false
}

// rewriteLinkname returns the //go:linkname target with its package path
// mapped, in the original's escaping style.
func rewriteLinkname(target string, m *Mapping) (string, bool) {
	newPath, end, esc, ok := mapSymbol(target, m)
	if !ok {
		return "", false
	}
	if esc {
		newPath = pathToPrefix(newPath)
	}
	return newPath + target[end:], true
}

func escapedImportPathOK(r rune) bool {
	return r == '-' || r == '.' || r == '_' || r == '~' || r == '+' || r == '/' || r == '%' ||
		'0' <= r && r <= '9' || 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z'
}

// pathToPrefix escapes a package path for a symbol name, as
// cmd/internal/objabi.PathToPrefix does.
func pathToPrefix(s string) string {
	slash := strings.LastIndexByte(s, '/')
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || (c == '.' && i > slash) || c == '%' || c == '"' || c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// prefixToPath undoes pathToPrefix; it reports false for a malformed escape.
func prefixToPath(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
