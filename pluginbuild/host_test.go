package pluginbuild

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestGoSumError: the go command's "missing go.sum entry", in each form it
// takes, is quoted without its hint for a published host; any other error,
// or a host that is a checkout, is left as it is.
func TestGoSumError(t *testing.T) {
	published := &host{module: module{root: t.TempDir(), path: "example.com/fw"}, version: "v1.0.0"}
	checkout := &host{module: module{root: t.TempDir(), path: "example.com/fw"}}
	for _, tt := range []struct {
		name  string
		h     *host
		err   string
		quote string // "" for no plain message
	}{
		{
			name:  "package",
			h:     published,
			err:   "sdk/sdk.go:3:8: missing go.sum entry for module providing package example.com/ident (imported by example.com/fw/sdk); to add:\n\tgo get example.com/fw/sdk",
			quote: "\tsdk/sdk.go:3:8: missing go.sum entry for module providing package example.com/ident (imported by example.com/fw/sdk)\n",
		},
		{
			name:  "go.mod file",
			h:     published,
			err:   "go: example.com/ident@v1.0.0: missing go.sum entry for go.mod file; to add it:\n\tgo mod download example.com/ident",
			quote: "\tgo: example.com/ident@v1.0.0: missing go.sum entry for go.mod file\n",
		},
		{
			name:  "second line",
			h:     published,
			err:   "a/a.go:1:1: no such package\nb/b.go:3:8: missing go.sum entry for module providing package example.com/ident",
			quote: "\tb/b.go:3:8: missing go.sum entry for module providing package example.com/ident\n",
		},
		{name: "other", h: published, err: "sdk/sdk.go:3:8: no required module provides package example.com/ident"},
		{name: "checkout", h: checkout, err: "sdk/sdk.go:3:8: missing go.sum entry for module providing package example.com/ident"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.h.goSumError(context.Background(), errors.New(tt.err))
			switch {
			case tt.quote == "" && got != nil:
				t.Fatalf("goSumError = %q, want nil", got)
			case tt.quote == "":
			case got == nil:
				t.Fatal("goSumError = nil, want the plain message")
			case !strings.Contains(got.Error(), ":\n"+tt.quote+"The framework team must run go mod tidy"):
				t.Errorf("goSumError = %q, want it to quote %q", got, tt.quote)
			case strings.Contains(got.Error(), "\tgo get"), strings.Contains(got.Error(), "go mod download"):
				t.Errorf("goSumError = %q: the go command's hint is left in", got)
			}
		})
	}
}
