package fork

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/plugfork/plugfork/internal/gocmd"
	"github.com/plugfork/plugfork/internal/lockfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/vuln/scan"
)

// VulnSchema versions the JSON form of VulnResult.
const VulnSchema = "plugfork/vuln/v1"

// DefaultVulnDB is the vulnerability database govulncheck uses by default.
const DefaultVulnDB = "https://vuln.go.dev"

// VulnConfig says what plugfork vuln scans.
type VulnConfig struct {
	Dir      string   // a directory inside the host module
	Env      []string // the go command's environment
	Patterns []string // host packages to analyse (default ./...); source mode only
	DB       string   // the database URL, as govulncheck's -db (default DefaultVulnDB)
	Binary   string   // a built host: scan its symbols instead of the source
	// Progress, when set, receives one line per step of long work.
	Progress io.Writer
}

// VulnResult is govulncheck's verdict on a forked host as if it were not
// forked. Its JSON form is the schema VulnSchema; levels are the constants
// of VulnLevel, modes those of VulnMode.
type VulnResult struct {
	Schema string   `json:"schema"`
	Mode   VulnMode `json:"mode"`
	DB     string   `json:"db"`
	Binary string   `json:"binary,omitempty"`
	// Called reports whether the host calls a vulnerable symbol (plugfork
	// vuln exits 1).
	Called bool       `json:"called"`
	Vulns  []Advisory `json:"vulns"` // called first, then imported, then required; by ID
}

// VulnMode says what was analysed.
type VulnMode string

// The modes of plugfork vuln.
const (
	VulnSource VulnMode = "source" // the host's source, forks undone
	VulnBinary VulnMode = "binary" // a built host's symbols, forks mapped back to upstream
)

// VulnLevel says how the host reaches a vulnerability, as govulncheck's
// scan levels do.
type VulnLevel string

// The levels, from the most to the least severe.
const (
	LevelCalled   VulnLevel = "called"   // a vulnerable symbol is reachable from the host
	LevelImported VulnLevel = "imported" // a vulnerable package is imported, no vulnerable symbol is called
	LevelRequired VulnLevel = "required" // a vulnerable module is required, no vulnerable package is imported
)

func (l VulnLevel) rank() int {
	return slices.Index([]VulnLevel{LevelCalled, LevelImported, LevelRequired}, l)
}

// Advisory is one advisory for one upstream module the host uses.
type Advisory struct {
	ID      string    `json:"id"`
	Aliases []string  `json:"aliases,omitempty"`
	Summary string    `json:"summary,omitempty"`
	URL     string    `json:"url,omitempty"`
	Level   VulnLevel `json:"level"`
	Module  string    `json:"module"`  // upstream module path ("stdlib" for the standard library)
	Version string    `json:"version"` // upstream version in use
	Fixed   string    `json:"fixed_version,omitempty"`
	// ForkPath and ForkDir say where the host's copy of Module lives
	// when it is forked.
	ForkPath string      `json:"fork_path,omitempty"`
	ForkDir  string      `json:"fork_dir,omitempty"`
	Traces   []VulnTrace `json:"traces,omitempty"` // with LevelCalled: how the host reaches it
}

// VulnTrace is one way the host reaches a vulnerable symbol.
type VulnTrace struct {
	// Site is where the host's own code enters the path to the
	// vulnerable symbol: file:line:col, relative to the host root.
	Site string `json:"site,omitempty"`
	// Frames go from the vulnerable symbol to the host's entry point.
	Frames []VulnFrame `json:"frames"`
}

// VulnFrame is one function on a trace, named by its upstream package.
type VulnFrame struct {
	Module   string `json:"module"`
	Version  string `json:"version,omitempty"`
	Package  string `json:"package,omitempty"`
	Function string `json:"function,omitempty"`
	Receiver string `json:"receiver,omitempty"`
	// Pos is the call in this function toward the vulnerable symbol (for
	// the first frame, the symbol itself), as file:line:col relative to
	// the host root: the host's files, and a fork's files in its fork dir.
	// A module neither host nor forked is named module@version/file.
	Pos string `json:"pos,omitempty"`
}

// Symbol returns the frame's function as pkg.Recv.Func.
func (f VulnFrame) Symbol() string {
	s := f.Package
	if f.Receiver != "" {
		s += "." + strings.TrimPrefix(f.Receiver, "*")
	}
	if f.Function != "" {
		s += "." + f.Function
	}
	return s
}

