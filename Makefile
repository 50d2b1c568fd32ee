# cachekit for C++ — the commands in README.md. Every target installs what it needs first: the
# first run on a fresh machine installs the missing Debian packages (scripts/install-deps.sh);
# later runs skip the check until that script changes (stamp in .cache/). `make deps` checks
# again at any time (e.g. after removing a package).
BUILD_DIR   ?= build
ASAN_DIR    ?= build-asan
TSAN_DIR    ?= build-tsan
SHARED_DIR  ?= build-shared
FUZZ_DIR    ?= build-fuzz
COV_DIR     ?= build-cov
TIDY_DIR    ?= build-tidy
PGO_DIR     ?= build-pgo
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
FUZZ_SECONDS ?= 20
CMAKE       := cmake

.PHONY: all deps venv build test test-unit test-live demo quick-check format format-check \
        fuzz-build fuzz-smoke bench test-asan test-tsan test-shared clean package docs test-cov \
        check tidy build-pgo bench-pgo

all: build

DEPS_STAMP := .cache/deps.stamp

deps:
	@bash scripts/install-deps.sh
	@mkdir -p $(dir $(DEPS_STAMP)) && touch $(DEPS_STAMP)

# What the other targets depend on: installs what is missing once, not a dpkg-query of every
# package on every make.
$(DEPS_STAMP): scripts/install-deps.sh
	@bash scripts/install-deps.sh
	@mkdir -p $(dir $@) && touch $@

venv: $(DEPS_STAMP)
	@bash scripts/python-venv.sh

$(BUILD_DIR)/build.ninja:
	$(CMAKE) -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(DEPS_STAMP) $(BUILD_DIR)/build.ninja
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

# The whole suite: unit, property, conformance (vectors), live cross-checks with the pinned
# cachekit-py, and a short fuzz run of every decoder.
test: build venv
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	bash scripts/run-live-checks.sh $(BUILD_DIR)
	$(MAKE) fuzz-smoke FUZZ_SECONDS=5

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-live: build venv
	bash scripts/run-live-checks.sh $(BUILD_DIR)

# Builds only what the demo needs (not the test suites), then runs it.
demo: $(DEPS_STAMP) $(BUILD_DIR)/build.ninja
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS) --target cachekit_demo
	$(BUILD_DIR)/examples/cachekit_demo

# A Debian development package (headers, library, CMake package, cachekit.pc, the tool) with its
# dependencies declared: $(BUILD_DIR)/libcachekit-dev_<version>_<arch>.deb (cmake/cachekit_package.cmake).
package: build
	cd $(BUILD_DIR) && cpack -G DEB

# The API reference of include/cachekit (Doxygen; docs/getting-started.md is the main page), in
# $(BUILD_DIR)/docs/html. Fails on any doxygen warning. Installs doxygen on first use.
docs:
	@bash scripts/install-deps.sh docs
	@rm -rf $(BUILD_DIR)/docs && mkdir -p $(BUILD_DIR)/docs
	@CACHEKIT_DOCS_OUT=$(BUILD_DIR)/docs doxygen docs/Doxyfile || \
	  { cat $(BUILD_DIR)/docs/warnings.log; exit 1; }
	@if [ -s $(BUILD_DIR)/docs/warnings.log ]; then cat $(BUILD_DIR)/docs/warnings.log; exit 1; fi
	@echo "docs: $(BUILD_DIR)/docs/html/index.html"

# Fast feedback (< 2 minutes): formatting and the unit tests.
quick-check: $(DEPS_STAMP) format-check test-unit

# The slower gate before a push (not part of `make test`): the format check, clang-tidy with the
# checked-in .clang-tidy over src/ and tools/, then the unit tests.
check: $(DEPS_STAMP) format-check tidy test-unit

# clang-tidy over src/ and tools/ (compile_commands.json of a clang configure in $(TIDY_DIR));
# fails on any finding. Installs clang-tidy on first use.
tidy: $(DEPS_STAMP)
	@bash scripts/install-deps.sh tidy
	bash scripts/clang-tidy.sh $(TIDY_DIR) $(JOBS)

# Line and branch coverage of the library (src/, include/) from the ctest suite `make test`
# runs, with gcovr: $(COV_DIR)/coverage/index.html and summary.txt. Installs gcovr on first use.
test-cov: $(DEPS_STAMP)
	@bash scripts/install-deps.sh coverage
	bash scripts/coverage.sh $(COV_DIR) $(JOBS)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

$(FUZZ_DIR)/build.ninja:
	CC=clang CXX=clang++ $(CMAKE) -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCACHEKIT_BUILD_FUZZ=ON -DCACHEKIT_BUILD_TESTS=OFF -DCACHEKIT_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"

fuzz-build: $(DEPS_STAMP) $(FUZZ_DIR)/build.ninja
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS)

fuzz-smoke: fuzz-build
	bash scripts/fuzz-smoke.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

# Google Benchmark suites. The real-time scenarios with servers and faults are separate targets:
# bench-faults (Redis paused, with and without the reliability layer), bench-mixed (a 60 s mixed
# load through a Redis kill and a pause), bench-peers (cachekit-py, -core, -rs side by side).
bench: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_bench
	build-release/bench/cachekit_bench --benchmark_min_time=0.2

