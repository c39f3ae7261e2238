// Package hazard is plugfork's knowledge of how two copies of a library in
// one process break: init-time registrations of fixed names in registries
// the standard library (or a shared protobuf runtime) owns, whose second
// copy panics inside plugin.Open, and process-wide singletons that split in
// two. It holds the table of well-known libraries, the knobs that remove a
// registration, and the scan that finds registrations in source. Fork and
// inspect share it.
package hazard

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"github.com/plugfork/plugfork/internal/pkgpath"
)

// Registry is a process-wide registry keyed by a name.
type Registry string

// The registries.
const (
	SQL      Registry = "database/sql"             // sql.Register
	HTTP     Registry = "net/http.DefaultServeMux" // http.Handle, http.HandleFunc
	Flag     Registry = "flag.CommandLine"         // flag.Bool, flag.Var, ...
	Expvar   Registry = "expvar"                   // expvar.Publish, expvar.NewInt, ...
	Gob      Registry = "encoding/gob"             // gob.Register, gob.RegisterName
	Protobuf Registry = "protobuf"                 // the protobuf runtime's global file registry, by .proto path
)

// Registries are all the registries, in a fixed order.
var Registries = []Registry{SQL, HTTP, Flag, Expvar, Gob, Protobuf}

// ProtoRegistry is the package that holds the protobuf runtime's global
// registry: two binaries share the registry only when they share it.
const ProtoRegistry = "google.golang.org/protobuf/reflect/protoregistry"

// Registration is a package that registers a fixed name in a registry when
// it initializes: a second copy of the package in the process (the host's
// fork and a plugin's original) panics in its init, inside plugin.Open.
type Registration struct {
	Package  string   `json:"package"` // the registering package, by its upstream import path
	Registry Registry `json:"registry"`
	Name     string   `json:"name"`
	// Panic is the package's own panic before it registers (a self-check,
	// as golang.org/x/net/trace has), "" when the registry panics.
	Panic string `json:"panic,omitempty"`
	// Var is the package-level string variable the name comes from, when
	// it does: the linker's -X sets it, which renames (or, for some
	// libraries, skips) the registration.
	Var  string `json:"var,omitempty"`
	Pos  string `json:"pos,omitempty"`  // where the call is, for registrations found in source
	Call string `json:"call,omitempty"` // the call, as written: sql.Register("postgres")
}

// PanicText returns what the init of the second copy panics with, when
// the copy of package first registered Name already and the copy of
// package second registers it. program is the host program's name (the
// flag package prefixes its message with it).
func (r Registration) PanicText(first, second, program string) string {
	if r.Panic != "" {
		return r.Panic
	}
	switch r.Registry {
	case SQL:
		return "sql: Register called twice for driver " + r.Name
	case HTTP:
		return fmt.Sprintf("pattern %q (registered at ...) conflicts with pattern %q (registered at ...)", r.Name, r.Name)
	case Flag:
		return program + " flag redefined: " + r.Name
	case Expvar:
		return "Reuse of exported var name: " + r.Name
	case Gob:
		return fmt.Sprintf("gob: registering duplicate types for %q: ... != ...", r.Name)
	case Protobuf:
		return fmt.Sprintf("proto: file %q is already registered\n\tpreviously from: %q\n\tcurrently from:  %q\nSee https://protobuf.dev/reference/go/faq#namespace-conflict", r.Name, first, second)
	}
	return ""
}

// traceSelfCheck is golang.org/x/net/trace's panic when /debug/requests is
// taken: its init checks before it registers.
const traceSelfCheck = "/debug/requests is already registered. You may have two independent copies of " +
	"golang.org/x/net/trace in your binary, trying to maintain separate state. This may " +
	"involve a vendored copy of golang.org/x/net/trace."

// Known are the registrations of well-known libraries, from their sources:
// the first name each registers at init, which is where a second copy
// panics.
var Known = []Registration{
	{Package: "golang.org/x/net/trace", Registry: HTTP, Name: "/debug/requests", Panic: traceSelfCheck},
	{Package: "github.com/lib/pq", Registry: SQL, Name: "postgres"},
	{Package: "github.com/go-sql-driver/mysql", Registry: SQL, Name: "mysql", Var: "driverName"}, // v1.8.0 and later; "" skips it
	{Package: "github.com/mattn/go-sqlite3", Registry: SQL, Name: "sqlite3", Var: "driverName"},  // v1.14.11 and later; "" skips it
	{Package: "github.com/jackc/pgx/v5/stdlib", Registry: SQL, Name: "pgx/v5"},                   // "pgx" is skipped when taken
	{Package: "github.com/jackc/pgx/v4/stdlib", Registry: SQL, Name: "pgx/v4"},
	{Package: "github.com/golang/glog", Registry: Flag, Name: "log_dir"}, // its flags on flag.CommandLine, log_dir first
	{Package: "github.com/google/martian", Registry: Flag, Name: "v"},    // v2 (+incompatible), init.go's log level; v3 registers none
	{Package: "github.com/anacrolix/dht/v2", Registry: Expvar, Name: "dhtReadZeroPort"},
	{Package: "github.com/anacrolix/torrent", Registry: Expvar, Name: "torrent"},
}

