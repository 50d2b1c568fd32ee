"""cachekit-py's side of bench/peers/run_peers.py: the operations of the C++ suites, timed in-process.

    .venv/bin/python bench/peers/py_peer.py --payloads DIR --redis-url URL [--min-time S] [--only REGEX]

Prints one JSON object: {"peer": "cachekit-py X.Y.Z", "results": [{"name", "ns", "clock", "iterations"}]}.
Each case is timed once (the driver repeats the process and takes medians): the iteration count is
grown until one batch lasts at least --min-time, then that batch is the measurement. "clock" is
"cpu" (this thread's CPU time, as Google Benchmark's cpu_time) or "real" (wall time, for the
L2 cases, where the time is spent waiting for redis-server). The loop around each call (an index
into a prebuilt argument list) is part of the measured time, as the C++ suites' loops are.

Every case uses cachekit-py's own entry points, the ones its ``@cache`` uses:
  key_default     CacheOperationHandler.get_cache_key (what the decorator calls per call)
  key_interop     cachekit.interop.generate_interop_key
  envelope_*      cachekit._rust_serializer.ByteStorage.store / retrieve
  aes_*           cachekit._rust_serializer.ZeroKnowledgeEncryptor.encrypt_with_keys / decrypt_with_keys
  memo_*          functions decorated with @cache, served by L1 or by Redis (L1 off)
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import logging
import os
import re
import sys
import time
from typing import Callable

for _name in [n for n in os.environ if n.upper().startswith("CACHEKIT_") or n in ("REDIS_URL",)]:
    del os.environ[_name]  # the host's configuration must not change what is measured

from cachekit import cache, interop  # noqa: E402
from cachekit._rust_serializer import ByteStorage, ZeroKnowledgeEncryptor, derive_tenant_keys  # noqa: E402
from cachekit.backends.redis import RedisBackend  # noqa: E402
from cachekit.cache_handler import CacheOperationHandler, CacheSerializationHandler  # noqa: E402
from cachekit.key_generator import CacheKeyGenerator  # noqa: E402

import peer_inputs  # noqa: E402  (bench/peers/peer_inputs.py: the inputs every side shares)

logging.getLogger("cachekit").setLevel(logging.CRITICAL)


def time_case(body: Callable[[int], None], clock: str, min_time: float) -> tuple[float, int]:
    """ns per iteration of ``body(n)`` (which runs n iterations), and n, for one batch >= min_time."""
    now = time.thread_time_ns if clock == "cpu" else time.perf_counter_ns
    n = 1
    while True:
        gc.collect()
        start = now()
        body(n)
        elapsed = now() - start
        if elapsed >= min_time * 1e9 or n >= 1 << 30:
            return elapsed / n, n
        # Aim 40% past the goal, as Google Benchmark does, growing at most 10x per step.
        n = max(n + 1, min(n * 10, int(n * min_time * 1e9 * 1.4 / max(elapsed, 1))))


def scattered(call: Callable[[int, str], object]) -> Callable[[int], None]:
    """n calls over the 1,024 (id, region) pairs in the C++ suite's scattered order."""
    args = peer_inputs.memo_arguments()
    mask = len(args) - 1

    def body(n: int) -> None:
        i = 0
        for _ in range(n):
            i += peer_inputs.MEMO_STRIDE
            a = args[i & mask]
            call(a[0], a[1])

    return body


def repeated(call: Callable[[], object]) -> Callable[[int], None]:
    def body(n: int) -> None:
        for _ in range(n):
            call()

    return body


def lookup_result(id_: int, region: str) -> dict:
    """What the C++ suite's ``lookup`` returns (struct product, MSGPACK_DEFINE_MAP(id, name, price))."""
    return {"id": id_, "name": "item-" + region, "price": 1.5 * id_}


def named(fn: Callable, module: str, qualname: str) -> Callable:
    fn.__module__, fn.__qualname__, fn.__name__ = module, qualname, qualname.rpartition(".")[2]
    return fn


def memo_function(decorator: Callable) -> tuple[Callable, list]:
    runs: list = []

    def lookup(id_: int, region: str) -> dict:
        runs.append(id_)
        return lookup_result(id_, region)

    return decorator(named(lookup, *peer_inputs.MEMO_FUNCTION.split(".", 1))), runs


def warmed(fn: Callable, runs: list, what: str) -> Callable:
    """``fn`` after every key was stored and read back once; any later run is a failure."""
    for id_, region in peer_inputs.memo_arguments():
        fn(id_, region)
    before, l1_hits = len(runs), fn.cache_info().l1_hits
    for id_, region in peer_inputs.memo_arguments():
        if fn(id_, region) != lookup_result(id_, region):
            raise SystemExit(f"py_peer: {what} returned a wrong value")
    if len(runs) != before or fn.cache_info().l1_hits - l1_hits != peer_inputs.MEMO_KEYS:
        raise SystemExit(f"py_peer: {what}: not every read was an L1 hit ({fn.cache_info()})")
    return fn


