package pluginbuild

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/inspect"
	"github.com/plugfork/plugfork/internal/gocmd"
)

func hostBinary(goVersion string, settings ...string) *inspect.Binary {
	b := &inspect.Binary{GoVersion: goVersion}
	for i := 0; i+1 < len(settings); i += 2 {
		b.Settings = append(b.Settings, inspect.Setting{Key: settings[i], Value: settings[i+1]})
	}
	return b
}

func TestResolveFlags(t *testing.T) {
	host := hostBinary("go1.26.8", "-trimpath", "true", "-tags", "b,a", "GOOS", "linux", "GOARCH", "amd64", "CGO_ENABLED", "1")
	for _, tt := range []struct {
		name  string
		given map[string]string
		env   []string
		bin   *inspect.Binary
		args  []string // the flags used, when no error
		env2  []string // the environment settings used
		err   string
	}{
		{name: "from the host", bin: host, args: []string{"-trimpath", "-tags=b,a"}, env2: []string{"CGO_ENABLED=1", "GOOS=linux", "GOARCH=amd64"}},
		{name: "same, given", bin: host, given: map[string]string{"-trimpath": "true", "-tags": "a,b"}, args: []string{"-trimpath", "-tags=b,a"}},
		{name: "toolchain", bin: hostBinary("go1.26.0"), err: "the host was built with go1.26.0, this go command is go1.26.8: a plugin built by another Go release does not load into the host; run plugfork plugin build with GOTOOLCHAIN=go1.26.0 in the environment"},
		{name: "race", bin: host, given: map[string]string{"-race": "true"}, err: "-race: the host was built without it, which changes the code and export data of every package"},
		{name: "no trimpath", bin: host, given: map[string]string{"-trimpath": "false"}, args: []string{"-trimpath", "-tags=b,a"}},
		{name: "trimpath in GOFLAGS", bin: hostBinary("go1.26.8"), env: []string{"GOFLAGS=-mod=mod -trimpath"}, err: "-trimpath: the host was built without it"},
		{name: "gcflags", bin: hostBinary("go1.26.8", "-gcflags", "all=-N -l"), given: map[string]string{"-gcflags": "all=-N"}, err: "-gcflags=all=-N: the host was built with -gcflags=all=-N -l, and compiler flags change"},
		{name: "asmflags", bin: host, given: map[string]string{"-asmflags": "all=-spectre=all"}, err: "a host binary does not record it"},
		{name: "experiment", bin: host, env: []string{"GOEXPERIMENT=arenas"}, err: "GOEXPERIMENT=arenas: the host was built with GOEXPERIMENT=(none)"},
		{name: "arch", bin: host, env: []string{"GOARCH=arm64"}, err: "GOARCH=arm64: the host was built with GOARCH=amd64"},
		{name: "tags differ: checked later", bin: host, given: map[string]string{"-tags": "a"}, args: []string{"-trimpath", "-tags=b,a"}},
		{name: "unchecked", given: map[string]string{"-race": "true", "-gcflags": "all=-l"}, args: []string{"-race", "-gcflags=all=-l"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := resolveFlags(Flags{Set: tt.given}, tt.env, tt.bin, "go1.26.8")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.args(); !slices.Equal(got, tt.args) {
				t.Errorf("args = %q, want %q", got, tt.args)
			}
			if tt.env2 != nil && !slices.Equal(r.env, tt.env2) {
				t.Errorf("env = %q, want %q", r.env, tt.env2)
			}
		})
	}
}

func TestGoflagsWithoutFingerprintFlags(t *testing.T) {
	env := resolvedFlags{}.goflags([]string{"GOFLAGS=-mod=mod -trimpath -tags=x -v --race"})
	if got := gocmd.Getenv(env, "GOFLAGS"); got != "-mod=mod -v" {
		t.Errorf("GOFLAGS = %q", got)
	}
}

func TestNewFlags(t *testing.T) {
	fl := NewFlags(map[string]string{"trimpath": "true", "tags": "b,a", "v": "true", "x": "false", "ldflags": "-s -w", "p": "2", "coverpkg": "./..."})
	wantSet := map[string]string{"-trimpath": "true", "-tags": "b,a", "-coverpkg": "./..."}
	if !maps.Equal(fl.Set, wantSet) {
		t.Errorf("Set = %v, want %v", fl.Set, wantSet)
	}
	if want := []string{"-ldflags=-s -w", "-p=2", "-v", "-x=false"}; !slices.Equal(fl.Extra, want) {
		t.Errorf("Extra = %q, want %q", fl.Extra, want)
	}
	for name := range GoBuildFlags {
		if IsFingerprintFlag(name) != (NewFlags(map[string]string{name: "true"}).Set["-"+name] != "") {
			t.Errorf("%s: classified apart from IsFingerprintFlag", name)
		}
	}
}