// Vuln runs govulncheck on the host as if it were not forked. In source
// mode it analyses the upstream view (the lock's forks undone in a stage,
// as unfork makes it), so reachability is govulncheck's own and findings
// name the upstream modules the database knows; positions are mapped back
// to the host's files and the forks' directories. In binary mode it
// extracts the binary's modules and symbols, names each fork's by its
// upstream module at the locked version, and analyses that.
func Vuln(ctx context.Context, cfg VulnConfig) (*VulnResult, error) {
	if cfg.DB == "" {
		cfg.DB = DefaultVulnDB
	}
	s, err := open(ctx, Config{Dir: cfg.Dir, Env: cfg.Env, Progress: cfg.Progress})
	if err != nil {
		return nil, err
	}
	defer s.close()
	if cfg.Binary != "" {
		return s.vulnBinary(ctx, cfg)
	}
	forkDir := "" // an unforked host's upstream view is the host
	if s.h.Lock != nil {
		forkDir = s.h.Lock.Dir
	}
	st, err := s.upstreamView(forkDir)
	if err != nil {
		return nil, fmt.Errorf("staging the upstream view: %w", err)
	}
	patterns := cfg.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	s.progress("analysing the upstream view with govulncheck")
	args := append([]string{"-C", st.Dir, "-format", "json", "-db", cfg.DB, "--"}, patterns...)
	// The stage's go.sum may lack the upstream modules' sums: -mod=mod
	// lets the go command add them, in the stage.
	msgs, err := govulncheck(ctx, gocmd.WithModFlag(cfg.Env, "mod"), args...)
	if err != nil {
		return nil, err
	}
	res := collect(msgs, s.h.Path, s.h.Lock)
	res.Mode, res.DB = VulnSource, cfg.DB
	return res, nil
}

// vulnBinary is Vuln's binary mode.
func (s *session) vulnBinary(ctx context.Context, cfg VulnConfig) (*VulnResult, error) {
	lock := s.h.Lock
	bin := cfg.Binary
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(cfg.Dir, bin)
	}
	blob, err := runGovulncheck(ctx, cfg.Env, "-mode", "extract", bin)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", cfg.Binary, err)
	}
	up, err := upstreamBlob(blob, lock)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", cfg.Binary, err)
	}
	tmp, err := os.CreateTemp("", "plugfork-vuln-*.blob")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(up); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	msgs, err := govulncheck(ctx, cfg.Env, "-mode", "binary", "-format", "json", "-db", cfg.DB, tmp.Name())
	if err != nil {
		return nil, err
	}
	res := collect(msgs, s.h.Path, lock)
	res.Mode, res.DB, res.Binary = VulnBinary, cfg.DB, cfg.Binary
	return res, nil
}

