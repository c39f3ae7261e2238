package gocmd

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestWithModFlag(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		mode string
		want []string
	}{
		{nil, "readonly", []string{"GOFLAGS=-mod=readonly"}},
		{[]string{"GOFLAGS=-mod=vendor -tags=netgo"}, "readonly", []string{"GOFLAGS=-tags=netgo -mod=readonly"}},
		{[]string{"HOME=/h", "GOFLAGS=-tags=a --mod=mod -trimpath"}, "readonly", []string{"HOME=/h", "GOFLAGS=-tags=a -trimpath -mod=readonly"}},
		{[]string{"GOFLAGS=-tags=a", "HOME=/h", "GOFLAGS=-mod=mod -trimpath"}, "mod", []string{"HOME=/h", "GOFLAGS=-trimpath -mod=mod"}},
		{[]string{"GOFLAGS=-mod=mod -trimpath"}, "", []string{"GOFLAGS=-trimpath"}},
		{[]string{"HOME=/h"}, "", []string{"HOME=/h", "GOFLAGS="}},
	} {
		if got := WithModFlag(tt.env, tt.mode); !slices.Equal(got, tt.want) {
			t.Errorf("WithModFlag(%q, %q) = %q, want %q", tt.env, tt.mode, got, tt.want)
		}
	}
}

func TestGetenvSetenv(t *testing.T) {
	env := []string{"A=1", "B=2", "A=3", "AB=4"}
	if got := Getenv(env, "A"); got != "3" {
		t.Errorf("Getenv A = %q, want the last, 3", got)
	}
	if got := Getenv(env, "C"); got != "" {
		t.Errorf("Getenv C = %q, want empty", got)
	}
	if got, want := Setenv(env, "A", "5"), []string{"B=2", "AB=4", "A=5"}; !slices.Equal(got, want) {
		t.Errorf("Setenv = %q, want %q", got, want)
	}
}

func TestWorkFile(t *testing.T) {
	wf, err := WorkFile("1.26.0", "/p", "/h")
	if err != nil {
		t.Fatal(err)
	}
	got := string(modfile.Format(wf.Syntax))
	want := "go 1.26.0\n\nuse (\n\t/p\n\t/h\n)\n"
	if got != want {
		t.Errorf("WorkFile = %q, want %q", got, want)
	}
	wf, err = WorkFile("", ".")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(modfile.Format(wf.Syntax)); strings.Contains(got, "go ") || !strings.Contains(got, "use .") {
		t.Errorf("WorkFile without a go version = %q", got)
	}
}
