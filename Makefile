# The two commands of the README: `make bench` and `make test`.
# Both install missing system packages first (scripts/bootstrap, apt-get).

SWIFT ?= swift
FUZZ_SECONDS ?= 60

.PHONY: bootstrap build test test-tsan bench fuzz clean

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build

# Test suites run in parallel; each integration suite starts its own redis-server
# on a free port, so they never share state.
test: bootstrap
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel

# The reactor's concurrency tests under the thread sanitizer.
test-tsan: bootstrap
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter ReactorTests

# Until redis-bench exists (issue "redis-bench"), `make bench` runs the RESP parser
# and encoder microbenchmark beside hiredis' reader: the one benchmark there is so far.
bench: bootstrap
	Benchmarks/CReference/compare-parser

fuzz: bootstrap
	scripts/fuzz/run $(FUZZ_SECONDS)

clean:
	rm -rf .build .build-* .build_*