// upstreamBlob rewrites govulncheck's extract of a binary (a header and a
// body, two JSON values) as if the binary were built without forks: each
// fork's module becomes its upstream module at the locked version, and its
// packages' symbols their upstream packages'. Fields it does not know are
// kept as they are.
func upstreamBlob(blob []byte, lock *lockfile.Lock) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(blob))
	var header json.RawMessage
	var body map[string]json.RawMessage
	if err := dec.Decode(&header); err != nil {
		return nil, fmt.Errorf("decoding govulncheck's extract: %w", err)
	}
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("decoding govulncheck's extract: %w", err)
	}
	if lock != nil && len(lock.Forks) > 0 {
		var mods []map[string]json.RawMessage
		if raw, ok := body["modules"]; ok {
			if err := json.Unmarshal(raw, &mods); err != nil {
				return nil, fmt.Errorf("decoding govulncheck's extract: modules: %w", err)
			}
		}
		for _, m := range mods {
			var p string
			json.Unmarshal(m["Path"], &p)
			if f := forkByPath(lock, p); f != nil {
				m["Path"], _ = json.Marshal(f.Path)
				m["Version"], _ = json.Marshal(f.Version)
				delete(m, "Replace")
			}
		}
		var syms []map[string]json.RawMessage
		if raw, ok := body["pkgSymbols"]; ok {
			if err := json.Unmarshal(raw, &syms); err != nil {
				return nil, fmt.Errorf("decoding govulncheck's extract: symbols: %w", err)
			}
		}
		for _, s := range syms {
			var p string
			json.Unmarshal(s["pkg"], &p)
			if up, ok := upstreamPackage(lock, p); ok {
				s["pkg"], _ = json.Marshal(up)
			}
		}
		var err error
		if body["modules"], err = json.Marshal(mods); err != nil {
			return nil, err
		}
		if body["pkgSymbols"], err = json.Marshal(syms); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	if err := enc.Encode(header); err != nil {
		return nil, err
	}
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// forkByPath returns the lock's fork whose module path is forkPath.
func forkByPath(lock *lockfile.Lock, forkPath string) *lockfile.Fork {
	for i := range lock.Forks {
		if lock.Forks[i].ForkPath == forkPath {
			return &lock.Forks[i]
		}
	}
	return nil
}

// upstreamPackage returns the upstream path of a package of a fork.
func upstreamPackage(lock *lockfile.Lock, pkg string) (string, bool) {
	for _, f := range lock.Forks {
		if rest, ok := strings.CutPrefix(pkg, f.ForkPath); ok && (rest == "" || rest[0] == '/') {
			return f.Path + rest, true
		}
	}
	return "", false
}

// govulncheck runs govulncheck in process with args (which must ask for
// -format json) and returns its messages.
func govulncheck(ctx context.Context, env []string, args ...string) ([]vulnMessage, error) {
	stdout, err := runGovulncheck(ctx, env, args...)
	if err != nil {
		return nil, err
	}
	var msgs []vulnMessage
	dec := json.NewDecoder(bytes.NewReader(stdout))
	for {
		var m vulnMessage
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding govulncheck's output: %w", err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// runGovulncheck runs govulncheck in process (golang.org/x/vuln/scan) and
// returns its standard output; its failure is what it wrote to stderr.
func runGovulncheck(ctx context.Context, env []string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := scan.Command(ctx, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = &stdout, &stderr, env
	cmd.Stdin = strings.NewReader("")
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	switch {
	case err == nil:
		return stdout.Bytes(), nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case strings.TrimSpace(stderr.String()) != "":
		return nil, fmt.Errorf("govulncheck: %s", strings.TrimSpace(stderr.String()))
	}
	return nil, fmt.Errorf("govulncheck: %w", err)
}

// The parts of govulncheck's JSON protocol (v1.0.0) plugfork reads.
type (
	vulnMessage struct {
		OSV     *vulnOSV     `json:"osv"`
		Finding *vulnFinding `json:"finding"`
	}
	vulnOSV struct {
		ID       string   `json:"id"`
		Aliases  []string `json:"aliases"`
		Summary  string   `json:"summary"`
		Affected []struct {
			Package struct {
				Name string `json:"name"`
			} `json:"package"`
			Ranges []vulnRange `json:"ranges"`
		} `json:"affected"`
		DatabaseSpecific *struct {
			URL string `json:"url"`
		} `json:"database_specific"`
	}
	vulnRange struct {
		Type   string `json:"type"`
		Events []struct {
			Introduced string `json:"introduced"`
			Fixed      string `json:"fixed"`
		} `json:"events"`
	}
	vulnFinding struct {
		OSV          string       `json:"osv"`
		FixedVersion string       `json:"fixed_version"`
		Trace        []*vulnFrame `json:"trace"`
	}
	vulnFrame struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
		Receiver string `json:"receiver"`
		Position *struct {
			Filename string `json:"filename"`
			Line     int    `json:"line"`
			Column   int    `json:"column"`
		} `json:"position"`
	}
)

// collect turns govulncheck's messages into the result: one Advisory per
// advisory and module at its most severe level, positions in the host
// repository.
func collect(msgs []vulnMessage, hostPath string, lock *lockfile.Lock) *VulnResult {
	osvs := map[string]*vulnOSV{}
	type key struct{ id, module string }
	byKey := map[key]*Advisory{}
	for _, m := range msgs {
		if m.OSV != nil {
			osvs[m.OSV.ID] = m.OSV
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 {
			continue
		}
		sink := f.Trace[0]
		level := LevelRequired
		switch {
		case sink.Function != "":
			level = LevelCalled
		case sink.Package != "":
			level = LevelImported
		}
		k := key{f.OSV, sink.Module}
		v := byKey[k]
		if v == nil {
			v = &Advisory{ID: f.OSV, Level: level, Module: sink.Module, Version: sink.Version, Fixed: f.FixedVersion}
			if lock != nil {
				if fk := lock.Find(sink.Module); fk != nil {
					v.ForkPath, v.ForkDir = fk.ForkPath, fk.ForkDir
				}
			}
			byKey[k] = v
		}
		if level.rank() < v.Level.rank() {
			v.Level = level
		}
		if level == LevelCalled {
			v.Traces = append(v.Traces, trace(f.Trace, hostPath, lock))
		}
	}
	res := &VulnResult{Schema: VulnSchema, Vulns: []Advisory{}}
	for _, v := range byKey {
		if o := osvs[v.ID]; o != nil {
			v.Aliases, v.Summary = o.Aliases, o.Summary
			if o.DatabaseSpecific != nil {
				v.URL = o.DatabaseSpecific.URL
			}
		}
		if v.Level != LevelCalled {
			v.Traces = nil
		}
		slices.SortFunc(v.Traces, func(a, b VulnTrace) int {
			return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(len(a.Frames), len(b.Frames)))
		})
		v.Traces = slices.CompactFunc(v.Traces, func(a, b VulnTrace) bool { return slices.Equal(a.Frames, b.Frames) })
		res.Called = res.Called || v.Level == LevelCalled
		res.Vulns = append(res.Vulns, *v)
	}
	slices.SortFunc(res.Vulns, func(a, b Advisory) int {
		return cmp.Or(cmp.Compare(a.Level.rank(), b.Level.rank()), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Module, b.Module))
	})
	return res
}

// trace maps govulncheck's frames to the host repository. A frame's
// position lies in its own function's module: the host's files are the
// stage's one for one, and a fork's files are its upstream module's, at
// the same lines, in its fork dir.
func trace(frames []*vulnFrame, hostPath string, lock *lockfile.Lock) VulnTrace {
	var t VulnTrace
	for _, fr := range frames {
		vf := VulnFrame{Module: fr.Module, Version: fr.Version, Package: fr.Package, Function: fr.Function, Receiver: fr.Receiver}
		if p := fr.Position; p != nil && p.Line > 0 && p.Filename != "" {
			var file string
			switch fk := lookupFork(lock, fr.Module); {
			case fr.Module == hostPath:
				file = p.Filename
			case fk != nil:
				file = path.Join(fk.ForkDir, p.Filename)
			default:
				file = fr.Module + "@" + fr.Version + "/" + p.Filename
			}
			vf.Pos = file + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
			if fr.Module == hostPath && t.Site == "" {
				t.Site = vf.Pos
			}
		}
		t.Frames = append(t.Frames, vf)
	}
	return t
}

func lookupFork(lock *lockfile.Lock, module string) *lockfile.Fork {
	if lock == nil {
		return nil
	}
	return lock.Find(module)
}

// KnownVuln is an advisory the database holds for a module version,
// whatever the host does with it.
type KnownVuln struct {
	ID      string `json:"id"`
	Summary string `json:"summary,omitempty"`
	Fixed   string `json:"fixed_version,omitempty"`
}

// KnownVulns asks the database (govulncheck -mode query, one run for all)
// which advisories affect each module version, by module path. It reads
// the database only: no source, no reachability.
func KnownVulns(ctx context.Context, env []string, db string, mods []module.Version) (map[string][]KnownVuln, error) {
	if db == "" {
		db = DefaultVulnDB
	}
	if len(mods) == 0 {
		return nil, nil
	}
	args := []string{"-mode", "query", "-format", "json", "-db", db}
	for _, m := range mods {
		args = append(args, m.Path+"@"+m.Version)
	}
	msgs, err := govulncheck(ctx, env, args...)
	if err != nil {
		return nil, err
	}
	known := map[string][]KnownVuln{}
	for _, m := range msgs {
		if m.OSV == nil {
			continue
		}
		for _, a := range m.OSV.Affected {
			for _, mod := range mods {
				if a.Package.Name != mod.Path {
					continue
				}
				if fixed, ok := affects(a.Ranges, mod.Version); ok {
					known[mod.Path] = append(known[mod.Path], KnownVuln{ID: m.OSV.ID, Summary: m.OSV.Summary, Fixed: fixed})
				}
			}
		}
	}
	for p := range known {
		slices.SortFunc(known[p], func(a, b KnownVuln) int { return cmp.Compare(a.ID, b.ID) })
		known[p] = slices.CompactFunc(known[p], func(a, b KnownVuln) bool { return a.ID == b.ID })
	}
	return known, nil
}

// affects reports whether version lies in one of an OSV entry's SEMVER
// ranges (events in order: introduced, then fixed, then again), and the
// fixed version of that range ("v"-prefixed, "" when none).
func affects(ranges []vulnRange, version string) (fixed string, ok bool) {
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		in := false
		for _, e := range r.Events {
			switch {
			case e.Introduced != "":
				if e.Introduced == "0" || semver.Compare(version, "v"+e.Introduced) >= 0 {
					in = true
				}
			case e.Fixed != "":
				if in && semver.Compare(version, "v"+e.Fixed) < 0 {
					return "v" + e.Fixed, true
				}
				in = false
			}
		}
		if in {
			return "", true
		}
	}
	return "", false
}
