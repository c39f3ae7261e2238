package surface

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"testing"
)

// TestExposes: each part of an exported API that refers to a type of a
// package looked for is reported, with its declaration and kind; what is
// unexported, or only defined from such a type, is not.
func TestExposes(t *testing.T) {
	fset := token.NewFileSet()
	pkgs := map[string]*types.Package{}
	check := func(path, src string) *types.Package {
		f, err := parser.ParseFile(fset, path+".go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		conf := types.Config{Importer: importerFunc(func(p string) (*types.Package, error) { return pkgs[p], nil })}
		pkg, err := conf.Check(path, fset, []*ast.File{f}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[path] = pkg
		return pkg
	}
	check("example.com/ident", `package ident
type ID [16]byte
type Gen interface{ Next() ID }
`)
	check("example.com/host/base", `package base
import "example.com/ident"
type Base struct{ Owner ident.ID }
`)
	sdk := check("example.com/host/sdk", `package sdk
import (
	"example.com/host/base"
	"example.com/ident"
)
type Request struct {
	ID     ident.ID
	id     ident.ID
	Parent base.Base
	ident.Gen
}
type Alias = ident.ID
type Mine ident.ID
type Source interface{ Take(ident.ID) error }
type List[T ident.Gen] []T
func New(s string) Request        { return Request{} }
func Parse(id ident.ID) string    { return "" }
func (Request) Key() *ident.ID    { return nil }
func (Request) hidden() ident.ID  { return ident.ID{} }
var Default ident.Gen
func helper(ident.ID)             {}
`)
	got := Exposes(sdk, func(p string) bool { return p == "example.com/ident" }, func(p string) bool { return p == "errors" })
	want := []Exposure{
		{"Alias", ExposedAlias, "example.com/ident"},
		{"Default", ExposedVar, "example.com/ident"},
		{"List", ExposedTypeArg, "example.com/ident"},
		{"Parse", ExposedParam, "example.com/ident"},
		{"Request.Gen", ExposedEmbedded, "example.com/ident"},
		{"Request.ID", ExposedField, "example.com/ident"},
		{"Request.Key", ExposedResult, "example.com/ident"},
		{"Request.Parent", ExposedField, "example.com/ident"},
		{"Source.Take", ExposedParam, "example.com/ident"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
