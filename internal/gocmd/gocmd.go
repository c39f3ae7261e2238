// Package gocmd runs the go command for plugfork, with an explicit directory
// and environment, and turns its failures into errors that quote its stderr.
package gocmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Runner runs go commands in Dir with Env (nil means the current process's
// environment, as exec.Cmd does).
type Runner struct {
	Dir string
	Env []string
}

// Error is a failed go command. It does not unwrap to the
// *exec.ExitError: the go command's exit status is not plugfork's.
type Error struct {
	Args   []string
	Stderr string
	Err    string
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err
	}
	return "go " + strings.Join(e.Args, " ") + ": " + msg
}

// Run runs "go args..." and returns its standard output.
func (r Runner) Run(ctx context.Context, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	if err := r.run(ctx, &stdout, &stderr, args); err != nil {
		return stdout.Bytes(), err
	}
	return stdout.Bytes(), nil
}

// JSON runs "go args..." and decodes its standard output, a stream of JSON
// values as "go list -json" and "go mod download -json" print them, calling
// each for every value. New returns a fresh value to decode into.
// Values are decoded even when the command fails (go mod download reports
// per-module errors in its JSON), and the command's error is returned after.
func JSON[T any](ctx context.Context, r Runner, each func(*T) error, args ...string) error {
	var stdout, stderr bytes.Buffer
	runErr := r.run(ctx, &stdout, &stderr, args)
	dec := json.NewDecoder(&stdout)
	for {
		v := new(T)
		if err := dec.Decode(v); err == io.EOF {
			break
		} else if err != nil {
			if runErr != nil {
				return runErr
			}
			return fmt.Errorf("go %s: decoding output: %w", strings.Join(args, " "), err)
		}
		if err := each(v); err != nil {
			return err
		}
	}
	return runErr
}

func (r Runner) run(ctx context.Context, stdout, stderr *bytes.Buffer, args []string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.Env
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("running go: %w", err)
		}
		return &Error{Args: args, Stderr: stderr.String(), Err: err.Error()}
	}
	return nil
}
