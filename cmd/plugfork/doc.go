/*
Plugfork forks a Go plugin host's third-party dependencies into a private
import-path namespace, so that plugins built with any other version of those
dependencies load into the host, and predicts plugin load failures from the
built binaries.

# Usage

	plugfork <command> [flags] [arguments]

The commands are:

	fork        fork the host's third-party dependencies into a private namespace
	upgrade     re-fork modules at new versions (queries as go get takes them)
	check       CI gate: fail if anything is unforked, drifted or miswired
	status      list the forks, with -u the upstream updates available
	unfork      reverse forks: original imports and requires restored
	inspect     predict from built binaries whether plugins load into a host, and why not
	plugin      build plugins against a host (plugin build), or print how to (plugin env)
	vuln        find known vulnerabilities in the forked host as if it were not forked
	sbom        write a bill of materials in which each fork names its upstream module
	version     print plugfork's version and build information

Run "plugfork help <command>" for a command's flags and examples.

# Exit status

	0  success
	1  findings: check or inspect found a problem, vuln a vulnerable symbol called
	2  usage or operational error

Errors are printed to standard error, prefixed "plugfork: ", with the file and
line or the module they concern and, where there is one, the command that
fixes them. A usage error is followed by the command's usage line. Long flags
may be written with one dash, as the go command writes them (-json,
-binary=FILE).

A command run with --json that fails also prints the error on standard output,
as plugfork/error/v1: {schema, error, exit}.

# Fork

	plugfork fork [packages] [--prefix P] [--dir D] [--layout modules|inline]
	              [--keep PATTERN]... [--tests]
	              [--whole-modules] [--platform GOOS/GOARCH,...] [--tags TAG,...]
	              [--accept-hazard PACKAGE... --reason TEXT]
	              [-v] [--dry-run] [--json]

forks every third-party module that provides a package in the import closure
of the host's packages (default ./...), across every GOOS/GOARCH and build tag
(as go mod vendor sees it), at the versions the host's build list selects,
taken from the go.sum-verified module cache. Fork module path is
P/<module path>; the fork lives in D/<module path escaped as the module cache
escapes it> (default third_party/forked) and holds the closure's packages with
the files go mod vendor keeps (all platforms, assembly, C and headers,
embedded files, the licence files of parent directories), cgo include
directories, the rewritten go.mod
with its original go directive (go 1.16, as the go command reads it, for a
module without a go.mod or without a go directive) and a marker, PLUGFORK.txt, naming path@version, the h1: hash and every file's
SHA-256. Imports are rewritten in the forks and in the host (import specs in
every file whatever its build constraints, canonical import comments,
//go:linkname targets, assembly symbol references) as byte edits: nothing else
in a file changes. go.mod gets a require and a replace per fork (none with
--layout inline); plugfork.lock
records the prefix, dir, keep patterns and each fork's upstream version and
hashes. Everything is staged in .plugfork/ and type-checked before the host
changes; the swap is journaled, so a run interrupted at any moment (Ctrl-C,
kill -9) is finished by the next. A re-run reconciles with the lock: nothing
changed means nothing written, and when the lock's hash of the inputs (go.mod,
go.sum, the host's sources, local replacements, the forks' trees) still
matches, nothing is even staged. A vendoring host gets vendor/ regenerated.

--keep leaves packages or modules (patterns as the go command reads them:
"..." matches any string, example.com/api/... also example.com/api; a
module's path alone names the module) shared with plugins, such as the
plugin contract. What host and plugins must then share, the shared surface,
is the kept packages and every third-party package they import,
transitively (a package's fingerprint covers the import path of everything
it imports); everything else is forked, however it is reached. A package
kept only because its module is, that imports a package nobody kept, is
forked (reported as not shared, with the import), unless that would leave
nothing of its module shared. The surface is listed with why each package is
in it (kept, exposed by a declaration of a kept package's API, imported by a
package of the surface), its fingerprints are compared upstream and forked
before the swap (a difference stops the fork), and the lock records them;
plugins must use exactly its versions (pinned). The proof compiles the
surface for the platform the go command builds for (GOOS/GOARCH, recorded
in the lock as proved-on and shown as proved_on): a package of the surface none of
whose files build there (golang.org/x/sys/windows on linux) is not linked
there, and is listed as not built rather than proved. A forked module whose
types the exported API of host packages plugins can import hands out (a
field, a parameter or result, an embedded type, an alias) is reported with
those declarations, the --keep that shares it and what that pins: a plugin
that uses them with its own copy of the module does not compile. String
literals holding forked paths, cgo packages and -ldflags -X flags in build
files are reported, not rewritten.

--layout says how forks live in the host. modules (the default) makes each
fork a nested module, as above. A module zip leaves nested modules out, and a
replace applies only in the main module: a version of the host published
through a module proxy carries no forks. inline makes each fork plain
packages of the host module, at <host module path>/D/<module path> (so the
prefix is the host's path and D; a --prefix that differs is refused), with no
go.mod, require or replace: the host's module zip carries them. The lock
records the layout (a layout line); re-runs keep it, and another --layout is
refused: unfork, then fork with it. What the module boundary gave is kept
another way: a fork whose go.mod says go 1.21 or older (or has no go line)
keeps its language version where semantics changed since (per-iteration
for-loop variables, go 1.22) through a go1.21 term in the build constraint
of each Go file, combined with the file's own ("//go:build linux && go1.21";
old "+build" lines are folded into it). A file's version cannot be set below
go1.21, so what changed before go 1.21 is not kept; those changes only added
to the language. internal/ paths stay valid under the one prefix, and
go:linkname, assembly, embedded files, cgo, the licences and the marker are
as in the modules layout. ./... in the host would match the forks (go vet,
go test, linters): an ignore directive for D in go.mod keeps them out, where
the go line is 1.25 or later; otherwise the result notes it (unignored), and
raising the go line or a D beginning with _ avoids it. unfork removes the
directive and restores go.mod byte for byte. A closure whose module zip
would pass 500 MiB (the files of the host module and of the forks, zipped or
unzipped; PLUGFORK_ZIP_LIMIT, in bytes, lowers the limit for a proxy that
takes less) is refused before anything is written, with the largest forks,
the ones only some builds reach (with the build constraint on the way), and
the scope that would fit; so are forks' files a module zip does not take
(paths that differ only in case: example.com/UpperCase beside
example.com/uppercase).

Forks hold every file go mod vendor would, whatever its build constraints.
--platform GOOS/GOARCH,... and --tags TAG,... (as go build -tags) scope them
to the builds the host really makes: only the files that build in one of
those platforms with those tags (others off; cgo, race and architecture
levels either way) are forked, Go, C, assembly and .syso files alike
(headers, and files a kept file includes, stay), and only their imports
followed, so a module reached only through a file for another platform or
tag (a prebuilt library behind //go:build x_extra) is not forked; nor
downloaded, when that file is a dependency's (go mod tidy reads the host's
own files of every build). The lock records the scope
(platform and tag lines): re-runs, upgrade and check use it; given again,
the flags replace it, and empty (--platform= --tags=) clear it. The size
report says what the forks weigh, their largest modules and files and every
file over 50 MiB (git hosts warn) or 100 MiB (they refuse it: a large-file
finding), each with the import chain that reaches it and the build
constraint of the importing file; the text output shows the files over the
limits, -v the whole report. --json prints plugfork/fork/v1: prefix,
dir, layout (inline; none for modules), unignored, changed, skipped (the lock's inputs hash matched: nothing was staged),
recovered, forks[{path, version, fork_path, dir, packages, files, bytes,
status (added, updated or unchanged), previous_version}], removed,
pinned[{module, version, packages}], surface[{package, module, version,
why, fingerprint, not_built}], proved_on, not_shared[{package, imports}],
host_files (those whose imports name forks), rewritten (those this run
changes; none for a no-op re-run), exposures[{module, keep, pins, by[{package, decl, kind, type}]}],
exposed[{package, forks}]
(the host packages plugins can import, neither main nor internal, that use
forks: plugins that import them must be built with plugfork plugin build, or
the wiring plugin env prints), findings[{pos, kind (cgo, string-literal or
ldflags or large-file), path, message}], hazards[{module, pos, call, kind
(registry or singleton), message}], scope{platforms, tags},
size{bytes, files, largest_modules[{module, bytes, files}],
largest_files[{path, module, bytes, level (warning or refused),
reached_from[{package, file, constraint}]}]} and timings{resolve_ms,
download_ms, copy_rewrite_ms, typecheck_ms, apply_ms}.

Hazards are where two copies of a library in one process break, found in the
forks: registries keyed by a name (database/sql.Register, flag on the command
line, expvar.Publish, gob.Register, http.Handle on the default mux, the files
of a protobuf runtime the host keeps shared) called at package initialization
panic inside plugin.Open when a plugin links its own copy; forked singletons
(the protobuf registry, prometheus's default registry, otel globals, global
loggers) split silently. A registry hazard is a decision, recorded in
plugfork.lock: fork reports it with the panic and the remedies it checked
apply to the host (keep the package shared, with what that pins; a build tag
that drops every import of it, such as -tags grpcnotrace for grpc v1.62.0 and
later, checked with the go command; -X on the variable the name comes from,
as mysql's and go-sqlite3's driverName; the protobuf runtime's
conflictPolicy), and check fails until one is taken or the hazard accepted
with --accept-hazard PACKAGE --reason TEXT. The text output leads with the
hazards, then gives one line per other kind of finding; -v lists every
finding (string literals that can change behaviour first) and redoes the
work to find them; cgo findings are only for files that build where plugins
exist (linux, darwin, freebsd).

# Upgrade

	plugfork upgrade MODULE@QUERY... [--dry-run] [--json]

moves forked modules as go get would (a version, latest, patch, a downgrade):
the go command's minimal version selection over the upstream requirements
decides the transitive changes; new dependencies are forked, unneeded forks
dropped, and the result type-checked and swapped in as fork does. An upgrade
that breaks the host is refused with the compiler's errors. --json adds
changes[{path, old, new}] to the fork result.

# Check

	plugfork check [--binary FILE] [--keep PATTERN]... [--json | --format text|json|sarif]

is the CI gate. Findings, each with file:line or module and the command that
fixes it: unforked-import (a host package or fork imports a third-party
package neither forked nor kept, on any platform), drift (a fork's files
differ from what plugfork generated, naming the files), missing-fork and
extra-fork, wiring (go.mod requires and replaces disagree with the lock),
interrupted (a fork was interrupted), hazard (a fork registers a fixed name at
init and nobody took a remedy or accepted it), surface (go.mod requires a
module of the shared surface at another version than the fork proved; with
--binary of a host built with -trimpath, a surface package linked with
another fingerprint than the lock's), and with --binary
linked-unforked (a built host, stripped or not, links a shared third-party
package); judged on a built host, a hazard whose fork it does not link (a
build tag dropped it) or renamed with -X is clean. In a host forked with a
scope (--platform, --tags), a host file outside it that imports a package
the forks do not hold is a note, outside-scope, not a finding: the scope is
the host's decision, and a build outside it would share that package with
plugins (or miss it). It runs no
go command and no network. Exit 0 clean, 1 findings, 2 cannot judge. --json
prints plugfork/check/v1: ok, findings[{kind, pos, module, path, files,
message, fix}], notes (the same shape), forks, files_scanned, ms. --format sarif prints SARIF 2.1.0 for
code-scanning UIs: a rule per kind, a result per finding, located relative to
the host root (%SRCROOT%): file:line:col, a drifted fork's files, the fork dir,
or plugfork.lock.

# Status

	plugfork status [-u] [--vuln [--db URL]] [--json]

lists the forks: upstream path@version, fork path, dir, files and size; with
-u the newest upstream version of each, asked of the go command (GOPROXY,
GOPRIVATE and GOFLAGS apply); with --vuln the advisories the vulnerability
database (--db, as govulncheck's -db) knows in each fork's upstream version,
whether or not the host calls them (plugfork vuln says that). Without -u and
--vuln it uses no network. --json prints plugfork/status/v1 (forks[].vulns[{id,
summary, fixed_version}] with --vuln).

# Unfork

	plugfork unfork [MODULE...] [--dry-run] [--json]

reverses forks. With no modules, all of them: fork then unfork gives back
byte-identical sources and go.mod of a tidy host, and go.sum as go mod tidy
has it; the fork dir
(and parents it leaves empty) and the lock are removed, and vendor/ of a
vendoring host is regenerated. With modules, those are unforked and recorded as
keep patterns, and the rest is re-forked around them. --json prints
plugfork/unfork/v1.

# Inspect

	plugfork inspect [--json] [--lock FILE] HOST [PLUGIN...]

reads the host and the plugins (ELF binaries, stripped too) and predicts, per
plugin in load order, whether plugin.Open loads it; for a failure, every
package whose fingerprint differs, grouped by cause (module version,
toolchain, build settings, -trimpath missing where a package compiles from a
directory, another source, an earlier plugin, the same plugin path), each
with its fix; and a plugin whose init would panic inside
plugin.Open because a copy of a registering package was there first (the
host's fork, an earlier plugin), with the panic's text, from the table of
well-known libraries and, with --lock, the registrations plugfork.lock
records. Exit 0 when all load, 1 when some fail or panic, 2 for a file it
cannot judge. --json prints the report in the schema plugfork/inspect/v1,
documented in package github.com/plugfork/plugfork/inspect, which hosts can
also call before plugin.Open.

# Plugin build

	plugfork plugin build [package] --host DIR|MODULE@VERSION [--host-binary FILE]
	                      [-o FILE] [--also PLUGIN]... [-w] [--isolate [--isolate-id ID]]
	                      [--json] [go build flags]

is for the teams that write plugins: run in the plugin's module, it builds
the plugin's main package (default ".") with -buildmode=plugin so that it
loads into the host whose module is in DIR. The build runs in a temporary
workspace, in the plugin module's .plugfork/ and removed after, that uses the
plugin module and the host module: the host's own packages compile from the
host's source as the host's build compiled them (so a -trimpath host built in
another directory still matches), and the host's go.mod replaces, its forks
among them, apply, so a plugin that imports a host package (an SDK) sees the
forks; an overlay gives the plugin an aligned go.mod and go.sum, and the
plugin's own go.mod, go.sum and go.work are never written (-w writes them on
purpose: the aligned requirements and a go.work that uses the host). A go.work
of the user's own in effect is combined into the workspace; one that uses
another copy of the host module is refused.

--host MODULE@VERSION (a version or a query, as go get takes them) names a
published version of the host instead of a checkout: its source is downloaded
into the module cache as the go command downloads it (GOPROXY, GOPRIVATE,
GONOSUMDB, GOFLAGS) and the workspace uses it there, read-only. Its forks must
travel in it (plugfork fork --layout inline): forks as nested modules are left
out of every module zip, which is refused with the ways out; the version's
go.sum must be complete (go mod tidy before tagging: a go.sum that lacks
entries is refused, naming a checkout with --host DIR as the way meanwhile);
and the host must be built with -trimpath from that version's source for its
packages to match (a --host-binary built without it is refused before
building). On a terminal, a line says when the version is downloaded.

Every module that provides a package both the plugin and the host link (by
the host binary, or without one by the host's packages) is moved to exactly
the host's version with go get, so that minimal version selection moves what
depends on it. A plugin that then does not build, but builds at its own
versions, is refused with the modules, both versions and the ways out:
upgrade the host, or lower the plugin's requirements; and, for a host not
forked, fork it, so that the plugin links its own versions.

With --host-binary the host's build information decides the build settings
that enter package fingerprints: -trimpath, -race, -msan, -asan, -tags,
-gcflags, CGO_ENABLED, GOEXPERIMENT, GOOS and GOARCH are the host's, and the
go command must be the host's Go release (the error names the GOTOOLCHAIN= to
use). A flag given that would make a difference is refused with the reason
(a tag only if it changes the files of a package the plugin shares with the
host); -asmflags and -coverpkg, which no binary records, are refused. The
built plugin is then judged as inspect judges it, loaded after the --also
plugins in order, and written to -o (default ./<package name>.so) only if
plugin.Open would load it: exit 1, with inspect's explanation and no plugin
written, otherwise. Without --host-binary the flags given are used and the
result says they were not checked. Go build flags may be written as the go
command writes them (-trimpath, -tags=x, -v). --json prints
plugfork/plugin-build/v1: plugin{path, dir}, host{path, version, dir, prefix,
forks, binary, go_version}, output, name, aligned[{module, from, to, packages}],
flags, env, checked, verdict (inspect's, see package inspect), wrote, notes,
ms, and with --isolate isolated{id, deps_id, plugin_path, copies[{module,
version, path, packages}], shared, cgo}.

With --isolate [--isolate-id ID] the plugin is isolated from other plugins:
every package it links that it need not share with the host (its own
packages, and the third-party ones the host does not link) gets a private
import path, plugfork.isolated/ID/<module path>, rewritten as fork rewrites
forks (imports, import comments, go:linkname, assembly) in a stage in the
plugin module's .plugfork/ (removed after; the plugin's files are not
changed), and the plugin is built from there, its plugin path private too.
The standard library, the host module's packages and the packages the host
links (its kept packages, its forks) stay shared, so the host's type
assertions on the plugin's symbols still hold. Plugins of different modules
then share nothing else, whatever their versions, and a new build of a
plugin loads beside the old one: the plugin's own id derives from its
sources and its dependencies' id (--isolate-id sets it), the dependencies'
id from the plugin module, the module versions it links and the build
flags, never from its own code, so an edit recompiles only the plugin's own
packages, and unchanged sources rebuild byte for byte. (So two builds of a
plugin whose dependencies did not change share those dependencies' copies,
and their state, in one process.) Registries keyed by
name still collide between isolated copies (two copies of a SQL driver both
register its name): --also predicts it, and inspect names an isolated
plugin's private copies with their versions. Private copies that use cgo
keep their C symbols' names (a note says so). -w is refused with --isolate:
a plain go build cannot isolate.

# Plugin env

	plugfork plugin env --host DIR|MODULE@VERSION [--host-binary FILE] [--json]

prints what a plugin build against the host must use, for build systems that
do not call plugfork: a go.work for the plugin module that uses it and the
host (or, without a workspace, the replace lines for the plugin's go.mod, the
host and its replacements with absolute directories; the host's own packages
then match only without -trimpath), the versions of the modules plugins share
with the host (a plugin that links one must select exactly that version), and,
from --host-binary, the go build flags, the environment and the Go release.
--json prints plugfork/plugin-env/v1: host, workspace, replace[{old, new}],
require[{path, version}], flags, env, toolchain, checked, notes.

# Vuln

	plugfork vuln [packages] [--db URL] [--binary FILE] [--show verbose] [--json | --format text|json|sarif]

runs govulncheck (golang.org/x/vuln/scan, in process) on the host as if it
were not forked. govulncheck on a forked host looks each fork up under its own
module path, which no vulnerability database knows, and finds nothing. Vuln
analyses the upstream view instead: the lock's forks undone in a private stage
under .plugfork/, as unfork makes it, nothing in the host changed. The
reachability is govulncheck's (called, imported, required); each advisory names
the upstream module@version, the fixed version, the fork's path and directory,
and, when called, the host's call sites as file:line:col in the forked tree
(a frame in a fork is named in its fork dir). With --binary FILE it extracts
the built host's modules and symbols (govulncheck -mode extract), names each
fork's module and packages by its upstream at the locked version, and scans
that (-mode binary). --db is govulncheck's -db (default https://vuln.go.dev; a
file:// URL reads a local database in the v1 layout, offline). Without --show
verbose only the called advisories are listed, with a count of the others. Exit
0 when no vulnerable symbol is called, 1 when one is, 2 on errors. --json
prints plugfork/vuln/v1: mode, db, binary, called, vulns[{id, aliases,
summary, url, level, module, version, fixed_version, fork_path, fork_dir,
traces[{site, frames[{module, version, package, function, receiver, pos}]}]}].
--format sarif prints SARIF 2.1.0: a rule per advisory, an error at each of the
host's call sites of a called one, a note at go.mod for the others.

# Sbom

	plugfork sbom [-o FILE] [--format cyclonedx|spdx]

writes the host's software bill of materials from go.mod, go.sum and
plugfork.lock, with no go command and no network. Each fork is a component (its
module path, the version go.mod requires, the h1: hash of the forked tree as
SHA-256) that names its upstream: in CycloneDX 1.6 JSON (the default) its
pedigree.ancestors is pkg:golang/<module>@<version> with the upstream h1: hash,
in SPDX 2.3 JSON the fork is DESCENDANT_OF the upstream package. The upstream
module is also a top-level component, because some scanners (Grype) ignore
pedigree. The output is deterministic: the CycloneDX serial number and the SPDX
namespace are derived from the content, CycloneDX has no timestamp, and SPDX's
required creation time is SOURCE_DATE_EPOCH when set, else the Unix epoch.

# Examples

	plugfork fork --prefix gitlab.example.com/workflow
	go build ./... && go test ./...
	go get github.com/new/dep@v1.2.0 && plugfork fork
	plugfork upgrade github.com/pkg/errors@v0.9.1
	plugfork check --binary ./bin/host
	plugfork status -u
	plugfork vuln
	plugfork sbom -o host.cdx.json
	plugfork inspect ./bin/host ./plugins/*.so
	plugfork plugin build --host ../framework --host-binary ../framework/bin/host -o biz.so
	plugfork plugin env --host ../framework --json
	plugfork version --json
*/
package main
