package gocmd

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/mod/modfile"
)

// GoEnv returns the values of the go env variables names, in order, from one
// go command ("" for one that is unset).
func (r Runner) GoEnv(ctx context.Context, names ...string) ([]string, error) {
	out, err := r.Run(ctx, append([]string{"env"}, names...)...)
	if err != nil {
		return nil, err
	}
	vals := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") // an unset one is an empty line
	if len(vals) != len(names) {
		return nil, fmt.Errorf("go env %s: %d values for %d names", strings.Join(names, " "), len(vals), len(names))
	}
	return vals, nil
}

// Getenv returns the value of key in env: the last one, as the go command
// sees it ("" when unset).
func Getenv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if val, ok := strings.CutPrefix(kv, key+"="); ok {
			v = val
		}
	}
	return v
}

// Setenv returns env with key set to value, its earlier settings removed.
func Setenv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// WithModFlag returns env with GOFLAGS's -mod set to mode, or removed for
// mode "" (workspace mode takes none but readonly), keeping the user's other
// flags (-tags, say): plugfork decides whether the go command may write
// go.mod, the user decides the rest.
func WithModFlag(env []string, mode string) []string {
	var flags []string
	for _, f := range strings.Fields(Getenv(env, "GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "--mod=") {
			flags = append(flags, f)
		}
	}
	if mode != "" {
		flags = append(flags, "-mod="+mode)
	}
	return Setenv(env, "GOFLAGS", strings.Join(flags, " "))
}

// WorkFile returns a go.work with the go directive goVersion (none for "")
// that uses the module directories dirs, in order.
func WorkFile(goVersion string, dirs ...string) (*modfile.WorkFile, error) {
	wf := &modfile.WorkFile{Syntax: &modfile.FileSyntax{}}
	if goVersion != "" {
		if err := wf.AddGoStmt(goVersion); err != nil {
			return nil, err
		}
	}
	for _, dir := range dirs {
		if err := wf.AddUse(dir, ""); err != nil {
			return nil, err
		}
	}
	return wf, nil
}
