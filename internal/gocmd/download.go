package gocmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Download is a module version as go mod download -json reports it.
type Download struct {
	Path    string
	Version string // the version the query resolved to
	Dir     string // its source in the module cache (read-only)
	GoMod   string // its go.mod file in the module cache
	Error   string
}

// Download downloads module path at version (a version or a query such as
// "latest") into the module cache as the go command does, with the
// environment's GOPROXY, GOPRIVATE, GONOSUMDB, GONOSUMCHECK and GOFLAGS,
// outside any module and workspace, and returns where it is.
func (r Runner) Download(ctx context.Context, path, version string) (*Download, error) {
	if r.Dir == "" {
		r.Dir = os.TempDir() // outside any module: nothing is read or written there
	}
	r.Env = Setenv(WithModFlag(r.Env, ""), "GOWORK", "off")
	var d *Download
	err := JSON(ctx, r, func(v *Download) error {
		d = v
		return nil
	}, "mod", "download", "-json", path+"@"+version)
	switch {
	case d != nil && d.Error != "":
		return nil, fmt.Errorf("%s@%s: %s", path, version, strings.TrimPrefix(d.Error, path+"@"+version+": "))
	case err != nil:
		var ge *Error
		if errors.As(err, &ge) && strings.TrimSpace(ge.Stderr) != "" {
			return nil, fmt.Errorf("%s@%s: %s", path, version, strings.TrimPrefix(strings.TrimSpace(ge.Stderr), "go: "))
		}
		return nil, err
	case d == nil || d.Dir == "":
		return nil, fmt.Errorf("%s@%s: go mod download reported no directory", path, version)
	}
	return d, nil
}
