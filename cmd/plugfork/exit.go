package main

// Exit codes, documented in doc.go and README.md.
const (
	exitOK       = 0 // success
	exitFindings = 1 // check or inspect found a problem
	exitError    = 2 // usage or operational error
)

// findingsError is returned by a command that ran to completion and found
// problems. Its message is empty when the findings were already printed.
type findingsError struct{ msg string }

func (e findingsError) Error() string { return e.msg }
func (findingsError) ExitCode() int   { return exitFindings }

// usageError marks a command-line mistake.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }
func (usageError) ExitCode() int   { return exitError }

// errFindings is the error of a command whose findings are already printed.
var errFindings error = findingsError{}