# Redis paused under load, with and without the reliability layer (bench/fault_latency.cpp).
.PHONY: bench-faults
bench-faults: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_fault_latency
	build-release/bench/cachekit_fault_latency

# 10,000 concurrent in-flight L2 reads through memoized::async (2 dispatcher threads, batched)
# beside the blocking call on a 64-thread pool, against a local redis-server the bench starts:
# wall time, threads, p50/p99/p99.9, ratios in the same run (bench/async_inflight.cpp).
.PHONY: bench-async
bench-async: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_async_inflight
	build-release/bench/cachekit_async_inflight

# A bounded mixed load on every core: hits, misses, invalidations, a Redis kill + restart and a
# pause, every returned value checked; exits non-zero on a wrong value (bench/mixed_load.cpp).
# MIXED_SECONDS sets the length (default 60).
MIXED_SECONDS ?= 60
.PHONY: bench-mixed
bench-mixed: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_mixed_load
	build-release/bench/cachekit_mixed_load --seconds $(MIXED_SECONDS)

# redis_backend on a Redis Cluster (3 masters + 3 replicas) beside a single redis-server: GET
# 1 KiB latency and 16-thread throughput, same run (bench/cluster_latency.cpp).
.PHONY: bench-cluster
bench-cluster: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_cluster_bench
	build-release/bench/cachekit_cluster_bench --benchmark_min_time=0.5

# cachekit::io over loopback TLS (an in-process server of the API) beside Redis: a 1 KiB GET, and
# get_many of 100 keys against 100 gets, with and without a simulated 2 ms round trip
# (bench/cachekitio_latency.cpp).
.PHONY: bench-io
bench-io: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_io_bench
	build-release/bench/cachekit_io_bench --benchmark_min_time=0.2

# How long a process serves a value another process changed, per L1 coherence mode, with real
# processes on one redis-server (bench/coherence_staleness.cpp; about 35 s).
.PHONY: bench-coherence
bench-coherence: $(DEPS_STAMP)
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_coherence_staleness
	build-release/bench/cachekit_coherence_staleness

# cachekit-py, cachekit-core and cachekit-rs beside ours, same operations and inputs, as ratios
# (bench/peers/run_peers.py; about 2.5 minutes once built; the Rust side needs rustc >= 1.91).
.PHONY: bench-peers
bench-peers: venv
	.venv/bin/python bench/peers/run_peers.py

# A profile-guided Release build (GCC) of the library and cachekit_bench in $(PGO_DIR), trained
# on the hit-path benchmarks (scripts/pgo-build.sh).
build-pgo: $(DEPS_STAMP)
	bash scripts/pgo-build.sh $(PGO_DIR) $(JOBS)

# What PGO gains on the hit path: the Release and PGO cachekit_bench in alternating rounds
# pinned to CPU 0, as PGO ÷ Release ratios (docs/benchmarks.md, "PGO"). PGO_ROUNDS (7) rounds.
PGO_ROUNDS ?= 7
bench-pgo: build-pgo
	$(CMAKE) -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF
	$(CMAKE) --build build-release -j $(JOBS) --target cachekit_bench
	bash scripts/pgo-compare.sh build-release/bench/cachekit_bench $(PGO_DIR)/bench/cachekit_bench \
	  $(PGO_ROUNDS)

# The sanitizer runs leave out the `consumer` label: those tests build programs of their own,
# without the sanitizer runtime, against this build's library; `make test` covers them.
test-asan: $(DEPS_STAMP)
	$(CMAKE) -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCACHEKIT_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -LE consumer

test-tsan: $(DEPS_STAMP)
	$(CMAKE) -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCACHEKIT_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer"
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS)
	cd $(TSAN_DIR) && ctest --output-on-failure -j $(JOBS) -LE consumer

# The suite against a shared libcachekit.so (-DBUILD_SHARED_LIBS=ON, its own build directory):
# the tests and the CLI link cachekit_internal, the examples (run as tests) the shared library,
# which must export only the API of include/cachekit/ (scripts/check-shared-exports.sh). No
# benches, for build time. Every label but `consumer` (the add_subdirectory consumer test of
# `make test` already builds a shared cachekit from this tree); the tests that need Redis or
# memcached start their own servers, as in `make test`.
$(SHARED_DIR)/build.ninja:
	$(CMAKE) -S . -B $(SHARED_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DBUILD_SHARED_LIBS=ON \
	  -DCACHEKIT_BUILD_BENCH=OFF

test-shared: $(DEPS_STAMP) $(SHARED_DIR)/build.ninja
	$(CMAKE) --build $(SHARED_DIR) -j $(JOBS)
	bash scripts/check-shared-exports.sh $(SHARED_DIR)
	cd $(SHARED_DIR) && ctest --output-on-failure -j $(JOBS) -LE consumer

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(SHARED_DIR) $(FUZZ_DIR) $(COV_DIR) $(TIDY_DIR) \
	  $(PGO_DIR) build-release
