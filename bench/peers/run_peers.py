"""Side-by-side benchmarks: cachekit for C++ against cachekit-py and cachekit-core / cachekit-rs.

    .venv/bin/python bench/peers/run_peers.py [--rounds 7] [--min-time 0.2] [--skip-build] [--no-pin]
        [--json FILE]
    (or: make bench-peers)

The same operations on the same inputs (bench/peers/peer_inputs.py), on this machine, in one run:

  C++     build-peers/bench/cachekit_bench, the existing cases picked with --benchmark_filter, and
          build-peers/peers-cpp/cachekit_peers_bench (bench/peers/cpp: the interop-mode memoized
          cases cachekit_bench lacks), both Release, JSON output;
  Python  bench/peers/py_peer.py in this interpreter (the pinned cachekit-py of .venv);
  Rust    bench/peers/rust (cachekit-core and cachekit-rs as published, pinned in Cargo.toml),
          skipped with the reason when no cargo/rustc >= 1.91 is on PATH.

Each round runs every side once, one process each, the order rotating between rounds; every case
yields one time per side per round. The table gives, per case, the median time of each side and
the median over rounds of ours ÷ peer taken within the round (below 1: ours is faster), with its
range. Times are CPU time of the measuring thread, except the Redis cases (wall time). One
redis-server on a free loopback port serves the Python and Rust L2 cases and the C++ interop one
(the C++ frame-mode L2 case starts its own, with the same options); all are stopped at the end.
Every side and the redis-servers run pinned to CPU 0 unless --no-pin (see below, at `pin`).
The load average is printed before and after every round: the machine may be shared.

Builds (skipped with --skip-build) run under `nice -n 5`: the C++ build dir `build-peers`
(configured Release, tests and fuzz off), installed into build-peers/install for the consumer
project bench/peers/cpp; cargo's target dir is build-peers/rust-target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import peer_inputs  # noqa: E402

BUILD = os.path.join(ROOT, "build-peers")
CPP_BENCH = os.path.join(BUILD, "bench", "cachekit_bench")
CPP_PEERS_BUILD = os.path.join(BUILD, "peers-cpp")
CPP_PEERS = os.path.join(CPP_PEERS_BUILD, "cachekit_peers_bench")
RUST_DIR = os.path.join(HERE, "rust")
RUST_TARGET = os.path.join(BUILD, "rust-target")
RUST_BENCH = os.path.join(RUST_TARGET, "release", "cachekit-peer-bench")
RUST_MIN_VERSION = (1, 91)  # cachekit-core's and cachekit-rs's rust-version


@dataclass(frozen=True)
class Row:
    """One compared operation: the C++ case (cachekit_bench or cachekit_peers_bench name, as in
    their JSON) and the peers' case names (py_peer.py, rust/src/main.rs); None: no such API."""

    label: str
    cpp: str | tuple[str, ...]  # a tuple: the sum of those cases, per round
    py: str | tuple[str, ...] | None
    rs: str | tuple[str, ...] | None
    clock: str = "cpu"


