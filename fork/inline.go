package fork

import (
	"bytes"
	"fmt"
	"go/build/constraint"
	gover "go/version"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/mod/modfile"
)

// An inline fork has no go.mod: its files take the host's language version.
// What a module boundary gave them is kept with a //go:build line instead.
// A file's go1.N term sets its version, downward too, but never below
// go1.21 (go/types uses max(file version, go1.21)): a fork whose go.mod
// says go 1.21 or older keeps the semantics that changed after it (per-loop
// for variables, go1.22) with the term go1.21. What changed before go1.21
// cannot be kept this way, and needs none: those changes were additions.

// fileVersionFloor is the oldest language version a //go:build line can
// give a file.
const fileVersionFloor = "go1.21"

// goVersion returns the language version of the module in dir as its
// go.mod's go line says it ("go1.21"), or the go1.16 the go command assumes
// for a module without a go.mod or a go line.
func goVersion(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if os.IsNotExist(err) {
		return "go1.16", nil
	}
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		return "", err
	}
	if f.Go == nil {
		return "go1.16", nil
	}
	return "go" + f.Go.Version, nil
}

// pinsVersion reports whether the files of a module at language version
// forkGo, inlined in a host at hostGo, need a //go:build go1.21 term to
// keep their semantics: the module is older than go1.22 and the host is
// not.
func pinsVersion(forkGo, hostGo string) bool {
	return gover.Compare(forkGo, "go1.22") < 0 && gover.Compare(hostGo, "go1.22") >= 0
}

// withFileVersion returns the Go source src with its build constraint
// combined with the term go1.21 (//go:build linux && go1.21), or the line
// //go:build go1.21 added when it has none. Old // +build lines are folded
// into the //go:build line, which replaces them. A constraint that already
// sets go1.21 or later is left as it is.
func withFileVersion(src []byte) ([]byte, error) {
	var goBuild *span
	var plus []span
	var expr constraint.Expr
	for off := 0; off < len(src); {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += off + 1
		}
		line := bytes.TrimSpace(src[off:end])
		if len(line) > 0 && !bytes.HasPrefix(line, []byte("//")) {
			break // the header ends at the first line that is no line comment
		}
		text := string(line)
		switch {
		case constraint.IsGoBuild(text):
			if goBuild != nil {
				return nil, fmt.Errorf("two //go:build lines")
			}
			e, err := constraint.Parse(text)
			if err != nil {
				return nil, err
			}
			goBuild, expr = &span{off, end}, e
		case constraint.IsPlusBuild(text):
			plus = append(plus, span{off, end})
		}
		off = end
	}
	if goBuild == nil {
		// The // +build lines, ANDed, are the constraint.
		for _, h := range plus {
			e, err := constraint.Parse(string(bytes.TrimSpace(src[h.start:h.end])))
			if err != nil {
				return nil, err
			}
			if expr == nil {
				expr = e
			} else {
				expr = &constraint.AndExpr{X: expr, Y: e}
			}
		}
	}
	if expr != nil {
		if v := constraint.GoVersion(expr); v != "" && gover.Compare(v, fileVersionFloor) >= 0 {
			return src, nil
		}
	}
	term := &constraint.TagExpr{Tag: fileVersionFloor}
	line := "//go:build " + term.String() + "\n"
	if expr != nil {
		line = "//go:build " + (&constraint.AndExpr{X: expr, Y: term}).String() + "\n"
	}
	// The new line replaces the //go:build line, else the first + build
	// line; the other + build lines go.
	var out []byte
	at := 0
	switch {
	case goBuild != nil:
		at = goBuild.start
	case len(plus) > 0:
		at = plus[0].start
	}
	drop := slices.Clone(plus)
	if goBuild != nil {
		drop = append(drop, *goBuild)
	}
	slices.SortFunc(drop, func(a, b span) int { return a.start - b.start })
	prev := 0
	placed := false
	emit := func(upTo int) {
		if !placed && at <= upTo {
			out = append(out, src[prev:at]...)
			out = append(out, line...)
			if goBuild == nil && len(plus) == 0 {
				out = append(out, '\n') // a constraint line must be followed by a blank line
			}
			prev, placed = at, true
		}
	}
	for _, h := range drop {
		emit(h.start)
		out = append(out, src[prev:h.start]...)
		prev = h.end
	}
	emit(len(src))
	out = append(out, src[prev:]...)
	return out, nil
}

// span is a line of a file: its start, and its end after the newline.
type span struct{ start, end int }
