package closure

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goFileInfo is what the closure needs from a Go file, read without type
// information: its imports, whether go mod vendor would keep it, and the
// files it pulls in through //go:embed and cgo.
type goFileInfo struct {
	Name        string // the package clause's name
	Imports     []string
	Ignored     bool     // constrained to "ignore": no build uses it
	Embeds      []string // //go:embed patterns
	CgoIncludes []string // paths a cgo preamble refers to relative to the package dir
	Includes    []string // the cgo preamble's #include "..." paths
}

var srcdirRE = regexp.MustCompile(`\$\{SRCDIR\}/([^\s"'\\]+)`)
var includeRE = regexp.MustCompile(`(?m)^\s*#\s*include\s*"([^"]+)"`)

// readGoFile reads a Go file's header. A file that does not parse is an
// error naming file:line:col.
func readGoFile(fset *token.FileSet, filename string, src []byte) (*goFileInfo, error) {
	f, err := parser.ParseFile(fset, filename, src, parser.ImportsOnly|parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	info := &goFileInfo{Name: f.Name.Name}
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if constraint.IsGoBuild(c.Text) || constraint.IsPlusBuild(c.Text) {
				if expr, err := constraint.Parse(c.Text); err == nil && !anyTags(expr, true) {
					info.Ignored = true
				}
			}
		}
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, s := range gd.Specs {
			spec := s.(*ast.ImportSpec)
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				continue
			}
			info.Imports = append(info.Imports, p)
			if p != "C" {
				continue
			}
			// The cgo preamble: the spec's doc in a group, else the decl's.
			doc := spec.Doc
			if doc == nil && !gd.Lparen.IsValid() {
				doc = gd.Doc
			}
			if doc == nil {
				continue
			}
			pre := doc.Text()
			for _, m := range srcdirRE.FindAllStringSubmatch(pre, -1) {
				info.CgoIncludes = append(info.CgoIncludes, m[1])
			}
			for _, m := range includeRE.FindAllStringSubmatch(pre, -1) {
				info.Includes = append(info.Includes, m[1])
				if strings.Contains(m[1], "/") {
					info.CgoIncludes = append(info.CgoIncludes, m[1])
				}
			}
		}
	}
	if bytes.Contains(src, []byte("//go:embed")) {
		sc := bufio.NewScanner(bytes.NewReader(src))
		sc.Buffer(nil, len(src)+1)
		for sc.Scan() {
			line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "//go:embed ")
			if ok {
				info.Embeds = append(info.Embeds, embedPatterns(line)...)
			}
		}
	}
	return info, nil
}

// anyTags evaluates a build constraint the way go mod vendor does: every tag
// is satisfied whichever way is preferred, except "ignore", which never is.
func anyTags(x constraint.Expr, prefer bool) bool {
	switch x := x.(type) {
	case *constraint.TagExpr:
		if x.Tag == "ignore" {
			return false
		}
		return prefer
	case *constraint.NotExpr:
		return !anyTags(x.X, !prefer)
	case *constraint.AndExpr:
		return anyTags(x.X, prefer) && anyTags(x.Y, prefer)
	case *constraint.OrExpr:
		return anyTags(x.X, prefer) || anyTags(x.Y, prefer)
	}
	return true
}

// embedPatterns splits the arguments of a //go:embed line.
func embedPatterns(args string) []string {
	var out []string
	for args = strings.TrimSpace(args); args != ""; args = strings.TrimSpace(args) {
		var p string
		switch args[0] {
		case '"', '`':
			q, err := strconv.QuotedPrefix(args)
			if err != nil {
				return out
			}
			p, _ = strconv.Unquote(q)
			args = args[len(q):]
		default:
			i := strings.IndexAny(args, " \t")
			if i < 0 {
				i = len(args)
			}
			p, args = args[:i], args[i:]
		}
		out = append(out, p)
	}
	return out
}

// PluginOS are the operating systems Go builds plugins for.
var PluginOS = []string{"linux", "darwin", "freebsd"}

// knownOS are the GOOS values: a file named x_GOOS.go, or a constraint
// naming one, builds only there.
var knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"}

// unixOS are the GOOS values the "unix" constraint is true for.
var unixOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "linux", "netbsd", "openbsd", "solaris"}

// BuildsForPlugins reports whether the Go file name (its base name counts)
// with source src builds on some operating system Go builds plugins for:
// its name's _GOOS suffix and its build constraint allow one of PluginOS,
// with any architecture and any other tags. The constraint is the
// //go:build line, or else the // +build lines, all of which must hold, as
// the go command reads them.
func BuildsForPlugins(name string, src []byte) bool {
	expr := fileConstraint(src)
	fileOS, _ := nameSuffix(name)
	for _, goos := range PluginOS {
		if fileOS != "" && fileOS != goos {
			continue
		}
		if expr == nil || expr.Eval(func(tag string) bool {
			switch {
			case tag == goos, tag == "unix" && slices.Contains(unixOS, goos):
				return true
			case slices.Contains(knownOS, tag), tag == "unix", tag == "ignore":
				return false
			}
			return true // an architecture, a release, cgo, a custom tag: some build has it
		}) {
			return true
		}
	}
	return false
}
