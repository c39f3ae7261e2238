# plugfork's build, test and demo targets. `make test` is what CI runs.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# A count, not a duration: with a duration, go1.26's fuzz coordinator can
# fail a target at the deadline with "context deadline exceeded" and no
# failing input (golang/go#75804, fixed in go1.27). 200000 executions take
# a few seconds a target on two cores.
FUZZTIME    ?= 200000x
# Executions the fuzzer may spend minimizing each new input. Go's default,
# 60s, does not fit a short run: its minimizer tries every subrange removal,
# about n*n/2 executions for an n-byte input (some 250,000 for a mutant of the
# 714-byte golden go.mod), so a worker can minimize one input for the whole
# run, and the input is dropped when the run ends. 5000x still covers the
# linear passes (tail cuts, single-byte removals) of inputs up to a few
# kilobytes. FUZZMINIMIZETIME=60s restores Go's default.
FUZZMINIMIZETIME ?= 5000x
# Fuzz targets run briefly by `make test`, as package:Target.
FUZZ_TARGETS ?= ./internal/lockfile:FuzzParseLock ./internal/lockfile:FuzzParseMarker ./inspect:FuzzRead ./rewrite:FuzzGo ./rewrite:FuzzAsm ./rewrite:FuzzGoMod

.PHONY: build install test vet fmt staticcheck unit fuzz test-real bench demo clean

build:
	$(GO) build -o bin/plugfork ./cmd/plugfork

install:
	$(GO) install ./cmd/plugfork

# The whole test suite: static checks, unit, script and end-to-end tests,
# and a short run of every fuzz target.
test: vet fmt staticcheck unit fuzz

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' | grep -v '/testdata/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

staticcheck:
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -count=1 -timeout 30m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) \
			-fuzzminimizetime=$(FUZZMINIMIZETIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | tail -n 3; \
		case "$$out" in *"no fuzz tests to fuzz"*) echo "no fuzz target $$name in $$pkg"; exit 1;; esac; \
	done

# Tests that fetch real modules from the module proxy (only the proxy: the
# fixtures' go.sum files are complete), with PLUGFORK_REAL=1; go test ./...
# skips them. CI runs this after `make test`. Only the packages that have
# such tests are listed, so the run closes on the tests it ran.
REAL_PKGS ?= ./fork ./pluginbuild

test-real:
	PLUGFORK_REAL=1 $(GO) test -count=1 -v -run '^TestReal' -timeout 25m $(REAL_PKGS)

# Performance goals of fork on two hosts, a k8s.io/client-go host and a
# platform gateway of some 800 modules, as ratios to the go command (see
# bench/main.go), then the package benchmarks. Not run in CI; the large
# host's go vet and go build take minutes each. BENCHFLAGS: e.g. -hosts k8s
# -runs 5 -vetruns 0 -buildruns 2 -cpuprofile cpu.out -strict.
BENCHFLAGS ?=
bench:
	$(GO) run ./bench $(BENCHFLAGS)
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./...

# The plugin.Open failure and its fix on examples/host and examples/plugin,
# worked in examples/.demo (see examples/demo.sh).
demo:
	@GO='$(GO)' bash examples/demo.sh

clean:
	rm -rf bin examples/.demo
	$(GO) clean -testcache
