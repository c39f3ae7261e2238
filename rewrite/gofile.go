package rewrite

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"github.com/plugfork/plugfork/internal/edit"
)

// Go rewrites the Go source file src: import specs in every form, the
// canonical import comment and //go:linkname targets that name a package of
// a forked module. Everything else stays byte for byte; build constraints are
// not evaluated. cgo files and string literals that hold forked paths are
// reported as findings, not rewritten. A file that does not parse is an error
// of the form "file:line:col: msg".
func Go(filename string, src []byte, m *Mapping) (Result, error) {
	g, f, err := parseGo(filename, src, m, parser.ParseComments)
	if err != nil {
		return Result{}, err
	}
	if err := g.rewrite(f); err != nil {
		return Result{}, err
	}
	return finish(filename, g.buf, g.findings)
}

// GoFast is Go for sources known to compile, such as the go.sum-verified
// files of published modules: only the package clause and the imports are
// parsed, and the rest of the file is tokenized, which is several times
// faster. The result is Go's for every file that parses; past the imports,
// only token errors (an unterminated string, say) are reported, not syntax
// errors.
func GoFast(filename string, src []byte, m *Mapping) (Result, error) {
	g, f, err := parseGo(filename, src, m, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return Result{}, err
	}
	preamble, err := g.header(f)
	if err != nil {
		return Result{}, err
	}
	// The parser read up to here: its comments are handled from the AST,
	// the scanner takes what follows.
	rest := g.offset(f.Name.End())
	for _, cg := range f.Comments {
		if !preamble[cg] {
			for _, c := range cg.List {
				g.linkname(c)
			}
		}
		rest = max(rest, g.offset(cg.End()))
	}
	for _, d := range f.Decls {
		rest = max(rest, g.offset(d.End()))
	}
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(g.file, src, func(pos token.Position, msg string) { errs.Add(pos, msg) }, scanner.ScanComments)
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if g.offset(pos) < rest {
			continue
		}
		switch tok {
		case token.COMMENT:
			g.linkname(&ast.Comment{Slash: pos, Text: lit})
		case token.STRING:
			g.stringLit(&ast.BasicLit{ValuePos: pos, Kind: token.STRING, Value: lit})
		}
	}
	if len(errs) > 0 {
		return Result{}, sourceError(errs)
	}
	return finish(filename, g.buf, g.findings)
}

// parseGo parses src with mode and returns the rewrite state for it.
func parseGo(filename string, src []byte, m *Mapping, mode parser.Mode) (*goFile, *ast.File, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, mode|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil, sourceError(err)
	}
	return &goFile{name: filename, src: src, file: fset.File(f.FileStart), m: m, buf: edit.NewBuffer(src)}, f, nil
}

// Imports returns every import spec of the Go source file src in source
// order, import "C" included. Only the package clause and the imports need to
// parse.
func Imports(filename string, src []byte) ([]Import, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ImportsOnly|parser.SkipObjectResolution)
	if err != nil {
		return nil, sourceError(err)
	}
	file := fset.File(f.FileStart)
	imports := make([]Import, 0, len(f.Imports))
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid import path %s", position(file, spec.Path.Pos()), spec.Path.Value)
		}
		imports = append(imports, Import{Path: path, Pos: position(file, spec.Path.Pos())})
	}
	return imports, nil
}

// Import is one import spec of a Go file.
type Import struct {
	Path string   `json:"path"`
	Pos  Position `json:"pos"`
}

type goFile struct {
	name     string
	src      []byte
	file     *token.File
	m        *Mapping
	buf      *edit.Buffer
	findings []Finding
}

func (g *goFile) offset(p token.Pos) int { return g.file.Offset(p) }

func (g *goFile) pos(p token.Pos) Position { return position(g.file, p) }

func (g *goFile) rewrite(f *ast.File) error {
	preamble, err := g.header(f)
	if err != nil {
		return err
	}
	for _, cg := range f.Comments {
		if preamble[cg] {
			continue
		}
		for _, c := range cg.List {
			g.linkname(c)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GenDecl:
			return n.Tok != token.IMPORT
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				g.stringLit(n)
			}
		}
		return true
	})
	return nil
}

// header rewrites the import specs and the canonical import comment, and
// returns the comment groups that are a cgo preamble, which stay untouched.
func (g *goFile) header(f *ast.File) (map[*ast.CommentGroup]bool, error) {
	preamble := make(map[*ast.CommentGroup]bool)
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.IMPORT {
			continue
		}
		for _, spec := range gen.Specs {
			spec := spec.(*ast.ImportSpec)
			cgo, err := g.importSpec(spec)
			if err != nil {
				return nil, err
			}
			if cgo {
				preamble[spec.Doc] = true
				if !gen.Lparen.IsValid() {
					preamble[gen.Doc] = true
				}
			}
		}
	}
	g.importComment(f)
	return preamble, nil
}

// importSpec rewrites the path of one import spec, keeping its quoting
// style. It reports whether the spec is import "C".
func (g *goFile) importSpec(spec *ast.ImportSpec) (cgo bool, err error) {
	lit := spec.Path
	path, err := strconv.Unquote(lit.Value)
	if err != nil {
		return false, fmt.Errorf("%s: invalid import path %s", g.pos(lit.Pos()), lit.Value)
	}
	if path == "C" {
		g.findings = append(g.findings, Finding{
			Pos:     g.pos(lit.Pos()),
			Kind:    FindingCgo,
			Message: `file uses cgo (import "C"): C symbols are not renamed, so a forked copy and the original can clash at the C symbol level in one process`,
		})
		return true, nil
	}
	if start, end, repl, ok := mapLiteral(lit.Value, path, g.m); ok {
		off := g.offset(lit.Pos())
		g.buf.Replace(off+start, off+end, repl)
	}
	return false, nil
}

