/*
Plugfork forks a Go plugin host's third-party dependencies into a private
import-path namespace, so that plugins built with any other version of those
dependencies load into the host, and predicts plugin load failures from the
built binaries.

# Usage

	plugfork <command> [flags] [arguments]

The commands are:

	version     print plugfork's version and build information
	inspect     predict from built binaries whether plugins load into a host, and why not

Run "plugfork help <command>" for a command's flags and examples.

# Exit status

	0  success
	1  findings: check or inspect found a problem
	2  usage or operational error

Errors are printed to standard error, prefixed "plugfork: ", with the file and
line or the module they concern and, where there is one, the command that
fixes them.

# Inspect

	plugfork inspect [--json] HOST [PLUGIN...]

reads the host and the plugins (ELF binaries, stripped too) and predicts, per
plugin in load order, whether plugin.Open loads it; for a failure, every
package whose fingerprint differs, grouped by cause (module version,
toolchain, build settings, another source, an earlier plugin, the same plugin
path), each with its fix. Exit 0 when all load, 1 when some fail, 2 for a file
it cannot judge. --json prints the report in the schema plugfork/inspect/v1,
documented in package github.com/plugfork/plugfork/inspect, which hosts can
also call before plugin.Open.

# Examples

	plugfork version --json
	plugfork inspect ./bin/host ./plugins/*.so
*/
package main