// Lookup returns the known registrations of the package at path.
func Lookup(path string) []Registration {
	var out []Registration
	for _, r := range Known {
		if r.Package == path {
			out = append(out, r)
		}
	}
	return out
}

// TagKnob is a build tag that drops a module's import of a registering
// package: a host built with it no longer links the package (when nothing
// else imports it), so there is nothing to collide with.
type TagKnob struct {
	Package  string // the registering package
	Importer string // the module whose import the tag drops
	Since    string // the first version of Importer that has the tag; "" for all
	Tag      string
}

// TagKnobs are the build tags of well-known libraries.
var TagKnobs = []TagKnob{
	{Package: "golang.org/x/net/trace", Importer: "google.golang.org/grpc", Since: "v1.62.0", Tag: "grpcnotrace"},
	{Package: "golang.org/x/net/trace", Importer: "github.com/grpc-ecosystem/go-grpc-middleware/v2", Tag: "retrynotrace"},
}

// Hazard is a way two copies of a library in one process (the host's fork
// and a plugin's original) break at run time, found statically in a fork.
type Hazard struct {
	Module  string `json:"module"`
	Pos     string `json:"pos,omitempty"` // file:line:col of the call, relative to the host root
	Call    string `json:"call,omitempty"`
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
}

// Kind classifies a Hazard.
type Kind string

// The kinds of Hazard.
const (
	// KindRegistry is a registration under a fixed name in a registry the
	// standard library owns, at package initialization: the second copy's
	// init panics inside plugin.Open.
	KindRegistry Kind = "registry"
	// KindSingleton is process-wide state that splits in two: nothing
	// panics, but host and plugins stop sharing it.
	KindSingleton Kind = "singleton"
)

// registryFuncs are the functions that register a name, by package, with
// the index of the argument that holds it.
var registryFuncs = map[string]struct {
	registry Registry
	funcs    map[string]int
}{
	"database/sql": {SQL, map[string]int{"Register": 0}},
	"encoding/gob": {Gob, map[string]int{"Register": 0, "RegisterName": 0}},
	"expvar":       {Expvar, map[string]int{"Publish": 0, "NewInt": 0, "NewFloat": 0, "NewMap": 0, "NewString": 0}},
	"net/http":     {HTTP, map[string]int{"Handle": 0, "HandleFunc": 0}},
	"flag": {Flag, map[string]int{
		"Bool": 0, "Duration": 0, "Float64": 0, "Func": 0, "BoolFunc": 0, "Int": 0, "Int64": 0, "String": 0, "Uint": 0, "Uint64": 0,
		"BoolVar": 1, "DurationVar": 1, "Float64Var": 1, "IntVar": 1, "Int64Var": 1, "StringVar": 1, "UintVar": 1, "Uint64Var": 1, "Var": 1, "TextVar": 1,
	}},
}

// protoimpl is the package generated protobuf code registers through.
const protoimpl = "google.golang.org/protobuf/runtime/protoimpl"

var singletons = map[string]string{
	"google.golang.org/protobuf":                   "the forked protobuf runtime has its own global registry: messages do not cross the host/plugin boundary as proto.Message, and name lookups see only one side's types",
	"github.com/golang/protobuf":                   "the forked protobuf runtime has its own global registry: messages do not cross the host/plugin boundary as proto.Message",
	"github.com/prometheus/client_golang":          "the forked prometheus default registry is the host's alone: plugins' metrics registered on their copy are not exported by the host",
	"go.opentelemetry.io/otel":                     "the forked otel globals (tracer and meter providers, propagators) are the host's alone: plugins see unset globals",
	"github.com/sirupsen/logrus":                   "the forked logrus standard logger is the host's alone: plugins log with their own configuration",
	"go.uber.org/zap":                              "zap's global loggers (zap.L, zap.S) are the host's alone after forking: plugins see the no-op default",
	"github.com/spf13/viper":                       "the forked viper global configuration is the host's alone: plugins read an empty one",
	"k8s.io/klog/v2":                               "the forked klog flags and state are the host's alone",
	"github.com/grpc-ecosystem/go-grpc-prometheus": "the forked grpc-prometheus metrics are registered on the host's copy only",
}

