#!/usr/bin/env python3
"""Runs the L1 hit-rate simulation (bench/l1_bench.cpp, l1_hit_rate/* and l1_tuning/*) and
prints the markdown tables of docs/l1-eviction.md.

    python3 bench/l1_hit_rates.py build-release/bench/cachekit_bench
"""
import json
import subprocess
import sys


def run(bench: str) -> dict:
    out = subprocess.run(
        [bench, "--benchmark_filter=^l1_(hit_rate|tuning)/", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    rates = {}
    for row in json.loads(out)["benchmarks"]:
        # name: l1_hit_rate/<trace>/<size>/<policy>/iterations:1
        kind, trace, size, policy = row["name"].split("/")[:4]
        rates[(kind, trace, size, policy)] = row["hit_rate_%"]
    return rates


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rates = run(sys.argv[1])
    traces = sorted({k[1] for k in rates}, key=lambda t: (t.replace("-", "~"),))
    sizes = ["1%", "10%"]

    print("| trace | cache size | LRU | S3-FIFO (1 shard) | S3-FIFO (auto shards) | gain over LRU |")
    print("|---|---|---|---|---|---|")
    for trace in traces:
        for size in sizes:
            lru = rates[("l1_hit_rate", trace, size, "lru")]
            one = rates[("l1_hit_rate", trace, size, "s3fifo_1shard")]
            auto = rates[("l1_hit_rate", trace, size, "s3fifo_auto_shards")]
            print(f"| {trace} | {size} | {lru:.2f}% | {one:.2f}% | {auto:.2f}% | "
                  f"{auto - lru:+.2f} pts |")

    variants = sorted({k[3] for k in rates if k[0] == "l1_tuning"})
    print()
    print("| trace | cache size | shipped (small 0.10, promote 1) | "
          + " | ".join(variants) + " |")
    print("|---|---|---|" + "---|" * len(variants))
    for trace in traces:
        for size in sizes:
            shipped = rates[("l1_hit_rate", trace, size, "s3fifo_1shard")]
            cells = [f"{rates[('l1_tuning', trace, size, v)]:.2f}%" for v in variants]
            print(f"| {trace} | {size} | {shipped:.2f}% | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
