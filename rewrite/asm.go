package rewrite

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/plugfork/plugfork/internal/edit"
)

// Asm rewrites the Go assembly file src: symbol references whose package
// maps, such as example·com∕lib∕impl·Value, get the new package path. The
// assembler reads '·' (U+00B7) as '.' and '∕' (U+2215) as '/'; the new path
// is written with '∕' for '/' and with '·' for '.', unless the original path
// wrote a plain '.' (which the assembler rejects, but which names the package
// all the same). References to the current package (·sym), to unmapped
// packages, and text in comments, strings and character literals stay as
// they are.
func Asm(filename string, src []byte, m *Mapping) (Result, error) {
	buf := edit.NewBuffer(src)
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			i = skipTo(src, i+2, "\n")
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			i = skipTo(src, i+2, "*/")
		case c == '"' || c == '\'':
			i = skipQuoted(src, i)
		default:
			r, size := utf8.DecodeRune(src[i:])
			if !isAsmSymbolRune(r) {
				i += size
				continue
			}
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRune(src[j:])
				if !isAsmSymbolRune(r) {
					break
				}
				j += size
			}
			asmSymbol(buf, src, i, j, m)
			i = j
		}
	}
	return finish(filename, buf, nil)
}

// isAsmSymbolRune reports whether r may be part of an assembly symbol name:
// the assembler's identifier runes, plus '.' for paths written with dots.
func isAsmSymbolRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '·' || r == '∕'
}

// asmSymbol rewrites the package path of the symbol src[start:end] if it maps.
func asmSymbol(buf *edit.Buffer, src []byte, start, end int, m *Mapping) {
	word := string(src[start:end])
	if !strings.ContainsAny(word, "·∕") {
		return
	}
	// Decode the word, remembering where each decoded byte came from.
	var dec strings.Builder
	orig := make([]int, 0, len(word)+1) // orig[k]: offset in word of decoded byte k
	for k, r := range word {
		switch r {
		case '·':
			dec.WriteByte('.')
			orig = append(orig, k)
		case '∕':
			dec.WriteByte('/')
			orig = append(orig, k)
		default:
			n, _ := dec.WriteRune(r)
			for x := range n {
				orig = append(orig, k+x)
			}
		}
	}
	orig = append(orig, len(word))
	newPath, pkgEnd, _, ok := mapSymbol(dec.String(), m)
	if !ok {
		return
	}
	oldPart := word[:orig[pkgEnd]]
	dot := "·"
	if strings.Contains(oldPart, ".") {
		dot = "."
	}
	enc := strings.NewReplacer("/", "∕", ".", dot).Replace(newPath)
	buf.Replace(start, start+len(oldPart), enc)
}

// skipTo returns the offset just past the first occurrence of end in src at
// or after i, or len(src).
func skipTo(src []byte, i int, end string) int {
	if k := bytes.Index(src[i:], []byte(end)); k >= 0 {
		return i + k + len(end)
	}
	return len(src)
}

// skipQuoted returns the offset just past the string or character literal
// starting at src[i], which ends at its closing quote or at the end of line.
func skipQuoted(src []byte, i int) int {
	q := src[i]
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case q:
			return i + 1
		case '\n':
			return i
		}
	}
	return len(src)
}