// Scan returns the registrations of the Go file src of package pkg (named
// display in positions) that run when the package initializes: calls of
// the registering functions in init functions and package-level variable
// initializers, with names that are constants (literals, or package-level
// constants and string variables of the file, a variable being settable by
// -X); a constant string an init panics with, before it registers (a
// self-check), is the registration's panic. A file generated by protoc-gen-go
// registers its .proto file. Only files importing a registry package are
// parsed, so the scan costs nothing for the rest.
//
// name is the package's name, its package clause ("" when not known: the
// file's own clause then counts). Only a file of the package can register
// anything a host links: a file of another package in the directory (a
// generator's package main, built only with a tag of its own, beside the
// library) is never compiled into it, and a package main is a program,
// which nothing imports (a tools.go reaches one). Such files register
// nothing.
//
// Of gob's registrations, only those two copies of the package collide on
// are reported (see gobCollides).
func Scan(fset *token.FileSet, pkg, name, display string, src []byte) []Registration {
	if name == "main" || !mayRegister(src) {
		return nil
	}
	f, err := parser.ParseFile(fset, display, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil // the rewrite reports unparsable files
	}
	if f.Name.Name == "main" || name != "" && f.Name.Name != name {
		return nil
	}
	s := &scanner{fset: fset, pkg: pkg, pkgName: f.Name.Name, names: map[string]string{}, consts: map[string]string{}, vars: map[string]bool{}}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		s.names[name] = p
	}
	if out := s.generatedProto(f); out != nil {
		return out
	}
	s.constants(f)
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" && d.Body != nil {
				s.check(d.Body, selfCheck(d.Body, s))
			}
		case *ast.GenDecl:
			if d.Tok == token.VAR {
				s.check(d, "")
			}
		}
	}
	return s.out
}

// mayRegister reports whether src may register: it imports a registry
// package and names one of its registering functions (or is generated
// protobuf code). Most files importing net/http or flag register nothing;
// this spares their parse.
func mayRegister(src []byte) bool {
	if bytes.Contains(src, []byte(`"`+protoimpl+`"`)) {
		return true
	}
	imports := false
	for p := range registryFuncs {
		if bytes.Contains(src, []byte(`"`+p+`"`)) {
			imports = true
			break
		}
	}
	if !imports {
		return false
	}
	for _, name := range registeringNames {
		if bytes.Contains(src, name) {
			return true
		}
	}
	return false
}

// registeringNames are the names of the registering functions, followed
// by the call's parenthesis.
var registeringNames = func() [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	for _, reg := range registryFuncs {
		for name := range reg.funcs {
			if !seen[name] {
				seen[name] = true
				out = append(out, []byte("."+name+"("))
			}
		}
	}
	return out
}()

type scanner struct {
	fset    *token.FileSet
	pkg     string
	pkgName string            // the package clause's name
	names   map[string]string // import name -> path
	consts  map[string]string // package-level constant strings of the file
	vars    map[string]bool   // which of them are variables
	out     []Registration
}

// constants collects the file's package-level string constants and string
// variables initialized with constants.
func (s *scanner) constants(f *ast.File) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST && gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if v, ok := s.constString(vs.Values[i]); ok {
						s.consts[name.Name] = v
						s.vars[name.Name] = gd.Tok == token.VAR
					}
				}
			}
		}
	}
}

// constString evaluates a constant string expression: literals, their
// sums, and the file's constants.
func (s *scanner) constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(e.Value)
		return v, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		x, ok1 := s.constString(e.X)
		y, ok2 := s.constString(e.Y)
		return x + y, ok1 && ok2
	case *ast.ParenExpr:
		return s.constString(e.X)
	case *ast.Ident:
		v, ok := s.consts[e.Name]
		return v, ok && !s.vars[e.Name]
	}
	return "", false
}

// selfCheck returns the constant string an init body panics with, if it
// does: a self-check before it registers.
func selfCheck(body *ast.BlockStmt, s *scanner) string {
	msg := ""
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || msg != "" {
			return msg == ""
		}
		if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" && len(call.Args) == 1 {
			if v, ok := s.constString(call.Args[0]); ok {
				msg = v
			}
		}
		return true
	})
	return msg
}

