// Command plugfork forks a Go plugin host's third-party dependencies into a
// private import-path namespace, so that plugins built with other versions of
// those dependencies load. See doc.go for the manual.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugfork:", err)
		os.Exit(exitError)
	}
	os.Exit(run(&invocation{
		Args:   os.Args[1:],
		Dir:    dir,
		Env:    os.Environ(),
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}))
}

// invocation is everything a run of plugfork takes from its process: the
// commands read nothing else, so that tests run them in-process.
type invocation struct {
	Args           []string
	Dir            string
	Env            []string
	Stdout, Stderr io.Writer
}

// run executes plugfork and returns the process exit code.
func run(inv *invocation) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCmd(inv)
	root.SetArgs(goStyleArgs(root, inv.Args))
	root.SetOut(inv.Stdout)
	root.SetErr(inv.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		fmt.Fprintln(inv.Stderr, "plugfork: interrupted: the host is as it was, or, if the swap had begun, the next plugfork fork finishes it")
		return exitError
	}
	if errors.As(err, new(usageError)) {
		fmt.Fprintf(inv.Stderr, "plugfork: %v\nusage: %s\nRun \"%s --help\" for more.\n", err, cmd.UseLine(), cmd.CommandPath())
		return exitError
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(inv.Stderr, "plugfork: "+msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(inv.Stderr, "plugfork: "+err.Error())
	return exitError
}
