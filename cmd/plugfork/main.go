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
	code, msg := exitError, err.Error()
	text := msg // the error in the JSON form
	var ec interface{ ExitCode() int }
	switch {
	case ctx.Err() != nil:
		msg = "interrupted: the host is as it was, or, if the swap had begun, the next plugfork fork finishes it"
		text = msg
	case errors.As(err, new(usageError)):
		msg = fmt.Sprintf("%v\nusage: %s\nRun \"%s --help\" for more.", err, cmd.UseLine(), cmd.CommandPath())
	case errors.As(err, &ec):
		code = ec.ExitCode()
	}
	if msg == "" { // the findings are printed
		return code
	}
	fmt.Fprintln(inv.Stderr, "plugfork: "+msg)
	if json, _ := cmd.Flags().GetBool("json"); json {
		writeJSON(inv.Stdout, errorResult{Schema: errorSchema, Error: text, Exit: code})
	}
	return code
}

// errorSchema is the schema of errorResult.
const errorSchema = "plugfork/error/v1"

// errorResult is what a command run with --json prints on standard output
// when it fails: the error, also written to standard error, and the exit
// status.
type errorResult struct {
	Schema string `json:"schema"`
	Error  string `json:"error"`
	Exit   int    `json:"exit"`
}
