#!/usr/bin/env bash
# clang-tidy with the checked-in .clang-tidy over every source of src/ and tools/, in parallel;
# exits non-zero on any finding (.clang-tidy turns warnings into errors).
#
#   scripts/clang-tidy.sh BUILD_DIR JOBS
#
# BUILD_DIR is only configured, not built: clang-tidy needs its compile_commands.json and the
# headers CMake generates (version.hpp, export.hpp).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build-tidy}
jobs=${2:-2}

# clang as the compiler, so every flag in the compilation database is one clang-tidy (clang 14)
# understands. Tests, benches and examples are not linted: the sources of src/ and tools/ are.
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCACHEKIT_BUILD_TESTS=OFF -DCACHEKIT_BUILD_BENCH=OFF \
  -DCACHEKIT_BUILD_EXAMPLES=OFF >/dev/null

run-clang-tidy -p "$build_dir" -j "$jobs" -quiet "$PWD/(src|tools)/"
