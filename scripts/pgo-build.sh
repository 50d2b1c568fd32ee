#!/usr/bin/env bash
# A profile-guided optimized Release build (GCC) of the library and the benchmark binary in
# BUILD_DIR: an instrumented build runs the hit-path benchmarks as its training workload, then
# the same tree is rebuilt with those profiles.
#
#   scripts/pgo-build.sh BUILD_DIR JOBS
#
# Result: BUILD_DIR/src/libcachekit.a and BUILD_DIR/bench/cachekit_bench, both built with
# -fprofile-use. scripts/pgo-compare.sh measures the gain against the plain Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build-pgo}
jobs=${2:-2}
targets=(--target cachekit cachekit_bench)

# The hit path: memoized L1 hits in every mode, L2 hits on the in-process memory backend, and
# the pieces of a hit timed alone. No Redis cases: training should not depend on a server's
# timing, and the client code they add is hiredis's, which is not rebuilt here.
training_filter='^cache_(memo_l1_hit|memo_l2_hit_memory|piece|pieces_in_sequence|struct_raw)'

configure() {
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHEKIT_BUILD_TESTS=OFF \
    -DCACHEKIT_BUILD_TOOLS=OFF -DCACHEKIT_BUILD_EXAMPLES=OFF \
    -DCMAKE_CXX_FLAGS="$1" -DCMAKE_C_FLAGS="$1" -DCMAKE_EXE_LINKER_FLAGS="$1" >/dev/null
}

# 1. Instrumented. The profiles (.gcda) land next to each object file, where the second build,
# in the same directory and so with the same object paths, looks for them. Atomic counters:
# the training runs the two-thread cases too, and racing plain counters corrupt the profile.
configure "-fprofile-generate -fprofile-update=atomic"
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
find "$build_dir" -name '*.gcda' -delete  # a profile from an older tree would mislead the next
echo "pgo-build: training on $training_filter"
"$build_dir/bench/cachekit_bench" --benchmark_filter="$training_filter" \
  --benchmark_min_time=0.1 >"$build_dir/training.log"

# 2. Optimized with the profiles. -fprofile-partial-training keeps the code the training never
# ran optimized as in a plain -O3 build (by default GCC optimizes it for size, as cold). Some
# objects have no profile at all (code no benchmark reached): that is expected, not a warning.
configure "-fprofile-use -fprofile-partial-training -Wno-missing-profile"
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
echo "pgo-build: $build_dir/src/libcachekit.a, $build_dir/bench/cachekit_bench"