def _rows() -> list[Row]:
    rows = [
        Row('default key, f(42, "eu-west-1", 19.99)', "default_key_typed_builder", "key_default", None),
        Row("interop/v1 key, same arguments", "interop_key_typed", "key_interop", "key_interop"),
    ]
    for size in peer_inputs.SIZES:
        kib = f"{size // 1024} KiB"
        enc, dec = f"envelope_encode/{size}", f"envelope_decode/{size}"
        seal, open_ = f"aes_seal/{size}", f"aes_open/{size}"
        rows += [
            Row(f"ByteStorage envelope encode, {kib} msgpack", enc, enc, enc),
            Row(f"ByteStorage envelope decode, {kib}", dec, dec, dec),
            Row(f"envelope encode + decode, {kib}", (enc, dec), (enc, dec), (enc, dec)),
            Row(f"AES-256-GCM seal, {kib}, protocol AAD", f"BM_encrypt/{size}", seal, seal),
            Row(f"AES-256-GCM open, {kib}", f"BM_decrypt/{size}", open_, open_),
            Row(f"AES-256-GCM seal + open, {kib}", (f"BM_encrypt/{size}", f"BM_decrypt/{size}"), (seal, open_),
                (seal, open_)),
            # Not ours: the floor under the rows above, bare OpenSSL EVP (reused context), against
            # the peers' AES-GCM (ring under cachekit-core), to tell the library from our layer.
            Row(f"(not ours: its floor) bare OpenSSL EVP seal + open, {kib}",
                (f"BM_raw_openssl_encrypt/{size}", f"BM_raw_openssl_decrypt/{size}"), (seal, open_), (seal, open_)),
        ]
    rows += [
        Row("memoized L1 hit, default mode, stored bytes decoded per hit",
            "cache_memo_l1_hit_bytes/real_time/threads:1", "memo_l1_hit_bytes", None),
        Row("memoized L1 hit, objects held (C++ intent::local; py backend=None)",
            "cache_memo_l1_hit_objects/real_time/threads:1", "memo_l1_hit_objects", None),
        Row("memoized L1 hit, interop mode", "peers_memo_interop_l1_hit", "memo_l1_hit_interop",
            "memo_l1_hit_interop"),
        Row("memoized L2 hit, Redis on loopback, L1 off, default mode", "cache_memo_l2_hit_redis/real_time",
            "memo_l2_hit_redis", None, clock="real"),
        Row("memoized L2 hit, Redis on loopback, L1 off, interop mode",
            "peers_memo_interop_l2_hit_redis/real_time", "memo_l2_hit_redis_interop", "memo_l2_hit_redis_interop",
            clock="real"),
    ]
    return rows


ROWS = _rows()


def _names(x: str | tuple[str, ...] | None) -> tuple[str, ...]:
    return () if x is None else (x,) if isinstance(x, str) else x


CPP_SUITE_CASES = sorted({n for r in ROWS for n in _names(r.cpp) if not n.startswith("peers_")})


def cpp_filter() -> str:
    """A --benchmark_filter that matches exactly the cachekit_bench cases of ROWS."""
    return "^(" + "|".join(re.escape(n) for n in CPP_SUITE_CASES) + ")$"


# --- building ---------------------------------------------------------------------------------


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def rust_toolchain() -> str | None:
    """None when the Rust side can be built, else why not."""
    if shutil.which("cargo") is None or shutil.which("rustc") is None:
        return ("no cargo/rustc on PATH (rustup's toolchain is needed: Debian 12's rustc 1.63 is older "
                "than the crates' rust-version 1.91)")
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+)\.(\d+)", out)
    if not m or (int(m.group(1)), int(m.group(2))) < RUST_MIN_VERSION:
        return f"{out.strip()} is older than the crates' rust-version 1.91"
    return None