def cases(payload_dir: str, redis_url: str) -> list[tuple[str, str, Callable[[], Callable[[int], None]]]]:
    """(name, clock, setup) for every case; setup returns the timed body (built lazily, so --only
    skips the setup of what it skips)."""

    def key_default() -> Callable[[int], None]:
        handler = CacheOperationHandler(CacheSerializationHandler("default", encryption=False), CacheKeyGenerator())
        fn = named(lambda: None, *peer_inputs.KEY_FUNCTION.split(".", 1))
        args = peer_inputs.KEY_ARGS
        ns = peer_inputs.KEY_NAMESPACE
        return repeated(lambda: handler.get_cache_key(fn, args, {}, ns, True))

    def key_interop() -> Callable[[int], None]:
        args = list(peer_inputs.KEY_ARGS)
        return repeated(lambda: interop.generate_interop_key(peer_inputs.INTEROP_NS, peer_inputs.INTEROP_OP, args))

    def envelope(size: int, decode: bool) -> Callable[[], Callable[[int], None]]:
        def setup() -> Callable[[int], None]:
            storage = ByteStorage("msgpack")
            data = peer_inputs.read_payload(payload_dir, size)
            if not decode:
                return repeated(lambda: storage.store(data, "msgpack"))
            env = bytes(storage.store(data, "msgpack"))
            if bytes(storage.retrieve(env)[0]) != data:
                raise SystemExit("py_peer: envelope round trip changed the payload")
            return repeated(lambda: storage.retrieve(env))

        return setup

    def aes(size: int, decrypt: bool) -> Callable[[], Callable[[int], None]]:
        def setup() -> Callable[[int], None]:
            encryptor = ZeroKnowledgeEncryptor()
            keys = derive_tenant_keys(peer_inputs.AES_KEY, peer_inputs.AES_TENANT)
            plaintext = peer_inputs.aes_plaintext(size)
            aad = peer_inputs.aes_aad()
            if not decrypt:
                return repeated(lambda: encryptor.encrypt_with_keys(plaintext, aad, keys))
            sealed = bytes(encryptor.encrypt_with_keys(plaintext, aad, keys))
            if bytes(encryptor.decrypt_with_keys(sealed, aad, keys)) != plaintext:
                raise SystemExit("py_peer: AES-GCM round trip changed the payload")
            return repeated(lambda: encryptor.decrypt_with_keys(sealed, aad, keys))

        return setup

    def memo(what: str, **options: object) -> Callable[[], Callable[[int], None]]:
        def setup() -> Callable[[int], None]:
            opts = {k: (RedisBackend(redis_url) if v == "redis" else v) for k, v in options.items()}
            fn, runs = memo_function(cache(ttl=600, **opts))
            return scattered(warmed(fn, runs, what))

        return setup

    def memo_l2(what: str, **options: object) -> Callable[[], Callable[[int], None]]:
        """One key read again and again, as the C++ L2 case does (42, "eu-west-1")."""

        def setup() -> Callable[[int], None]:
            fn, runs = memo_function(cache(ttl=600, backend=RedisBackend(redis_url), l1_enabled=False, **options))
            fn(42, "eu-west-1")
            before, l2_hits = len(runs), fn.cache_info().l2_hits
            fn(42, "eu-west-1")
            if len(runs) != before or fn.cache_info().l2_hits != l2_hits + 1:
                raise SystemExit(f"py_peer: {what}: the second call was not an L2 hit")
            return repeated(lambda: fn(42, "eu-west-1"))

        return setup

    interop_opts = {"interop": peer_inputs.MEMO_INTEROP_OP, "namespace": peer_inputs.MEMO_INTEROP_NS}
    out: list[tuple[str, str, Callable[[], Callable[[int], None]]]] = [
        ("key_default", "cpu", key_default),
        ("key_interop", "cpu", key_interop),
    ]
    for size in peer_inputs.SIZES:
        out += [
            (f"envelope_encode/{size}", "cpu", envelope(size, False)),
            (f"envelope_decode/{size}", "cpu", envelope(size, True)),
            (f"aes_seal/{size}", "cpu", aes(size, False)),
            (f"aes_open/{size}", "cpu", aes(size, True)),
        ]
    out += [
        # backend=None is L1-only: cachekit-py then holds the returned objects (ObjectCache).
        ("memo_l1_hit_objects", "cpu", memo("L1 object hit", backend=None)),
        # With a backend, L1 holds the stored bytes and every hit opens and decodes them.
        ("memo_l1_hit_bytes", "cpu", memo("L1 bytes hit", backend="redis")),
        ("memo_l1_hit_interop", "cpu", memo("L1 interop hit", backend="redis", **interop_opts)),
        ("memo_l2_hit_redis", "real", memo_l2("L2 hit")),
        ("memo_l2_hit_redis_interop", "real", memo_l2("L2 interop hit", **interop_opts)),
    ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payloads", required=True, help="directory with the C++ suite's payloads")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--only", default="", help="regex: run only the cases it matches")
    args = parser.parse_args()
    results = []
    for name, clock, setup in cases(args.payloads, args.redis_url):
        if args.only and not re.search(args.only, name):
            continue
        ns, n = time_case(setup(), clock, args.min_time)
        results.append({"name": name, "ns": ns, "clock": clock, "iterations": n})
    json.dump({"peer": f"cachekit-py {importlib.metadata.version('cachekit')}", "results": results}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
