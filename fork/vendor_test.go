package fork_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
)

// vendorHost imports fixture modules whose file layouts go mod vendor has
// rules for: licence files in a package's directory and its parents, and
// embedded files whose names begin with "." or "_".
const vendorHost = `
-- go.mod --
module example.com/host

go 1.22

require (
	example.com/embeds v1.0.0
	example.com/licences v1.0.0
)
-- main.go --
package main

import (
	"fmt"

	"example.com/embeds"
	"example.com/licences"
	"example.com/licences/sub/deep"
)

func main() { fmt.Println(licences.Notice(), deep.Deep, embeds.Files()) }
`

// TestForkFilesAsVendor: each fork holds exactly the files go mod vendor
// keeps for its module, and the forked host is tidy and embeds what the
// host embedded before.
func TestForkFilesAsVendor(t *testing.T) {
	dir := t.TempDir()
	host, vendored := filepath.Join(dir, "host"), filepath.Join(dir, "vendored")
	for _, d := range []string{host, vendored} {
		if err := testgo.Extract(txtar.Parse([]byte(vendorHost)), d, ""); err != nil {
			t.Fatal(err)
		}
		env.Go(t, d, "mod", "tidy")
	}
	env.Go(t, vendored, "mod", "vendor")
	before := env.Go(t, host, "run", ".")
	res, err := fork.Fork(context.Background(), fork.Config{Dir: host, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"})
	if err != nil {
		t.Fatal(err)
	}
	compareVendor(t, res.Forks, host, filepath.Join(vendored, "vendor"))
	if diff := env.Go(t, host, "mod", "tidy", "-diff"); diff != "" {
		t.Errorf("go mod tidy -diff after fork:\n%s", diff)
	}
	if after := env.Go(t, host, "run", "."); after != before {
		t.Errorf("the forked host prints %q, before the fork %q", after, before)
	}
}
