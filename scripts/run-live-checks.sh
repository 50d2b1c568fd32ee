#!/usr/bin/env bash
# Live cross-checks: the pinned cachekit-py (tests/live/requirements.txt) against the C++ CLI.
#
#   scripts/run-live-checks.sh BUILD_DIR [run_live_checks.py options...]
#
# e.g. scripts/run-live-checks.sh build --seed 123 --only frame_cpp_to_py --case 17
# Creates .venv if needed, writes every finding to BUILD_DIR/live-checks-report.json, and exits
# non-zero on any mismatch (the seed and a rerun command are printed with each one).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 ]]; then
  echo "usage: scripts/run-live-checks.sh BUILD_DIR [--seed N] [--count N] [--only CHECK,...] [--case I]" >&2
  exit 2
fi
build_dir=$1
shift
cli="$build_dir/tools/cli/cachekit"
if [[ ! -x "$cli" ]]; then
  echo "run-live-checks: $cli not found; build it first: cmake --build $build_dir --target cachekit_cli" >&2
  exit 2
fi

bash scripts/python-venv.sh
exec .venv/bin/python tests/live/run_live_checks.py --cli "$cli" --report "$build_dir/live-checks-report.json" "$@"
