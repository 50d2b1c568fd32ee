#!/usr/bin/env bash
# Live cross-checks against the pinned cachekit-py (tests/live/requirements.txt):
#   1. the C++ CLI on random protocol cases (tests/live/run_live_checks.py);
#   2. the C++ cache's memoize against cachekit-py's @cache through real redis-server, memcached
#      and a shared directory (tests/live/cache_interop.py, with BUILD_DIR/tests/cachekit_cache_peer);
#   3. the CLI's live commands on entries cachekit-py wrote to redis-server (tests/live/cli_live_check.py);
#   4. one cache across processes: key registry, invalidation events and key tracking between
#      cachekit-py and the C++ cache (tests/live/coherence_interop.py, BUILD_DIR/tests/cachekit_coherence_peer).
#
#   scripts/run-live-checks.sh BUILD_DIR [run_live_checks.py options...]
#
# e.g. scripts/run-live-checks.sh build --seed 123 --only frame_cpp_to_py --case 17
# The options go to run_live_checks.py; the cache interop checks always run whole (about 3 s).
# Creates .venv if needed, writes every CLI finding to BUILD_DIR/live-checks-report.json, and exits
# non-zero on any mismatch in either part (the seed and a rerun command are printed with each one).
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

peer="$build_dir/tests/cachekit_cache_peer"
if [[ ! -x "$peer" ]]; then
  echo "run-live-checks: $peer not found; build it first: cmake --build $build_dir --target cachekit_cache_peer" >&2
  exit 2
fi

coherence_peer="$build_dir/tests/cachekit_coherence_peer"
if [[ ! -x "$coherence_peer" ]]; then
  echo "run-live-checks: $coherence_peer not found; build it first: cmake --build $build_dir --target cachekit_coherence_peer" >&2
  exit 2
fi

bash scripts/python-venv.sh
cli_status=0
.venv/bin/python tests/live/run_live_checks.py --cli "$cli" --report "$build_dir/live-checks-report.json" "$@" \
  || cli_status=$?
cache_status=0
.venv/bin/python tests/live/cache_interop.py --peer "$peer" --quiet || cache_status=$?
live_cli_status=0
.venv/bin/python tests/live/cli_live_check.py --cli "$cli" || live_cli_status=$?
coherence_status=0
.venv/bin/python tests/live/coherence_interop.py --peer "$coherence_peer" || coherence_status=$?
if ((cli_status != 0)); then exit "$cli_status"; fi
if ((cache_status != 0)); then exit "$cache_status"; fi
if ((live_cli_status != 0)); then exit "$live_cli_status"; fi
exit "$coherence_status"