// mapLiteral maps the path held by the Go string literal lit. It returns
// the span of lit to replace and its replacement: when lit spells the forked
// module path out verbatim, only that part is replaced, so the rest of the
// literal (escapes included) stays; otherwise the whole literal is requoted
// in its own style (back quotes stay back quotes).
func mapLiteral(lit, path string, m *Mapping) (start, end int, repl string, ok bool) {
	if m.keptPkgs[path] {
		return 0, 0, "", false
	}
	oldMod, ok := m.owner(path)
	if !ok {
		return 0, 0, "", false
	}
	newMod := m.old2new[oldMod]
	if strings.HasPrefix(lit[1:], oldMod) {
		if next := lit[1+len(oldMod)]; next == '/' || next == lit[0] {
			return 1, 1 + len(oldMod), newMod, true
		}
	}
	newPath := newMod + path[len(oldMod):]
	if lit[0] == '`' && !strings.Contains(newPath, "`") {
		return 0, len(lit), "`" + newPath + "`", true
	}
	return 0, len(lit), strconv.Quote(newPath), true
}

// importComment rewrites a canonical import comment, package x // import "path"
// or package x /* import "path" */, recognized as go/build does.
func (g *goFile) importComment(f *ast.File) {
	nameEnd := g.offset(f.Name.End())
	var c *ast.Comment
	for _, cg := range f.Comments {
		if g.offset(cg.Pos()) >= nameEnd {
			c = cg.List[0]
			break
		}
	}
	if c == nil {
		return
	}
	start := g.offset(c.Pos())
	if strings.Trim(string(g.src[nameEnd:start]), " \t\r") != "" {
		return
	}
	text := c.Text
	var body string
	switch {
	case strings.HasPrefix(text, "//"):
		body = text[2:]
	case strings.HasPrefix(text, "/*"):
		body = strings.TrimSuffix(text[2:], "*/")
		if strings.Contains(body, "\n") {
			return
		}
	}
	trimmed := strings.TrimLeft(body, " \t\r")
	rest, ok := strings.CutPrefix(trimmed, "import")
	if !ok || rest == "" || !isSpace(rest[0]) {
		return
	}
	arg := strings.TrimSpace(rest)
	path, err := strconv.Unquote(arg)
	if err != nil {
		return
	}
	litStart, litEnd, repl, ok := mapLiteral(arg, path, g.m)
	if !ok || text[1] == '*' && strings.Contains(repl, "*/") {
		return
	}
	argStart := start + 2 + (len(body) - len(rest)) + strings.Index(rest, arg)
	g.buf.Replace(argStart+litStart, argStart+litEnd, repl)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// linkname rewrites the target of a two-argument //go:linkname directive
// when the target's package maps.
func (g *goFile) linkname(c *ast.Comment) {
	rest, ok := strings.CutPrefix(c.Text, "//go:linkname")
	if !ok || rest == "" || !isSpace(rest[0]) {
		return
	}
	fields := fieldOffsets(rest)
	if len(fields) != 2 {
		return
	}
	target := rest[fields[1][0]:fields[1][1]]
	newTarget, ok := rewriteLinkname(target, g.m)
	if !ok {
		return
	}
	start := g.offset(c.Pos()) + len("//go:linkname") + fields[1][0]
	g.buf.Replace(start, start+len(target), newTarget)
}

// fieldOffsets returns the [start,end) offsets of the space-separated fields of s.
func fieldOffsets(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// stringLit reports a string literal that holds a forked path.
func (g *goFile) stringLit(lit *ast.BasicLit) {
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return
	}
	for _, path := range forkedPathsIn(s, g.m) {
		newPath, _ := g.m.Lookup(path)
		g.findings = append(g.findings, Finding{
			Pos:     g.pos(lit.Pos()),
			Kind:    FindingStringLiteral,
			Path:    path,
			Message: fmt.Sprintf("string literal holds forked path %s (now %s); not rewritten", path, newPath),
		})
	}
}

// forkedPathsIn returns the forked package paths that s holds as whole paths:
// maximal runs of path characters (leading and trailing "/" and "." trimmed)
// that map, or whose part before a "." after the last "/" maps (a qualified
// symbol such as "example.com/lib.Func"). Each path is returned once.
func forkedPathsIn(s string, m *Mapping) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isPathChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isPathChar(s[j]) {
			j++
		}
		run := strings.Trim(s[i:j], "/.")
		i = j
		if path, ok := mappedPrefix(run, m); ok && !slices.Contains(out, path) {
			out = append(out, path)
		}
	}
	return out
}

// mappedPrefix returns run if m maps it, or else the longest prefix of run
// ending before a "." after its last "/" that is a forked module path.
func mappedPrefix(run string, m *Mapping) (string, bool) {
	if run == "" {
		return "", false
	}
	if _, ok := m.Lookup(run); ok {
		return run, true
	}
	// As run does not map, no forked module is a segment prefix of it, and
	// only a module path equal to a prefix can match.
	slash := strings.LastIndexByte(run, '/')
	for k := min(len(run)-1, m.maxLen); k > slash; k-- {
		if run[k] == '.' {
			if _, ok := m.Module(run[:k]); ok {
				return run[:k], true
			}
		}
	}
	return "", false
}

// isPathChar reports whether c may appear in an import path.
func isPathChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}
