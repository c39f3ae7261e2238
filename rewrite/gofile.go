package rewrite

import (
	"bytes"
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
		edits := make(map[*ast.ImportSpec]litEdit)
		for _, spec := range gen.Specs {
			spec := spec.(*ast.ImportSpec)
			e, cgo, err := g.importSpec(spec)
			if err != nil {
				return nil, err
			}
			if e.repl != "" {
				edits[spec] = e
			}
			if cgo {
				preamble[spec.Doc] = true
				if !gen.Lparen.IsValid() {
					preamble[gen.Doc] = true
				}
			}
		}
		if gen.Lparen.IsValid() {
			for _, run := range g.importRuns(gen) {
				g.sortRun(run, edits)
			}
		}
		for _, e := range edits {
			g.buf.Replace(e.start, e.end, e.repl)
		}
	}
	g.importComment(f)
	return preamble, nil
}

// litEdit is the rewrite of an import path: the source's bytes
// [start, end) become repl, and the spec's path is then path.
type litEdit struct {
	start, end int
	repl       string
	path       string
}

// importSpec returns the rewrite of the path of one import spec, keeping
// its quoting style (none: an empty repl). It reports whether the spec is
// import "C".
func (g *goFile) importSpec(spec *ast.ImportSpec) (e litEdit, cgo bool, err error) {
	lit := spec.Path
	path, err := strconv.Unquote(lit.Value)
	if err != nil {
		return litEdit{}, false, fmt.Errorf("%s: invalid import path %s", g.pos(lit.Pos()), lit.Value)
	}
	if path == "C" {
		g.findings = append(g.findings, Finding{
			Pos:     g.pos(lit.Pos()),
			Kind:    FindingCgo,
			Message: `file uses cgo (import "C"): C symbols are not renamed, so a forked copy and the original can clash at the C symbol level in one process`,
		})
		return litEdit{}, true, nil
	}
	if start, end, repl, ok := mapLiteral(lit.Value, path, g.m); ok {
		off := g.offset(lit.Pos())
		newPath, _ := g.m.Lookup(path)
		return litEdit{start: off + start, end: off + end, repl: repl, path: newPath}, false, nil
	}
	return litEdit{}, false, nil
}

// importRuns splits the specs of an import block into runs as gofmt does
// (go/ast.SortImports): specs on successive lines, each run sorted on its
// own.
func (g *goFile) importRuns(gen *ast.GenDecl) [][]*ast.ImportSpec {
	var runs [][]*ast.ImportSpec
	var run []*ast.ImportSpec
	for i, spec := range gen.Specs {
		if i > 0 && g.line(spec.Pos()) > 1+g.line(gen.Specs[i-1].End()) {
			runs = append(runs, run)
			run = nil
		}
		run = append(run, spec.(*ast.ImportSpec))
	}
	return append(runs, run)
}

func (g *goFile) line(p token.Pos) int { return g.file.PositionFor(p, false).Line }

// sortRun keeps a run of import specs as gofmt would have it when the
// rewrite of their paths changes their lengths and order: a run that was
// sorted (by path, then name, then comment) before the rewrite is sorted
// after it, whole spec lines moving with their comments, and a run whose
// trailing comments gofmt had aligned has them aligned again. Its specs'
// edits are then done here and removed from edits. A run whose specs do
// not each have a line of their own is left to the edits of its paths.
func (g *goFile) sortRun(run []*ast.ImportSpec, edits map[*ast.ImportSpec]litEdit) {
	lines := make([]specLine, len(run))
	rewritten := false
	for i, spec := range run {
		l, ok := g.specLine(spec)
		if !ok {
			return
		}
		lines[i] = l
		if e, ok := edits[spec]; ok {
			rewritten = true
			lines[i].newPath = e.path
			off := g.offset(spec.Pos())
			lines[i].newSpec = l.spec[:e.start-off] + e.repl + l.spec[e.end-off:]
		}
	}
	if !rewritten {
		return
	}
	before := make([]importKey, len(run))
	after := make([]importKey, len(run))
	for i, l := range lines {
		before[i] = l.key
		after[i] = l.key
		after[i].path = l.newPath
	}
	order := make([]int, len(run))
	for i := range order {
		order[i] = i
	}
	if slices.IsSortedFunc(before, compareImports) {
		slices.SortStableFunc(order, func(i, j int) int { return compareImports(after[i], after[j]) })
	}
	first, last := lines[0].start, lines[len(lines)-1].end
	var oldLines, newLines []lineParts
	for _, l := range lines {
		oldLines = append(oldLines, lineParts{l.indent, l.spec, l.comments})
	}
	for _, i := range order {
		l := lines[i]
		newLines = append(newLines, lineParts{l.indent, l.newSpec, l.comments})
	}
	var text string
	switch {
	case aligned(oldLines) == string(g.src[first:last]):
		text = aligned(newLines) // gofmt's alignment, kept
	case !slices.IsSorted(order):
		var b strings.Builder
		for k, i := range order {
			if k > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(lines[i].indent + lines[i].newSpec + lines[i].tail)
		}
		text = b.String()
	default:
		return // the edits of the paths do
	}
	g.buf.Replace(first, last, text)
	for _, spec := range run {
		delete(edits, spec)
	}
}