def build(rust_ok: bool) -> None:
    nice = ["nice", "-n", "5"]
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
        run(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
             "-DCACHEKIT_BUILD_FUZZ=OFF", "-DCACHEKIT_BUILD_TESTS=OFF"])
    # cachekit_cli too: the install step installs it.
    run(nice + ["cmake", "--build", BUILD, "-j", "2", "--target", "cachekit_bench", "cachekit_cli"])
    run(["cmake", "--install", BUILD, "--prefix", os.path.join(BUILD, "install")], stdout=subprocess.DEVNULL)
    run(["cmake", "-S", os.path.join(HERE, "cpp"), "-B", CPP_PEERS_BUILD, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={os.path.join(BUILD, 'install')}"],
        stdout=subprocess.DEVNULL)
    run(nice + ["cmake", "--build", CPP_PEERS_BUILD, "-j", "2"])
    if rust_ok:
        locked = ["--locked"] if os.path.exists(os.path.join(RUST_DIR, "Cargo.lock")) else []
        run(nice + ["cargo", "build", "--release", "--quiet", *locked], cwd=RUST_DIR,
            env={**os.environ, "CARGO_TARGET_DIR": RUST_TARGET})


# --- redis-server -----------------------------------------------------------------------------


class RedisServer:
    """redis-server on a free loopback port, with the options of tests/support/local_server."""

    def __init__(self, prefix: list[str]) -> None:
        path = shutil.which("redis-server")
        if path is None:
            raise SystemExit("run_peers: redis-server not found; install it: bash scripts/install-deps.sh")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [*prefix, path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"run_peers: redis-server did not start on 127.0.0.1:{self.port}")
            time.sleep(0.02)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the sides --------------------------------------------------------------------------------


def google_benchmark(cmd: list[str], env: dict | None = None) -> dict[str, float]:
    """{name: ns} of one Google Benchmark run in JSON: cpu_time, or real_time for /real_time rows
    that ROWS reads as wall time."""
    # JSON to a file: the console gets what the servers the suite starts print (redis-server's
    # banner), which would corrupt JSON on stdout.
    with tempfile.NamedTemporaryFile(mode="r", suffix=".json") as f:
        subprocess.run(cmd + [f"--benchmark_out={f.name}", "--benchmark_out_format=json"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        out = f.read()
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    times: dict[str, float] = {}
    real_rows = {n for r in ROWS if r.clock == "real" for n in _names(r.cpp)}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            raise SystemExit(f"run_peers: {b['name']}: {b.get('error_message')}")
        key = "real_time" if b["name"] in real_rows else "cpu_time"
        times[b["name"]] = b[key] * scale[b["time_unit"]]
        if "ratio" in b:
            times[b["name"] + "#ratio"] = b["ratio"]
    return times


def peer_process(cmd: list[str]) -> tuple[str, dict[str, float]]:
    doc = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return doc["peer"], {r["name"]: r["ns"] for r in doc["results"]}


@dataclass
class Side:
    name: str
    run: object  # () -> dict[str, float]
    samples: list[dict[str, float]] = field(default_factory=list)
    version: str = ""


def check_payloads(expected_sizes: dict[int, int], cpp_times: dict[str, float]) -> None:
    """The payload files (bench_inputs.hpp's realistic_payload(N)) must envelope to the size
    cachekit_bench's envelope_encode/N reports for the original."""
    for size, env_size in expected_sizes.items():
        ratio = cpp_times.get(f"envelope_encode/{size}#ratio")
        if ratio is None or round(ratio * size) != env_size:
            raise SystemExit(f"run_peers: the {size}-byte payload copy in bench/peers/cpp/peers_bench.cpp no longer "
                             f"matches bench/bench_inputs.hpp's realistic_payload() (envelope {env_size} bytes, "
                             f"cachekit_bench reports ratio {ratio})")


# --- report -----------------------------------------------------------------------------------


def value(sample: dict[str, float], names: tuple[str, ...]) -> float | None:
    if not names or any(n not in sample for n in names):
        return None
    return sum(sample[n] for n in names)


def fmt_time(ns: float) -> str:
    return f"{ns / 1000:.1f} µs" if ns >= 10_000 else f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def fmt_ratio(ratios: list[float]) -> str:
    if not ratios:
        return "—"
    med = statistics.median(ratios)
    digits = 2 if med >= 0.1 else 3
    if len(ratios) == 1:
        return f"{med:.{digits}f}"
    return f"**{med:.{digits}f}** ({min(ratios):.{digits}f}–{max(ratios):.{digits}f})"


def report(cpp: Side, py: Side, rs: Side | None) -> list[dict]:
    header = ["operation", "C++ (ours)", "cachekit-py", "ours ÷ py", "cachekit-core/-rs", "ours ÷ rs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    records = []
    for row in ROWS:
        cells = [row.label + (" (wall)" if row.clock == "real" else "")]
        ours = [value(s, _names(row.cpp)) for s in cpp.samples]
        ours_med = statistics.median([v for v in ours if v is not None])
        cells.append(fmt_time(ours_med))
        record = {"operation": row.label, "clock": row.clock, "cpp_ns": ours_med}
        for side, names, tag in ((py, _names(row.py), "py"), (rs, _names(row.rs), "rs")):
            if side is None or not names:
                cells += ["—", "—"]
                continue
            theirs = [value(s, names) for s in side.samples]
            per_round = [o / t for o, t in zip(ours, theirs) if o is not None and t]
            theirs_med = statistics.median([t for t in theirs if t is not None])
            cells += [fmt_time(theirs_med), fmt_ratio(per_round)]
            record[f"{tag}_ns"] = theirs_med
            record[f"ours_over_{tag}"] = statistics.median(per_round)
            record[f"ours_over_{tag}_range"] = [min(per_round), max(per_round)]
        lines.append("| " + " | ".join(cells) + " |")
        records.append(record)
    print()
    print("\n".join(lines))
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per case per round (each side)")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--json", help="also write the medians and ratios here")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin every side and the redis-servers to CPU 0 (taskset)")
    args = parser.parse_args()

    rust_missing = rust_toolchain()
    if rust_missing:
        print(f"run_peers: the Rust side is skipped: {rust_missing}", file=sys.stderr)
    if not args.skip_build:
        build(rust_missing is None)

    started = time.monotonic()
    payloads = tempfile.mkdtemp(prefix="cachekit-peers-")
    # Pinned, a Redis round trip does not wait for another vCPU to wake up (the unpinned wall
    # times swing 20 µs ↔ 90 µs with what else the VM runs); one-thread CPU-bound cases do not
    # care. cachekit_bench's own redis-server is its child and inherits the pinning.
    pin = [] if args.no_pin or shutil.which("taskset") is None else ["taskset", "-c", "0"]
    redis = RedisServer(pin)
    try:
        lines = run([CPP_PEERS, "--write-payloads", payloads], capture_output=True, text=True).stdout.split()
        envelope_sizes = {int(lines[i]): int(lines[i + 1]) for i in range(0, len(lines), 2)}
        min_time = str(args.min_time)
        gb = [f"--benchmark_min_time={min_time}", "--benchmark_enable_random_interleaving=true"]
        cpp_env = {**os.environ, "CACHEKIT_PEERS_REDIS_URL": redis.url}

        def run_cpp() -> dict[str, float]:
            times = google_benchmark([*pin, CPP_BENCH, f"--benchmark_filter={cpp_filter()}", *gb])
            times.update(google_benchmark([*pin, CPP_PEERS, *gb], env=cpp_env))
            return times

        peer_args = ["--payloads", payloads, "--redis-url", redis.url, "--min-time", min_time]
        cpp = Side("C++", run_cpp, version="cachekit for C++ (this tree)")
        py = Side("py", lambda: peer_process([*pin, sys.executable, os.path.join(HERE, "py_peer.py"), *peer_args]))
        rs = None if rust_missing else Side("rs", lambda: peer_process([*pin, RUST_BENCH, *peer_args]))
        sides = [s for s in (cpp, py, rs) if s is not None]
        loads = []
        for r in range(args.rounds):
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            before = os.getloadavg()[0]
            for side in order:
                result = side.run()
                if isinstance(result, tuple):
                    side.version, result = result
                side.samples.append(result)
            after = os.getloadavg()[0]
            loads += [before, after]
            if r == 0:
                check_payloads(envelope_sizes, cpp.samples[0])
            print(f"round {r + 1}/{args.rounds}: {' → '.join(s.name for s in order)}, "
                  f"load average (1 min) {before:.2f} → {after:.2f}", file=sys.stderr, flush=True)
    finally:
        redis.stop()
        shutil.rmtree(payloads, ignore_errors=True)

    elapsed = time.monotonic() - started
    print(f"\n{args.rounds} rounds, {elapsed:.0f} s; {', '.join(s.version for s in sides)}; "
          f"load average (1 min) during the run: {min(loads):.2f}–{max(loads):.2f} "
          f"(median {statistics.median(loads):.2f}) on {os.cpu_count()} CPUs; "
          + ("every side and redis-server pinned to CPU 0" if pin else "unpinned"))
    if rust_missing:
        print(f"Rust side skipped: {rust_missing}")
    records = report(cpp, py, rs)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": args.rounds, "loads": loads, "peers": [s.version for s in sides], "rows": records,
                       "samples": {s.name: s.samples for s in sides}}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
