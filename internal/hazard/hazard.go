// Package hazard is plugfork's knowledge of how two copies of a library in
// one process break (init-time registrations in registries the standard
// library owns, process-wide singletons), and the scan that finds them in
// source. Fork and inspect share it.
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

// registries are std functions that register under a global name: a
// second copy of the registering package panics in plugin.Open.
var registries = map[string]map[string]string{
	"database/sql": {"Register": `sql: Register called twice for driver`},
	"encoding/gob": {"Register": `gob: registering duplicate types`, "RegisterName": `gob: registering duplicate names`},
	"expvar":       {"Publish": `Reuse of exported var name`, "NewInt": `Reuse of exported var name`, "NewFloat": `Reuse of exported var name`, "NewMap": `Reuse of exported var name`, "NewString": `Reuse of exported var name`},
	"net/http":     {"Handle": `pattern conflicts with an existing pattern`, "HandleFunc": `pattern conflicts with an existing pattern`},
	"flag":         {"Bool": `flag redefined`, "BoolVar": `flag redefined`, "Duration": `flag redefined`, "DurationVar": `flag redefined`, "Float64": `flag redefined`, "Float64Var": `flag redefined`, "Func": `flag redefined`, "Int": `flag redefined`, "Int64": `flag redefined`, "Int64Var": `flag redefined`, "IntVar": `flag redefined`, "String": `flag redefined`, "StringVar": `flag redefined`, "Uint": `flag redefined`, "Uint64": `flag redefined`, "UintVar": `flag redefined`, "Var": `flag redefined`, "TextVar": `flag redefined`, "BoolFunc": `flag redefined`},
}

// singletons are modules whose process-wide state splits in two when the
// host forks them: nothing panics, but host and plugins stop sharing it.
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

// Scan scans a Go file of module (named display in positions) for calls
// that register in a std registry at init or package level. Only files
// importing a registry package are parsed, so the scan costs nothing for
// the rest.
func Scan(fset *token.FileSet, module, display string, src []byte) []Hazard {
	if !bytes.Contains(src, []byte(`"database/sql"`)) && !bytes.Contains(src, []byte(`"encoding/gob"`)) &&
		!bytes.Contains(src, []byte(`"expvar"`)) && !bytes.Contains(src, []byte(`"net/http"`)) && !bytes.Contains(src, []byte(`"flag"`)) {
		return nil
	}
	f, err := parser.ParseFile(fset, display, src, parser.SkipObjectResolution)
	if err != nil {
		return nil // the rewrite reports unparsable files
	}
	names := map[string]string{} // local name -> import path
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		if _, ok := registries[p]; !ok {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		names[name] = p
	}
	var out []Hazard
	check := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			pkg, ok := names[id.Name]
			if !ok {
				return true
			}
			panicMsg, ok := registries[pkg][sel.Sel.Name]
			if !ok {
				return true
			}
			arg := ""
			if len(call.Args) > 0 {
				if lit, ok := call.Args[0].(*ast.BasicLit); ok {
					arg = lit.Value
				}
			}
			callText := fmt.Sprintf("%s.%s(%s)", id.Name, sel.Sel.Name, arg)
			out = append(out, Hazard{
				Module: module, Pos: fset.Position(call.Pos()).String(), Call: callText, Kind: KindRegistry,
				Message: fmt.Sprintf("%s registers in %s's process-wide registry when the package initializes: if a plugin links its own copy of %s, plugin.Open panics (%q)", callText, pkg, module, panicMsg),
			})
			return true
		})
	}
	// Package level: init functions and variable initializers, which run
	// in plugin.Open.
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name == "init" && d.Body != nil {
				check(d.Body)
			}
		case *ast.GenDecl:
			if d.Tok == token.VAR {
				check(d)
			}
		}
	}
	return out
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