// check records the registering calls below n.
func (s *scanner) check(n ast.Node, panicText string) {
	ast.Inspect(n, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		x := sel.X
		// http.DefaultServeMux.Handle registers on the default mux too.
		if inner, ok := x.(*ast.SelectorExpr); ok && inner.Sel.Name == "DefaultServeMux" {
			x = inner.X
		}
		id, ok := x.(*ast.Ident)
		if !ok {
			return true
		}
		reg, ok := registryFuncs[s.names[id.Name]]
		if !ok {
			return true
		}
		argi, ok := reg.funcs[sel.Sel.Name]
		if !ok || argi >= len(call.Args) {
			return true
		}
		arg := call.Args[argi]
		r := Registration{Package: s.pkg, Registry: reg.registry, Pos: s.fset.Position(call.Pos()).String(), Panic: panicText}
		if reg.registry == Gob {
			name, ok := s.gobCollides(sel.Sel.Name, call.Args)
			if !ok {
				return true
			}
			r.Name = name
		} else if v, ok := s.constString(arg); ok {
			r.Name = v
		} else if aid, ok := arg.(*ast.Ident); ok && s.vars[aid.Name] {
			r.Name, r.Var = s.consts[aid.Name], aid.Name
		} else {
			return true // a name known only at run time
		}
		r.Call = fmt.Sprintf("%s.%s(%s)", exprText(sel.X), sel.Sel.Name, exprText(arg))
		s.out = append(s.out, r)
		return true
	})
}

// gobCollides returns the name a call of gob's fn (Register or
// RegisterName) with args registers, and whether the fork's copy of the
// package and the original, both calling it, make gob panic.
//
// gob keeps a bijection between names and types: it panics for one name
// with two types, or one type under two names (encoding/gob RegisterName).
// A type of the standard library (crypto.SHA256, *rsa.PSSOptions) or a
// predeclared one is one type in every copy, under one name: no panic.
// Another type differs between the copies when its package is forked, which
// the package's own types always are. RegisterName gives both the same name:
// a panic. Register names a defined type (not a pointer) by its import path,
// which differs between the copies: no panic; any other type, a pointer to
// a defined type among them, by reflect's String, which writes package
// names, not paths: the same name for both, a panic. What the scanner cannot
// type (a variable) is reported.
func (s *scanner) gobCollides(fn string, args []ast.Expr) (string, bool) {
	value := args[0]
	if fn == "RegisterName" {
		if len(args) < 2 {
			return "", false
		}
		value = args[1]
	}
	t := s.typeOfValue(value)
	if t.shared {
		return "", false
	}
	if fn == "RegisterName" {
		name, ok := s.constString(args[0])
		return name, ok
	}
	if t.named {
		return "", false
	}
	if t.text == "" {
		return exprText(value), true
	}
	return t.text, true
}

// goType is what the scanner knows, without type information, of a type.
type goType struct {
	shared bool   // the standard library's or predeclared: the same type in every copy
	named  bool   // a defined type, not a pointer to one
	text   string // as reflect.Type.String writes it, "" when not known
}

// predeclared are the predeclared types' names.
var predeclared = []string{"any", "bool", "byte", "comparable", "complex64", "complex128", "error", "float32", "float64",
	"int", "int8", "int16", "int32", "int64", "rune", "string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr"}

// typeOfValue returns the type of a value expression, as far as its syntax
// tells.
func (s *scanner) typeOfValue(e ast.Expr) goType {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return s.typeOfValue(e.X)
	case *ast.BasicLit:
		return goType{shared: true, named: true}
	case *ast.CompositeLit:
		return s.typeOf(e.Type)
	case *ast.UnaryExpr:
		if lit, ok := e.X.(*ast.CompositeLit); ok && e.Op == token.AND {
			return pointerTo(s.typeOf(lit.Type))
		}
	case *ast.SelectorExpr:
		// A value a package of the standard library declares has its type.
		if s.stdImport(e.X) {
			return goType{shared: true}
		}
	case *ast.Ident:
		if e.Name == "true" || e.Name == "false" {
			return goType{shared: true, named: true}
		}
	case *ast.CallExpr:
		switch fun := e.Fun.(type) {
		case *ast.Ident:
			if fun.Name == "new" && len(e.Args) == 1 {
				return pointerTo(s.typeOf(e.Args[0]))
			}
			if slices.Contains(predeclared, fun.Name) {
				return goType{shared: true, named: true}
			}
		case *ast.ParenExpr: // a conversion: (*T)(nil)
			return s.typeOf(fun.X)
		case *ast.SelectorExpr: // what a standard package's function or conversion makes
			if s.stdImport(fun.X) {
				return goType{shared: true}
			}
		}
	}
	return goType{}
}