// importKey is what gofmt sorts import specs by.
type importKey struct{ path, name, comment string }

func compareImports(a, b importKey) int {
	return cmp.Or(strings.Compare(a.path, b.path), strings.Compare(a.name, b.name), strings.Compare(a.comment, b.comment))
}

// specLine is the line of an import spec that has it to itself: the bytes
// [start, end) up to its newline are indent, spec and tail, the tail being
// spaces and the comments.
type specLine struct {
	start, end    int
	indent        string
	spec, newSpec string // the spec's text, before and after the rewrite of its path
	tail          string
	comments      []string
	key           importKey
	newPath       string
}

// specLine returns the line of an import spec and reports whether the line
// holds only the spec and comments after it.
func (g *goFile) specLine(spec *ast.ImportSpec) (specLine, bool) {
	pos, stop := g.offset(spec.Pos()), g.offset(spec.End())
	start := bytes.LastIndexByte(g.src[:pos], '\n') + 1
	indent := string(g.src[start:pos])
	if strings.Trim(indent, " \t") != "" || bytes.IndexByte(g.src[pos:stop], '\n') >= 0 {
		return specLine{}, false
	}
	end := len(g.src)
	if i := bytes.IndexByte(g.src[stop:], '\n'); i >= 0 {
		end = stop + i
	}
	l := specLine{start: start, end: end, indent: indent, spec: string(g.src[pos:stop]), tail: string(g.src[stop:end])}
	l.newSpec = l.spec
	l.key.path, _ = strconv.Unquote(spec.Path.Value)
	l.newPath = l.key.path
	if spec.Name != nil {
		l.key.name = spec.Name.Name
	}
	if spec.Comment != nil {
		l.key.comment = spec.Comment.Text()
	}
	for rest := l.tail; ; {
		rest = strings.TrimLeft(rest, " \t\r")
		switch {
		case rest == "":
			return l, true
		case strings.HasPrefix(rest, "//"):
			l.comments = append(l.comments, rest)
			return l, true
		case strings.HasPrefix(rest, "/*"):
			i := strings.Index(rest, "*/")
			if i < 0 {
				return specLine{}, false
			}
			l.comments = append(l.comments, rest[:i+2])
			rest = rest[i+2:]
		default:
			return specLine{}, false
		}
	}
}

// lineParts is a spec line as gofmt sees it: cells of text.
type lineParts struct {
	indent, spec string
	comments     []string
}

// aligned returns the lines as gofmt prints them: a spec's comments follow
// it in columns, which text/tabwriter aligns across successive lines that
// have a cell in that column, one space past the widest.
func aligned(lines []lineParts) string {
	cells := make([][]string, len(lines))
	for i, l := range lines {
		cells[i] = append([]string{l.spec}, l.comments...)
	}
	// Each line's text so far; column col of a line is padded when a
	// later cell follows it.
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.indent
	}
	for col := 0; ; col++ {
		any := false
		for i := 0; i < len(cells); {
			if col >= len(cells[i])-1 {
				if col == len(cells[i])-1 {
					out[i] += cells[i][col] // the last cell: not padded
				}
				i++
				continue
			}
			j := i
			width := 0
			for ; j < len(cells) && col < len(cells[j])-1; j++ {
				width = max(width, utf8.RuneCountInString(cells[j][col]))
			}
			for k := i; k < j; k++ {
				out[k] += cells[k][col] + strings.Repeat(" ", width+1-utf8.RuneCountInString(cells[k][col]))
			}
			any = true
			i = j
		}
		if !any {
			break
		}
	}
	return strings.Join(out, "\n")
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
