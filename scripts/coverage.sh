#!/usr/bin/env bash
# Line and branch coverage of the library (src/ and include/cachekit/) from the ctest suite that
# `make test` runs, with gcovr. Writes BUILD_DIR/coverage/index.html (per file, per line) and
# BUILD_DIR/coverage/summary.txt, and prints the line and branch percentages.
#
#   scripts/coverage.sh BUILD_DIR JOBS
#
# The tests start their own redis-server and memcached on free loopback ports
# (tests/support/local_server), so nothing needs to run beforehand.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build-cov}
jobs=${2:-2}

# Debug (-O0) so that each line and branch in the report is one in the source, not what the
# optimizer left of it. Atomic counters: the tests call the cache from many threads at once, and
# plain counters lose increments there. No benches: they are not part of the suite.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCACHEKIT_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="--coverage -fprofile-update=atomic" \
  -DCMAKE_C_FLAGS="--coverage -fprofile-update=atomic" \
  -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage >/dev/null
# Counters from an earlier run would add to this one's: removed before the build (the test
# discovery runs the rebuilt binaries, and libgcov refuses to merge into counters of older code)
# and after it (so that discovery's runs are not counted).
find "$build_dir" -name '*.gcda' -delete 2>/dev/null || true
cmake --build "$build_dir" -j "$jobs"
find "$build_dir" -name '*.gcda' -delete
(cd "$build_dir" && ctest --output-on-failure -j "$jobs")

out="$build_dir/coverage"
rm -rf "$out" && mkdir -p "$out"
# Only the library: tests, tools, examples and the system's headers are left out by the filters.
# Throw branches are excluded: GCC gives every call that may throw an extra branch to the
# unwinder, which no test can take and which would bury the branches the code writes.
gcovr --root . --filter 'src/' --filter 'include/' \
  --exclude-throw-branches --exclude-unreachable-branches -j "$jobs" \
  --html-details "$out/index.html" --txt "$out/lines.txt" \
  --print-summary "$build_dir" | tee "$out/summary.txt"
echo "coverage: $out/index.html (per file: $out/lines.txt)"
