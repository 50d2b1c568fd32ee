#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time. Usage: fuzz-smoke.sh BUILD_DIR SECONDS
set -euo pipefail
build_dir=$1
seconds=$2
root="$(cd "$(dirname "$0")/.." && pwd)"
status=0
for target in "$build_dir"/fuzz/*_fuzz; do
  [[ -x "$target" ]] || continue
  name=$(basename "$target")
  corpus="$build_dir/fuzz-corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  if [[ -d "$root/fuzz/seeds/$name" ]]; then seeds=("$root/fuzz/seeds/$name"); fi
  echo "fuzz-smoke: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
       -print_final_stats=0 "$corpus" "${seeds[@]}" >"$build_dir/$name.log" 2>&1; then
    echo "fuzz-smoke: $name FAILED; log follows"
    tail -n 60 "$build_dir/$name.log"
    status=1
  fi
done
exit $status
