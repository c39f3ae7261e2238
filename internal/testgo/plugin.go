package testgo

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// LoaderSource is a host main that loads the plugins named on its command
// line, in order, in one process, and reports each outcome on stdout:
//
//	plugfork-host "<hostReport()>"           (when a host file sets hostReport)
//	plugfork-load <i> ok "<Run() result>"     (Run is looked up if the plugin has it)
//	plugfork-load <i> error "<plugin.Open error>"
//
// Fixture hosts hold only files that import their dependencies; WriteLoader
// adds this main.
const LoaderSource = `package main

import (
	"fmt"
	"os"
	"plugin"
)

// hostReport, when set by another file of the host, is printed first.
var hostReport func() string

func main() {
	if hostReport != nil {
		fmt.Printf("plugfork-host %q\n", hostReport())
	}
	for i, path := range os.Args[1:] {
		p, err := plugin.Open(path)
		if err != nil {
			fmt.Printf("plugfork-load %d error %q\n", i, err.Error())
			continue
		}
		out := ""
		if sym, err := p.Lookup("Run"); err == nil {
			if run, ok := sym.(func() string); ok {
				out = run()
			}
		}
		fmt.Printf("plugfork-load %d ok %q\n", i, out)
	}
}
`

// WriteLoader writes LoaderSource as dir/plugfork_loader.go.
func WriteLoader(t testing.TB, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "plugfork_loader.go"), []byte(LoaderSource), 0o666); err != nil {
		t.Fatal(err)
	}
}

// BuildHost builds the main package in dir into out, cgo on, with the extra
// build flags, and returns out.
func (e *Env) BuildHost(t testing.TB, dir, out string, flags ...string) string {
	t.Helper()
	args := append([]string{"build", "-o", out}, flags...)
	e.Go(t, dir, append(args, ".")...)
	return out
}

// BuildPlugin builds the package in dir as a plugin into out.
func (e *Env) BuildPlugin(t testing.TB, dir, out string, flags ...string) string {
	t.Helper()
	args := append([]string{"build", "-buildmode=plugin", "-o", out}, flags...)
	e.Go(t, dir, append(args, ".")...)
	return out
}

// Outcome is what happened to one plugin in a Load run.
type Outcome struct {
	Plugin string
	Loaded bool
	Err    string // the plugin.Open error, when not loaded
	Output string // what the plugin's Run returned, when loaded
}

// LoadResult is the whole run of a loader host.
type LoadResult struct {
	HostReport string
	Outcomes   []Outcome // one per plugin that was reached
	Stdout     string
	Stderr     string
	Err        error // the host's exit error (a panic in plugin.Open, say)
}

// Load runs host (built with LoaderSource) with plugins, loading them in
// order in one process, and returns the real outcomes.
func Load(ctx context.Context, host string, plugins ...string) LoadResult {
	var stdout, stderr strings.Builder
	cmd := exec.CommandContext(ctx, host, plugins...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	res := LoadResult{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
	sc := bufio.NewScanner(strings.NewReader(res.Stdout))
	for sc.Scan() {
		line := sc.Text()
		if report, ok := strings.CutPrefix(line, "plugfork-host "); ok {
			res.HostReport, _ = strconv.Unquote(report)
			continue
		}
		f := strings.SplitN(line, " ", 4)
		if len(f) == 4 && f[0] == "plugfork-load" {
			i, _ := strconv.Atoi(f[1])
			msg, _ := strconv.Unquote(f[3])
			o := Outcome{Loaded: f[2] == "ok"}
			if i < len(plugins) {
				o.Plugin = plugins[i]
			}
			if o.Loaded {
				o.Output = msg
			} else {
				o.Err = msg
			}
			res.Outcomes = append(res.Outcomes, o)
		}
	}
	return res
}
