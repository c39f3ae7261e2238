/*
Plugfork forks a Go plugin host's third-party dependencies into a private
import-path namespace, so that plugins built with any other version of those
dependencies load into the host, and predicts plugin load failures from the
built binaries.

# Usage

	plugfork <command> [flags] [arguments]

The commands are:

	version     print plugfork's version and build information

Run "plugfork help <command>" for a command's flags and examples.

# Exit status

	0  success
	1  findings: check or inspect found a problem
	2  usage or operational error

Errors are printed to standard error, prefixed "plugfork: ", with the file and
line or the module they concern and, where there is one, the command that
fixes them.

# Examples

	plugfork version --json
*/
package main
