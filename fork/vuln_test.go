package fork_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugfork/plugfork/fork"
	"github.com/plugfork/plugfork/internal/testgo"
	"github.com/rogpeppe/go-internal/txtar"
	"golang.org/x/vuln/scan"
)

// vulnDB is the test vulnerability database as a file:// URL.
func vulnDB() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(testgo.RepoRoot(), "testdata", "vulndb"))}).String()
}

// govulncheckLevels runs govulncheck itself with args and returns the most
// severe level at which it reports each advisory: what plugfork vuln must
// say of the forked twin.
func govulncheckLevels(t *testing.T, args ...string) map[string]fork.VulnLevel {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := scan.Command(context.Background(), append([]string{"-format", "json", "-db", vulnDB()}, args...)...)
	cmd.Stdout, cmd.Stderr, cmd.Env, cmd.Stdin = &stdout, &stderr, env.Environ(), strings.NewReader("")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("govulncheck %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	rank := map[fork.VulnLevel]int{fork.LevelCalled: 3, fork.LevelImported: 2, fork.LevelRequired: 1}
	levels := map[string]fork.VulnLevel{}
	dec := json.NewDecoder(&stdout)
	for {
		var m struct {
			Finding *struct {
				OSV   string `json:"osv"`
				Trace []struct {
					Package, Function string
				} `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		l := fork.LevelRequired
		switch sink := m.Finding.Trace[0]; {
		case sink.Function != "":
			l = fork.LevelCalled
		case sink.Package != "":
			l = fork.LevelImported
		}
		if rank[l] > rank[levels[m.Finding.OSV]] {
			levels[m.Finding.OSV] = l
		}
	}
	return levels
}

func resultLevels(res *fork.VulnResult) map[string]fork.VulnLevel {
	levels := map[string]fork.VulnLevel{}
	for _, v := range res.Vulns {
		levels[v.ID] = v.Level
	}
	return levels
}

// TestVulnSameAsUnforkedTwin: plugfork vuln on a forked host gives the
// verdicts govulncheck gives on the same host unforked, in source and in
// binary mode, while govulncheck on the forked host sees nothing; a
// finding names the advisory, the upstream module@version, the fork, the
// symbol and the host's call site.
func TestVulnSameAsUnforkedTwin(t *testing.T) {
	// The hosts of the CLI scenario, one directory each.
	ar, err := txtar.ParseFile(filepath.Join(testgo.RepoRoot(), "testdata", "script", "vuln.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host   string
		called bool
		levels map[string]fork.VulnLevel
		site   string // of the called case's trace
	}{
		{host: "called", called: true, levels: map[string]fork.VulnLevel{"GO-2099-0001": fork.LevelCalled}, site: "text/text.go:8:22"},
		{host: "imported", levels: map[string]fork.VulnLevel{"GO-2099-0001": fork.LevelImported}},
		{host: "fixed", levels: map[string]fork.VulnLevel{}},
	}
	for _, c := range cases {
		t.Run(c.host, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			twin, forked := filepath.Join(dir, "twin"), filepath.Join(dir, "forked")
			for _, d := range []string{twin, forked} {
				if err := testgo.Extract(ar, d, c.host+"/"); err != nil {
					t.Fatal(err)
				}
				env.Go(t, d, "mod", "tidy")
			}
			forkWith(t, forked, fork.Config{})

			// Source mode.
			want := govulncheckLevels(t, "-C", twin, "./...")
			if !maps.Equal(want, c.levels) {
				t.Fatalf("govulncheck on the unforked twin: %v, want %v", want, c.levels)
			}
			if c.called { // what plugfork vuln is for
				if blind := govulncheckLevels(t, "-C", forked, "./..."); len(blind) != 0 {
					t.Errorf("govulncheck on the forked host: %v, want nothing (the database does not know forks)", blind)
				}
			}
			res, err := fork.Vuln(context.Background(), fork.VulnConfig{Dir: forked, Env: env.Environ(), DB: vulnDB()})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultLevels(res); !maps.Equal(got, want) || res.Called != c.called || res.Mode != fork.VulnSource {
				t.Fatalf("plugfork vuln: called %v, %v (%s); want called %v, %v", res.Called, got, res.Mode, c.called, want)
			}
			for _, v := range res.Vulns {
				if v.Module != "example.com/vulnlib" || v.Version != "v1.0.0" || v.Fixed != "v1.1.0" ||
					v.ForkPath != "gitlab.example.com/workflow/example.com/vulnlib" || v.ForkDir != "third_party/forked/example.com/vulnlib" {
					t.Errorf("advisory %+v: want example.com/vulnlib@v1.0.0 fixed in v1.1.0, forked in third_party/forked/example.com/vulnlib", v)
				}
			}
			if c.called {
				v := res.Vulns[0]
				if len(v.Traces) == 0 {
					t.Fatalf("no trace: %+v", v)
				}
				tr := v.Traces[0]
				if tr.Site != c.site || tr.Frames[0].Symbol() != "example.com/vulnlib.Parse" ||
					tr.Frames[0].Pos != "third_party/forked/example.com/vulnlib/vulnlib.go:4:6" {
					t.Errorf("trace %+v: want site %s, sink example.com/vulnlib.Parse at third_party/forked/example.com/vulnlib/vulnlib.go:4:6", tr, c.site)
				}
			}

			// Binary mode: the forked host's binary against the twin's.
			twinBin, forkedBin := filepath.Join(dir, "twin.bin"), filepath.Join(dir, "forked.bin")
			env.Go(t, twin, "build", "-o", twinBin, ".")
			env.Go(t, forked, "build", "-o", forkedBin, ".")
			wantBin := govulncheckLevels(t, "-mode", "binary", twinBin)
			if !maps.Equal(wantBin, c.levels) {
				t.Fatalf("govulncheck on the twin's binary: %v, want %v", wantBin, c.levels)
			}
			if blind := govulncheckLevels(t, "-mode", "binary", forkedBin); len(blind) != 0 {
				t.Errorf("govulncheck on the forked binary: %v, want nothing", blind)
			}
			res, err = fork.Vuln(context.Background(), fork.VulnConfig{Dir: forked, Env: env.Environ(), DB: vulnDB(), Binary: forkedBin})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultLevels(res); !maps.Equal(got, wantBin) || res.Called != c.called || res.Mode != fork.VulnBinary {
				t.Fatalf("plugfork vuln --binary: called %v, %v; want called %v, %v", res.Called, got, c.called, wantBin)
			}
			for _, v := range res.Vulns {
				if v.Version != "v1.0.0" || v.ForkDir != "third_party/forked/example.com/vulnlib" {
					t.Errorf("binary advisory %+v: want upstream v1.0.0 and the fork dir", v)
				}
			}
		})
	}
}
