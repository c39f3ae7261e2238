package fork

import (
	"bytes"
	"strings"

	"github.com/plugfork/plugfork/internal/closure"
	"github.com/plugfork/plugfork/rewrite"
)

// findings turns what the rewrite of the file rel (source src) found into
// the run's findings: a cgo finding only for a file that builds where Go
// builds plugins, and each string literal with what it may do at run time.
func findings(rel string, src []byte, found []rewrite.Finding) []Finding {
	var out []Finding
	for _, f := range found {
		if f.Kind == rewrite.FindingCgo && !closure.BuildsForPlugins(rel, src) {
			continue // aix, windows...: no plugin there
		}
		nf := newFinding(f)
		if f.Kind == rewrite.FindingStringLiteral {
			nf.Behaviour = behaviour(line(src, f.Pos.Line))
		}
		out = append(out, nf)
	}
	return out
}

// line returns line n (from 1) of src.
func line(src []byte, n int) string {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return string(src)
}

// behaviourRules say, from the words on a line, what a string literal that
// holds a forked path does there: it changes behaviour once the path is
// rewritten everywhere else but there.
var behaviourRules = []struct {
	words []string
	says  string
}{
	{[]string{"PkgPath", "%T", "reflect.", "TypeOf("}, "compared with a type's package path"},
	{[]string{"runtime.Caller", "FuncForPC", ".Function", "Frame", "debug.Stack"}, "matched against stack frames"},
	{[]string{"gob."}, "names a gob type"},
	{[]string{"linkname", ".Lookup(", "plugin."}, "names a symbol looked up at run time"},
	{[]string{"==", "!=", "HasPrefix(", "HasSuffix(", "Contains(", "case "}, "compared with a path at run time"},
}

// behaviour returns what a string literal on the line may do at run time,
// "" when nothing on the line says.
func behaviour(l string) string {
	for _, r := range behaviourRules {
		for _, w := range r.words {
			if strings.Contains(l, w) {
				return r.says
			}
		}
	}
	return ""
}
