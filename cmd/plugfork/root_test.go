package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGoStyleArgs(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"fork -json", "fork --json"},
		{"fork --json", "fork --json"},
		{"fork -json -v -n", "fork --json -v -n"},
		{"fork -prefix x.com/p -keep=a/...", "fork --prefix x.com/p --keep=a/..."},
		{"fork -dry-run -verbose", "fork --dry-run --verbose"},
		{"check -binary host.bin", "check --binary host.bin"},
		{"check -binary -weird-name", "check --binary -weird-name"},
		{"check -nosuchflag", "check --nosuchflag"},
		{"status -u -json", "status -u --json"},
		{"version -json", "version --json"},
		{"inspect -lock plugfork.lock -json host a.so", "inspect --lock plugfork.lock --json host a.so"},
		{"plugin build -host ../h -o x.so -w -trimpath -tags=a,b", "plugin build --host ../h -o x.so -w --trimpath --tags=a,b"},
		{"plugin build -ldflags -s -a -v -x .", "plugin build --ldflags -s -a -v -x ."},
		{"plugin build -host ../h -- -json", "plugin build --host ../h -- -json"},
		{"check -help", "check --help"},
		{"nosuchcommand -json", "nosuchcommand -json"},
	} {
		root := newRootCmd(&invocation{})
		got := strings.Join(goStyleArgs(root, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("goStyleArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHelpFlags checks that help lists flags as a Go user reads them.
func TestHelpFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(&invocation{Args: []string{"plugin", "build", "-help"}, Stdout: &stdout, Stderr: &stderr})
	if code != 0 {
		t.Fatalf("plugin build -help exited %d: %s", code, stderr.String())
	}
	lines := strings.Split(stdout.String(), "\n")
	for _, want := range []string{"-o file", "-a", "-w", "-h, --help", "--host directory", "--tags string", "--trimpath", "--also plugin"} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  "+want+" ") }) {
			t.Errorf("plugin build -help has no line for %q:\n%s", want, stdout.String())
		}
	}
	for _, bad := range []string{"--o ", "--a ", `[="true"]`, "stringArray"} {
		if strings.Contains(stdout.String(), bad) {
			t.Errorf("plugin build -help shows %q:\n%s", bad, stdout.String())
		}
	}
}

func TestNewTable(t *testing.T) {
	var buf bytes.Buffer
	tw := newTable(&buf, 2)
	tw.Write([]byte("a\tbb\t\nccc\t\tlast  \nx  y\t\n"))
	tw.Flush()
	want := "a     bb\nccc       last\nx  y\n"
	if got := buf.String(); got != want {
		t.Errorf("table = %q, want %q", got, want)
	}
}

// TestOnePackageComment checks that the manual is the only package comment:
// go doc prints every file's.
func TestOnePackageComment(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Doc != nil {
			docs = append(docs, name)
		}
	}
	if !slices.Equal(docs, []string{"doc.go"}) {
		t.Errorf("package comments in %v, want only in doc.go", docs)
	}
}
