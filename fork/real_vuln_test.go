package fork_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plugfork/plugfork/fork"
	"golang.org/x/vuln/scan"
)

// realVulnDB is a vulnerability database in the v1 layout with one test
// advisory: gopkg.in/yaml.v3's Unmarshal, before a made-up v3.0.2, which
// the real host calls.
var realVulnDB = map[string]string{
	"index/db.json":      `{"modified":"2026-01-01T00:00:00Z"}`,
	"index/modules.json": `[{"path":"gopkg.in/yaml.v3","vulns":[{"id":"GO-2099-0101","modified":"2026-01-01T00:00:00Z","fixed":"3.0.2"}]}]`,
	"index/vulns.json":   `[{"id":"GO-2099-0101","modified":"2026-01-01T00:00:00Z","aliases":[]}]`,
	"ID/GO-2099-0101.json": `{"schema_version":"1.3.1","id":"GO-2099-0101","modified":"2026-01-01T00:00:00Z","published":"2026-01-01T00:00:00Z",` +
		`"summary":"A test advisory on Unmarshal in gopkg.in/yaml.v3","details":"Not a real vulnerability.",` +
		`"affected":[{"package":{"name":"gopkg.in/yaml.v3","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"3.0.2"}]}],` +
		`"ecosystem_specific":{"imports":[{"path":"gopkg.in/yaml.v3","symbols":["Unmarshal"]}]}}]}`,
}

// TestRealVuln: on the real 86-module host, forked, govulncheck misses an
// advisory on a function the host calls (the database does not know the
// fork's module path), and plugfork vuln reports it against the upstream
// module@version, with the fork and the call site in main.go.
func TestRealVuln(t *testing.T) {
	env := realEnv(t)
	ctx := context.Background()
	dir := realFixture(t, env, "modules", "host")
	hostDir := filepath.Join(dir, "host")
	dbDir := filepath.Join(t.TempDir(), "vulndb")
	for name, data := range realVulnDB {
		path := filepath.Join(dbDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	db := (&url.URL{Scheme: "file", Path: filepath.ToSlash(dbDir)}).String()

	// govulncheck at module level (it needs no analysis of the code, and
	// what it misses there it misses at every level) sees the advisory's
	// module before the fork and not after.
	moduleFindings := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := scan.Command(ctx, "-C", hostDir, "-scan", "module", "-format", "json", "-db", db)
		cmd.Stdout, cmd.Stderr, cmd.Env, cmd.Stdin = &stdout, &stderr, env.Environ(), strings.NewReader("")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("govulncheck: %v\n%s", err, stderr.String())
		}
		return stdout.String()
	}
	if out := moduleFindings(); !strings.Contains(out, `"osv": "GO-2099-0101"`) {
		t.Fatalf("govulncheck on the host before the fork does not find GO-2099-0101:\n%s", out)
	}
	if _, err := fork.Fork(ctx, fork.Config{Dir: hostDir, Env: env.Environ(), Prefix: "gitlab.example.com/workflow"}); err != nil {
		t.Fatal(err)
	}
	if out := moduleFindings(); strings.Contains(out, `"finding"`) {
		t.Errorf("govulncheck on the forked host found something; the database should not know the fork:\n%s", out)
	}

	start := time.Now()
	res, err := fork.Vuln(ctx, fork.VulnConfig{Dir: hostDir, Env: env.Environ(), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plugfork vuln on the forked host: %.1fs", time.Since(start).Seconds())
	if !res.Called || len(res.Vulns) != 1 {
		t.Fatalf("plugfork vuln: %+v; want GO-2099-0101 called", res)
	}
	v := res.Vulns[0]
	if v.ID != "GO-2099-0101" || v.Module != "gopkg.in/yaml.v3" || v.Version != "v3.0.1" || v.Fixed != "v3.0.2" ||
		v.ForkDir != "third_party/forked/gopkg.in/yaml.v3" || len(v.Traces) == 0 ||
		!strings.HasPrefix(v.Traces[0].Site, "main.go:") || v.Traces[0].Frames[0].Symbol() != "gopkg.in/yaml.v3.Unmarshal" {
		t.Errorf("advisory %+v: want GO-2099-0101 on gopkg.in/yaml.v3@v3.0.1 (fixed in v3.0.2), forked in third_party/forked/gopkg.in/yaml.v3, Unmarshal called from main.go", v)
	}
}
