#!/usr/bin/env bash
# The PGO build's gain on the hit path, as ratios measured in one run: the same benchmark binary
# built plainly (Release) and with PGO, in alternating rounds, both pinned to the same CPU.
#
#   scripts/pgo-compare.sh RELEASE_BENCH PGO_BENCH [ROUNDS] [CPU]
#
# Prints, per benchmark, the median over rounds of PGO CPU time ÷ Release CPU time of that round
# (below 1: PGO is faster). Absolute times on a shared VM move between runs; a ratio taken
# within one round, the two sides seconds apart on one CPU, mostly does not.
set -euo pipefail
release=$1
pgo=$2
rounds=${3:-7}
cpu=${4:-0}
# The memoized L1 hit (bytes mode, the default) and the L2 hit on the in-process memory backend,
# one thread each.
filter='^cache_memo_(l1_hit_bytes|l2_hit_memory)/.*threads:1$'
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for ((i = 1; i <= rounds; i++)); do
  # Alternate which side goes first, so a drift in the machine's load favours neither.
  order=(release pgo)
  if ((i % 2 == 0)); then order=(pgo release); fi
  for side in "${order[@]}"; do
    bin=$release
    [[ $side == pgo ]] && bin=$pgo
    taskset -c "$cpu" "$bin" --benchmark_filter="$filter" --benchmark_min_time=0.3 \
      --benchmark_format=json >"$out/$side.$i.json" 2>/dev/null
  done
  echo "pgo-compare: round $i/$rounds done" >&2
done

python3 - "$out" "$rounds" <<'EOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def times(path):
    return {b["name"]: b["cpu_time"] for b in json.load(open(path))["benchmarks"]}
per = {}
for i in range(1, rounds + 1):
    rel, pgo = times(f"{out}/release.{i}.json"), times(f"{out}/pgo.{i}.json")
    for name in rel:
        per.setdefault(name, []).append((pgo[name] / rel[name], rel[name], pgo[name]))
print(f"{'benchmark':48} {'release ns':>10} {'pgo ns':>8} {'pgo/release':>11}  range")
for name, rows in per.items():
    ratios = [r[0] for r in rows]
    print(f"{name:48} {statistics.median(r[1] for r in rows):10.0f} "
          f"{statistics.median(r[2] for r in rows):8.0f} {statistics.median(ratios):11.3f}  "
          f"{min(ratios):.3f}-{max(ratios):.3f}")
EOF
