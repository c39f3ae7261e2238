// Package rewrite rewrites Go, assembly and go.mod sources from forked module paths to new ones, as byte edits.
package rewrite

import (
	"cmp"
	"fmt"
	"go/scanner"
	"go/token"
	"slices"

	"github.com/plugfork/plugfork/internal/edit"
)

// Position is a place in a source file; Line and Col (a byte column) count from 1.
type Position struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// String returns the position as file:line:col.
func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// FindingKind classifies a Finding.
type FindingKind string

// The kinds of Finding.
const (
	// FindingCgo reports a file that imports "C": its C symbols are not renamed.
	FindingCgo FindingKind = "cgo"
	// FindingStringLiteral reports a string literal holding a forked path.
	FindingStringLiteral FindingKind = "string-literal"
)

// A Finding is something a rewrite noticed but did not change.
type Finding struct {
	Pos     Position    `json:"pos"`
	Kind    FindingKind `json:"kind"`
	Path    string      `json:"path,omitempty"` // the forked path a string literal holds
	Message string      `json:"message"`
}

// String returns the finding as "file:line:col: message".
func (f Finding) String() string {
	return f.Pos.String() + ": " + f.Message
}

// Result is the outcome of rewriting one file.
type Result struct {
	Src      []byte      // rewritten content; the input slice itself when nothing changed
	Edits    []edit.Edit // the edits applied, sorted
	Findings []Finding   // sorted by position
}

// Changed reports whether the rewrite changed the file.
func (r Result) Changed() bool { return len(r.Edits) > 0 }

// finish applies the buffered edits and sorts the findings.
func finish(filename string, b *edit.Buffer, findings []Finding) (Result, error) {
	out, err := b.Bytes()
	if err != nil {
		// Only a bug in this package produces bad edits.
		return Result{}, fmt.Errorf("%s: rewriting: %w", filename, err)
	}
	sortFindings(findings)
	res := Result{Src: out, Findings: findings}
	if b.Len() > 0 {
		res.Edits = b.Edits()
	}
	return res, nil
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// sourceError turns a parse error into a "file:line:col: msg" error.
func sourceError(err error) error {
	if list, ok := err.(scanner.ErrorList); ok && len(list) > 0 {
		list.Sort()
		list.RemoveMultiples()
		return list.Err()
	}
	return err
}

// position returns the unadjusted (ignoring //line directives) position of pos.
func position(file *token.File, pos token.Pos) Position {
	p := file.PositionFor(pos, false)
	return Position{File: p.Filename, Line: p.Line, Col: p.Column}
}
