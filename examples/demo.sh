#!/usr/bin/env bash
# demo.sh shows, on a real host and plugin, the plugin.Open failure plugfork
# ends and the fix: build both, watch the plugin fail to load, fork the host,
# rebuild it, watch the same plugin load. Then the plugin author's side: a
# plugin that imports the host's own SDK (package api) does not build with a
# plain go build against the forked host, and plugfork plugin build builds it
# so that it loads beside the first. Run by `make demo` from the
# repository root; needs Go 1.26, a C compiler (plugins need cgo) and the
# module proxy (or a module cache holding github.com/pkg/errors v0.8.1 and
# v0.9.1).
#
# Everything happens in examples/.demo, removed first: examples/host,
# examples/plugin and examples/sdkplugin are only read. It exits non-zero if any step does not
# behave as the demo says it does.
set -euo pipefail

cd "$(dirname "$0")/.."
go=${GO:-go}
demo=examples/.demo
prefix=example.com/plugfork-demo/forked
want_fail='plugin was built with a different version of package github.com/pkg/errors'

# Pin what changes builds and fingerprints, whatever the caller's environment
# says: no workspace, go.mod and go.sum used as committed (never updated), cgo
# on for -buildmode=plugin, no VCS stamping of the scratch copy.
export GOWORK=off GOFLAGS='-mod=readonly -buildvcs=false' CGO_ENABLED=1

step=0
step() {
	step=$((step + 1))
	printf '\n==> %d. %s\n' "$step" "$*"
}

indent() { sed 's/^/    /'; }

fail() {
	printf '\ndemo: FAILED at step %d: %s\n' "$step" "$*" >&2
	exit 1
}
trap 'fail "command failed: $BASH_COMMAND"' ERR

# run CODE DIR CMD...: show CMD as typed in DIR (the repository root when DIR
# is .), run it there and show its output, kept in $out; fail unless it exits
# with CODE.
run() {
	local code=$1 dir=$2 got=0
	shift 2
	printf '%s$ %s\n' "${dir#.}" "$*"
	out=$(cd "$dir" && "$@" 2>&1) || got=$?
	[[ -z $out ]] || indent <<<"$out"
	((got == code)) || fail "$* exited $got, want $code"
}

# changed FILE: show how the fork changed FILE of the host.
changed() {
	diff -u --label "examples/host/$1" --label "$demo/host/$1" \
		"examples/host/$1" "$demo/host/$1" | indent || true
}

cc=$($go env CC)
command -v "${cc%% *}" >/dev/null || fail "no C compiler ($cc): plugins need cgo; install gcc"

rm -rf "$demo"
mkdir -p "$demo/bin"
printf 'plugfork demo in %s (%s)\n' "$demo" "$($go version)"

step 'Build the plugin (github.com/pkg/errors v0.9.1) and the host (v0.8.1)'
run 0 examples/plugin "$go" build -buildmode=plugin -o ../.demo/plugin.so .
cp -R examples/host "$demo/host"
run 0 "$demo/host" "$go" build -o ../bin/host .

step 'Run the host with the plugin: plugin.Open must refuse it'
run 1 "$demo" ./bin/host ./plugin.so
[[ $out == *"$want_fail"* ]] || fail "the host did not report: $want_fail"
echo 'as expected: host and plugin link different versions of github.com/pkg/errors'

step 'plugfork inspect predicts the failure from the binaries alone'
run 0 . "$go" build -o "$demo/plugfork" ./cmd/plugfork
run 1 "$demo" ./plugfork inspect bin/host plugin.so
[[ $out == *'github.com/pkg/errors'* ]] || fail 'inspect did not name github.com/pkg/errors'

step "Fork the host's dependencies under $prefix"
run 0 "$demo/host" ../plugfork fork --prefix "$prefix"
echo 'the host now imports the fork, which go.mod points to:'
changed main.go
changed go.mod
grep -q "\"$prefix/github.com/pkg/errors\"" "$demo/host/main.go" ||
	fail 'main.go does not import the fork'
! grep -q '"github.com/pkg/errors"' "$demo/host/main.go" ||
	fail 'main.go still imports github.com/pkg/errors'

step 'Rebuild the host and run it with the same plugin: it loads'
run 0 "$demo/host" "$go" build -o ../bin/host .
run 0 "$demo" ./bin/host ./plugin.so
[[ $out == *'invoice for order 42'* ]] || fail "the plugin's Handle result is missing"
run 0 "$demo" ./plugfork inspect bin/host plugin.so

step "The plugin author's side: a plugin that imports the host's SDK (package api)"
cp -R examples/sdkplugin "$demo/sdkplugin"
echo 'api now imports the fork, and replace applies only in the main module: a plain build cannot find it'
run 1 "$demo/sdkplugin" "$go" build -buildmode=plugin -o ../sdkplugin.so .
[[ $out == *"$prefix/github.com/pkg/errors"* ]] || fail "the plain build did not fail on the fork"
echo 'plugfork plugin build builds it in a view of the host, checks it against the built host, judges it:'
run 0 "$demo/sdkplugin" ../plugfork plugin build --host ../host --host-binary ../bin/host -o ../sdkplugin.so
[[ $out == *'loads'* ]] || fail 'plugin build did not predict the plugin loads'
run 0 "$demo" ./bin/host ./plugin.so ./sdkplugin.so
[[ $out == *'through the host'* ]] || fail "the SDK plugin's Handle result is missing"

step 'Done'
echo "demo passed: the plugin that plugin.Open refused loads into the forked host, and so does a plugin built against its SDK (${SECONDS}s)"