// typeOf returns what a type expression is.
func (s *scanner) typeOf(e ast.Expr) goType {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return s.typeOf(e.X)
	case *ast.Ident:
		if slices.Contains(predeclared, e.Name) {
			return goType{shared: true, named: true, text: e.Name}
		}
		return goType{named: true, text: s.pkgName + "." + e.Name} // the package's own
	case *ast.SelectorExpr:
		if s.stdImport(e.X) {
			return goType{shared: true, named: true}
		}
		return goType{named: true} // reflect names its package's name, not known here
	case *ast.StarExpr:
		return pointerTo(s.typeOf(e.X))
	case *ast.ArrayType:
		elem := s.typeOf(e.Elt)
		if e.Len != nil {
			return goType{shared: elem.shared} // the length's text is not known
		}
		return goType{shared: elem.shared, text: prefixed("[]", elem.text)}
	case *ast.MapType:
		k, v := s.typeOf(e.Key), s.typeOf(e.Value)
		t := goType{shared: k.shared && v.shared}
		if k.text != "" && v.text != "" {
			t.text = "map[" + k.text + "]" + v.text
		}
		return t
	case *ast.InterfaceType:
		if e.Methods == nil || len(e.Methods.List) == 0 {
			return goType{shared: true, text: "interface {}"}
		}
	}
	return goType{}
}

// pointerTo returns the pointer type to t.
func pointerTo(t goType) goType {
	return goType{shared: t.shared, text: prefixed("*", t.text)}
}

func prefixed(prefix, text string) string {
	if text == "" {
		return ""
	}
	return prefix + text
}

// stdImport reports whether x names an import of a standard library
// package.
func (s *scanner) stdImport(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	if !ok {
		return false
	}
	p, ok := s.names[id.Name]
	return ok && pkgpath.IsStd(p)
}

// generatedProto returns the registration of a file protoc-gen-go
// generated: its .proto file, by the path in its "// source:" line.
func (s *scanner) generatedProto(f *ast.File) []Registration {
	if !slices.Contains(mapValues(s.names), protoimpl) {
		return nil
	}
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if src, ok := strings.CutPrefix(c.Text, "// source: "); ok {
				return []Registration{{Package: s.pkg, Registry: Protobuf, Name: strings.TrimSpace(src), Pos: s.fset.Position(c.Pos()).String(), Call: "protoimpl.TypeBuilder (generated from " + strings.TrimSpace(src) + ")"}}
			}
		}
	}
	return nil
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// exprText returns a short text of an expression, for people.
func exprText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Value
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprText(e.X) + "." + e.Sel.Name
	case *ast.UnaryExpr:
		return e.Op.String() + exprText(e.X)
	case *ast.CompositeLit:
		return exprText(e.Type) + "{...}"
	case *ast.StarExpr:
		return "*" + exprText(e.X)
	case *ast.CallExpr:
		return exprText(e.Fun) + "(...)"
	case *ast.ParenExpr:
		return "(" + exprText(e.X) + ")"
	case *ast.ArrayType:
		if e.Len == nil {
			return "[]" + exprText(e.Elt)
		}
	case *ast.MapType:
		return "map[" + exprText(e.Key) + "]" + exprText(e.Value)
	}
	return "..."
}

// SetsVar reports whether the -ldflags value ldflags sets the package
// variable v (path.name) with -X.
func SetsVar(ldflags, v string) bool {
	_, ok := VarValue(ldflags, v)
	return ok
}

// VarValue returns the value the -ldflags value ldflags gives the package
// variable v (path.name) with -X, and whether it gives one (the last -X
// for it wins, as in the linker).
func VarValue(ldflags, v string) (string, bool) {
	fields := strings.Fields(ldflags)
	value, found := "", false
	for i, f := range fields {
		f = strings.Trim(f, `'"`)
		arg := ""
		switch {
		case (f == "-X" || f == "--X") && i+1 < len(fields):
			arg = strings.Trim(fields[i+1], `'"`)
		case strings.HasPrefix(f, "-X="), strings.HasPrefix(f, "--X="):
			_, arg, _ = strings.Cut(f, "=")
		}
		if val, ok := strings.CutPrefix(arg, v+"="); ok {
			value, found = val, true
		}
	}
	return value, found
}

// Singletons returns the singleton hazards of the forked modules.
func Singletons(forked []string) []Hazard {
	var out []Hazard
	for _, m := range forked {
		for prefix, msg := range singletons {
			if pkgpath.Within(m, prefix) {
				out = append(out, Hazard{Module: m, Kind: KindSingleton, Message: msg})
			}
		}
	}
	slices.SortFunc(out, func(a, b Hazard) int { return strings.Compare(a.Module, b.Module) })
	return out
}
