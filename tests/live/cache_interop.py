"""Live interop through the cache: cachekit-py 0.24.1's ``@cache`` and the C++ ``cache.memoize``
share entries on real redis-server, memcached and a shared directory.

    .venv/bin/python tests/live/cache_interop.py --peer build/tests/cachekit_cache_peer
        [--only SCENARIO[,SCENARIO...]] [--list]

For each scenario and each value shape, both directions:

    py->cpp  a Python function decorated with ``@cache`` runs and stores; the C++ memoized function
             of the same name (``module.qualname``; interop: namespace and operation) and the same
             arguments returns exactly that value without running, counted as an L2 hit
             (info: l2_hits 1, misses 0), and a second C++ call is an L1 hit (l1_hits 1).
    cpp->py  the C++ function runs and stores; the Python function returns exactly that value
             without running, and its ``cache_info()`` counts an L2 hit (hits 1, l2_hits 1,
             misses 0); a second Python call is an L1 hit.

Fork: in the secure Redis scenario, the C++ cache is used, then the peer forks 3 children; the
parent and the children store sealed entries at once, and cachekit-py reads every one of them.

Negative scenarios: an entry cachekit-py sealed under another master key (or tenant) is a miss for
the C++ secure cache: its function runs, ``stats().corrupt_entries`` grows by one and the fresh
value is returned.

The two sides compute different values for the same arguments (``model_value(shape, n, side)``),
so a value that arrives from the other side proves the cache served it. redis-server and memcached
are started here on free loopback ports and stopped at exit. A missing server binary, pymemcache
or peer is a failure, never a skip. Exit status: 0 every case passed, 1 otherwise, 2 usage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from uuid import UUID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import python_sdk  # noqa: E402
import redis  # noqa: E402
import xxhash  # noqa: E402
import tagged_json  # noqa: E402
from cachekit import cache  # noqa: E402
from cachekit.backends.file import FileBackend, FileBackendConfig  # noqa: E402
from cachekit.backends.memcached import MemcachedBackend, MemcachedBackendConfig  # noqa: E402
from cachekit.backends.redis import RedisBackend  # noqa: E402
from cachekit.config.singleton import reset_settings  # noqa: E402
from cachekit.decorators.tenant_context import ContextVarExtractor  # noqa: E402

MODULE = "cachekit_live"
PEER_TIMEOUT_S = 20.0
# Fixed random master keys (openssl rand -hex 32; 64 hex characters: 32 bytes). Not a repeated
# byte such as "a1" * 32: the C++ cache refuses a key anyone could guess.
KEY_A = "5cf9905fe95b6033a093c02a288b86c1389300cda4aea69c330676c9d6839a2c"  # the Python writers'
KEY_B = "0e10303a6ad2f762254f02a9656b8405a89ded047113c9a59e8ff070b9eefc57"  # the wrong-key reader
DEPLOYMENT_UUID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
OTHER_UUID = "0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b"


# --- the values each side computes ------------------------------------------------------------


def record_value(shape: str, n: int, side: str) -> dict:
    """What the C++ peer's ``record`` struct holds (compute_record in cache_peer.cpp mirrors it)."""
    return {"computed_by": side, "n": n, "tags": [shape, side], "score": n + (0.5 if side == "python" else 0.25)}


# The doubles and floats of the C++ peer's ``typed_sample`` (awkward_doubles / awkward_floats in
# cache_peer.cpp): values a typed codec is most likely to store as integers or float32.
AWKWARD_DOUBLES = (3.0, -0.0, 2.0**63, 2.0**64, 5e-324, -7.0, 0.0, 1e300, 2.5, 2.2250738585072014e-309)
AWKWARD_FLOATS = (3.0, -0.0, 2.0**63, 0.5, 16777216.0, 1.401298464324817e-45, -2.0, 1e30)


def as_float32(x: float) -> float:
    """``x`` rounded to a C++ ``float`` and widened back, as the peer stores it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def typed_value(shape: str, n: int, side: str) -> dict:
    """What the C++ peer's ``typed_sample`` holds (compute_typed in cache_peer.cpp mirrors it)."""
    every = list(AWKWARD_DOUBLES)
    if shape == "typed_nonfinite":
        every += [math.nan, math.inf, -math.inf]
    return {
        "zeta": side,
        "whole": AWKWARD_DOUBLES[n % len(AWKWARD_DOUBLES)],
        "ratio": as_float32(AWKWARD_FLOATS[(n + 1) % len(AWKWARD_FLOATS)]),
        "all": every,
        "by_name": {"a": -0.0, "b": 2.0},
        "alpha": {"weight": float(n), "maybe": n * 2.0 if n % 2 == 0 else None},
        "count": n,
        "raw": bytes([0, 255, n % 256]),
        "flag": n % 2 == 1,
    }


def float_bits(value: Any) -> Any:
    """``value`` with every float replaced by its IEEE-754 bit pattern (NaN payloads and -0.0 kept)."""
    if isinstance(value, float):
        return ("float", struct.pack(">d", value).hex())
    if isinstance(value, dict):
        return {k: float_bits(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [float_bits(v) for v in value]
    return (type(value).__name__, value)


def model_value(shape: str, n: int, side: str) -> Any:
    """The result of ``shape``'s function for ``n`` when run on ``side`` ("python" or "cpp")."""
    s = 1 if side == "python" else 2
    if shape == "int":
        return n * 1000 + s
    if shape == "uint64":
        return 2**64 - 1 - 10 * n - s
    if shape == "negint":
        return -(2**63) + 10 * n + s
    if shape == "str":
        return f"{side}:{n}:h\u00e9llo \u2713 \U0001f600"
    if shape == "float":
        return n + (0.5 if side == "python" else 0.25)
    if shape == "bool":
        return side == "python"
    if shape == "none":
        return None
    if shape == "bytes":
        return bytes([0, 255, n % 256, s]) + side.encode()
    if shape == "list":
        return [n, side, 1.5, True, None, [s, "x"]]
    if shape == "dict":
        return {
            "computed_by": side,
            "n": n,
            "nested": {"items": [1, 2.5, "three", {"deep": side}], "empty": {}, "none": None},
            "flag": False,
        }
    if shape == "empty":
        return {"computed_by": side, "list": [], "map": {}, "str": "", "bytes": b""}
    if shape == "datetime":
        return datetime(2024, 1, 2, 3, 4, 5, n * 10 + s, tzinfo=timezone(timedelta(hours=s)))
    if shape == "record":
        return record_value(shape, n, side)
    if shape in ("typed", "typed_nonfinite"):
        return typed_value(shape, n, side)
    if shape == "python_types":
        # AutoSerializer's markers (serializer="auto"): Python computes a tuple, a set and a UUID;
        # C++ holds them as arrays and the UUID's text (cpp_view).
        if side == "python":
            return {"t": (n, "x", (1, 2)), "s": {n, n + 1}, "u": UUID(int=n), "side": side}
        return {"t": [n, "x", [1, 2]], "s": [n, n + 1], "u": str(UUID(int=n)), "side": side}
    raise ValueError(f"unknown shape {shape!r}")


def cpp_view(value: Any) -> Any:
    """``value`` as the C++ SDK reads it from an AutoSerializer entry: tuples and sets as lists
    (a set in its iteration order, which AutoSerializer writes), UUIDs as their text."""
    if isinstance(value, (tuple, list)):
        return [cpp_view(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [cpp_view(v) for v in value]
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: cpp_view(v) for k, v in value.items()}
    return value


ALL_SHAPES = ("int", "uint64", "negint", "str", "float", "bool", "none", "bytes", "list", "dict", "empty",
              "datetime", "record", "typed", "typed_nonfinite")
# Interop mode refuses NaN and infinities (cachekit-py raises InteropError; C++ does not store).
INTEROP_SHAPES = tuple(s for s in ALL_SHAPES if s != "typed_nonfinite")
TYPED_SHAPES = ("record", "typed", "typed_nonfinite")
# What JSON (serializer "orjson") carries back as the same value: no bytes, no NaN, and no
# datetime (orjson writes its text, which reads back as a string on both sides).
# The auto serializer also carries Python's tuples, sets and UUIDs (as markers).
AUTO_SHAPES = ALL_SHAPES + ("python_types",)
JSON_SHAPES = ("int", "uint64", "negint", "str", "float", "bool", "none", "list", "dict", "record")


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class LocalServer:
    """A redis-server or memcached child on a free loopback port, as tests/support/local_server does."""

    def __init__(self, program: str, args_for_port: Callable[[int], list[str]]):
        path = shutil.which(program)
        if path is None:
            raise SystemExit(f"cache interop: {program} not found on PATH; install it: bash scripts/install-deps.sh")
        self.port = free_port()
        self.proc = subprocess.Popen([path, *args_for_port(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"cache interop: {program} did not start on 127.0.0.1:{self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_redis() -> LocalServer:
    return LocalServer("redis-server", lambda port: [
        "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"])


def start_memcached() -> LocalServer:
    def args(port: int) -> list[str]:
        a = ["-p", str(port), "-l", "127.0.0.1", "-U", "0", "-m", "64"]
        return a + (["-u", "root"] if os.geteuid() == 0 else [])

    return LocalServer("memcached", args)


# --- the C++ peer -----------------------------------------------------------------------------


class PeerError(RuntimeError):
    pass


class Peer:
    """cachekit_cache_peer as a child process: one JSON line in, one JSON line out."""

    def __init__(self, path: str):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"cache interop: peer {path} not found; build it: cmake --build BUILD_DIR "
                             "--target cachekit_cache_peer")
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     encoding="utf-8", bufsize=1)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def request(self, command: dict) -> dict:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(tagged_json.dumps(command) + "\n")
            self.proc.stdin.flush()
            line = self.lines.get(timeout=PEER_TIMEOUT_S)
        except (BrokenPipeError, queue.Empty) as e:
            raise PeerError(f"peer did not answer {command.get('cmd')!r} ({type(e).__name__}); "
                            f"exit status {self.proc.poll()}") from e
        if line is None:
            raise PeerError(f"peer exited (status {self.proc.wait()}) on {command.get('cmd')!r}")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise PeerError(f"peer refused {command.get('cmd')!r}: {answer.get('error')}")
        return answer

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- scenarios --------------------------------------------------------------------------------


@dataclass
class Env:
    redis_url: str
    memcached_server: str
    file_dir: str


@dataclass
class Scenario:
    """One storage configuration shared by a Python decorator and a C++ cache."""

    name: str
    what: str
    # The decorator to apply, given the interop operation name (frame-mode scenarios ignore it).
    python: Callable[[Env, str], Callable]
    # The peer's configure command (without "cmd").
    cpp: Callable[[Env], dict]
    # Where the backend holds the entry of a key (None: nowhere), read with the backend's own
    # client, so the layout is checked (t:default: prefix, memcached key_prefix, file name), not
    # only that both sides agree.
    stored: Callable[[Env, str], str | None]
    # Extra fields of every peer call, e.g. {"integrity": False}.
    call: dict = field(default_factory=dict)
    # Interop scenarios: the namespace of memoize_interop and @cache(interop=..., namespace=...).
    interop_ns: str | None = None
    shapes: tuple[str, ...] = ALL_SHAPES
    # Negative scenarios: only Python writes, and the C++ read must miss as corrupt.
    expect_corrupt: bool = False
    # The C++ stats counter a negative scenario's miss goes up by.
    miss_counter: str = "corrupt_entries"
    # Negative scenarios whose miss must leave Python's entry in place (another tenant's entry is
    # neither evicted nor overwritten): the raw bytes of the wire key still name this tenant.
    kept_for_tenant: str | None = None
    # The stored bytes of a key, read with the backend's own client, for unencrypted scenarios whose
    # MessagePack is not compressed (interop, integrity off): C++ must store what cachekit-py writes
    # for the same value, byte for byte.
    raw: Callable[[Env, str], bytes | None] | None = None
    # The cachekit-py serializer of the scenario (both sides): its frame payload and header are
    # what `raw` compares, for "default" the MessagePack, for "orjson" the checksum and JSON.
    serializer: str = "default"


def _redis_plain(env: Env) -> RedisBackend:
    return RedisBackend(env.redis_url)


def _memcached(env: Env, key_prefix: str = "") -> MemcachedBackend:
    return MemcachedBackend(MemcachedBackendConfig(servers=[env.memcached_server], key_prefix=key_prefix))


def _file(env: Env) -> FileBackend:
    return FileBackend(FileBackendConfig(cache_dir=env.file_dir))


def redis_entry(prefix: str) -> Callable[[Env, str], str | None]:
    """The wire key ``prefix + key`` when Redis holds it, else None."""

    def find(env: Env, key: str) -> str | None:
        client = redis.Redis.from_url(env.redis_url)
        try:
            return prefix + key if client.exists(prefix + key) else None
        finally:
            client.close()

    return find


def memcached_entry(prefix: str) -> Callable[[Env, str], str | None]:
    def find(env: Env, key: str) -> str | None:
        from pymemcache.client.base import Client

        host, port = env.memcached_server.rsplit(":", 1)
        client = Client((host, int(port)))
        try:
            return prefix + key if client.get(prefix + key) is not None else None
        finally:
            client.close()

    return find


def redis_raw(env: Env, key: str) -> bytes | None:
    client = redis.Redis.from_url(env.redis_url)
    try:
        return client.get(key)
    finally:
        client.close()


def memcached_raw(env: Env, key: str) -> bytes | None:
    from pymemcache.client.base import Client

    host, port = env.memcached_server.rsplit(":", 1)
    client = Client((host, int(port)))
    try:
        return client.get(key)
    finally:
        client.close()


def file_entry(env: Env, key: str) -> str | None:
    """FileBackend's file for ``key``: BLAKE2b-128 of the key, in hex."""
    path = os.path.join(env.file_dir, hashlib.blake2b(key.encode(), digest_size=16).hexdigest())
    return path if os.path.isfile(path) else None


def scenarios() -> list[Scenario]:
    def redis_cpp(layout: str) -> Callable[[Env], dict]:
        return lambda env: {"backend": "redis", "url": env.redis_url, "layout": layout}

    def memcached_cpp(prefix: str = "") -> Callable[[Env], dict]:
        return lambda env: {"backend": "memcached", "servers": [env.memcached_server], "key_prefix": prefix}

    def file_cpp(env: Env) -> dict:
        return {"backend": "file", "dir": env.file_dir}

    def secure(cpp: Callable[[Env], dict], key: str, tenant: str | None) -> Callable[[Env], dict]:
        return lambda env: {**cpp(env), "secure": {"master_key_hex": key, "tenant": tenant or "default"}}

    tenant_scoped, plain = redis_entry("t:default:"), redis_entry("")
    return [
        Scenario("redis_tenant", "bare @cache, REDIS_URL set (keys t:default:...) / redis tenant_scoped",
                 python=lambda env, op: cache(), cpp=redis_cpp("tenant_scoped"), stored=tenant_scoped),
        Scenario("redis_plain", "@cache(backend=RedisBackend(url)) / redis plain",
                 python=lambda env, op: cache(backend=_redis_plain(env)), cpp=redis_cpp("plain"), stored=plain),
        Scenario("memcached", "@cache(backend=MemcachedBackend(servers)) / memcached_backend",
                 python=lambda env, op: cache(backend=_memcached(env)), cpp=memcached_cpp(),
                 stored=memcached_entry("")),
        Scenario("file", "@cache(backend=FileBackend(dir)) / file_backend",
                 python=lambda env, op: cache(backend=_file(env)), cpp=file_cpp, stored=file_entry),
        Scenario("secure_redis_tenant", "@cache.secure(master_key, deployment_uuid), REDIS_URL set / "
                 "intent::secure on redis tenant_scoped",
                 python=lambda env, op: cache.secure(master_key=KEY_A, deployment_uuid=DEPLOYMENT_UUID),
                 cpp=secure(redis_cpp("tenant_scoped"), KEY_A, DEPLOYMENT_UUID), stored=tenant_scoped),
        Scenario("secure_memcached_prefix", "@cache.secure(master_key, backend=MemcachedBackend(key_prefix)), "
                 "tenant 'default' / intent::secure on memcached_backend{.key_prefix}",
                 python=lambda env, op: cache.secure(master_key=KEY_A, backend=_memcached(env, "ckl:")),
                 cpp=secure(memcached_cpp("ckl:"), KEY_A, None), stored=memcached_entry("ckl:")),
        Scenario("secure_file", "@cache.secure(master_key, deployment_uuid, backend=FileBackend) / "
                 "intent::secure on file_backend",
                 python=lambda env, op: cache.secure(master_key=KEY_A, deployment_uuid=DEPLOYMENT_UUID,
                                                   backend=_file(env)),
                 cpp=secure(file_cpp, KEY_A, DEPLOYMENT_UUID), stored=file_entry),
        Scenario("interop_redis", "@cache(interop=op, namespace=ns, backend=RedisBackend) / memoize_interop",
                 python=lambda env, op: cache(interop=op, namespace="liveops", backend=_redis_plain(env)),
                 cpp=redis_cpp("plain"), interop_ns="liveops", stored=plain, shapes=INTEROP_SHAPES,
                 raw=redis_raw),
        Scenario("interop_memcached", "@cache(interop=op, namespace=ns, backend=MemcachedBackend) / memoize_interop",
                 python=lambda env, op: cache(interop=op, namespace="liveops", backend=_memcached(env)),
                 cpp=memcached_cpp(), interop_ns="liveops", stored=memcached_entry(""), shapes=INTEROP_SHAPES,
                 raw=memcached_raw),
        Scenario("interop_file", "@cache(interop=op, namespace=ns, backend=FileBackend) / memoize_interop",
                 python=lambda env, op: cache(interop=op, namespace="liveops", backend=_file(env)),
                 cpp=file_cpp, interop_ns="liveops", stored=file_entry, shapes=INTEROP_SHAPES),
        Scenario("integrity_off_redis", "@cache(integrity_checking=False, backend=RedisBackend) / "
                 "memoize_options{.integrity_checking = false}",
                 python=lambda env, op: cache(integrity_checking=False, backend=_redis_plain(env)),
                 cpp=redis_cpp("plain"), call={"integrity": False}, stored=plain, raw=redis_raw),
        Scenario("integrity_off_memcached", "@cache(integrity_checking=False, backend=MemcachedBackend) / "
                 "memoize_options{.integrity_checking = false}",
                 python=lambda env, op: cache(integrity_checking=False, backend=_memcached(env)),
                 cpp=memcached_cpp(), call={"integrity": False}, stored=memcached_entry(""), raw=memcached_raw),
        Scenario("integrity_off_file", "@cache(integrity_checking=False, backend=FileBackend) / "
                 "cache_options{.integrity_checking = false}",
                 python=lambda env, op: cache(integrity_checking=False, backend=_file(env)),
                 cpp=lambda env: {**file_cpp(env), "integrity": False}, stored=file_entry),
        Scenario("orjson_redis", "@cache(serializer='orjson', backend=RedisBackend) / "
                 "memoize_options{.serializer = serializer_kind::json} (keys :1o, JSON byte for byte)",
                 python=lambda env, op: cache(serializer="orjson", backend=_redis_plain(env)),
                 cpp=redis_cpp("plain"), call={"serializer": "orjson"}, stored=plain, shapes=JSON_SHAPES,
                 raw=redis_raw, serializer="orjson"),
        Scenario("orjson_integrity_off_redis", "@cache(serializer='orjson', integrity_checking=False) / "
                 "json, integrity off (keys :0o, JSON without the checksum)",
                 python=lambda env, op: cache(serializer="orjson", integrity_checking=False,
                                              backend=_redis_plain(env)),
                 cpp=redis_cpp("plain"), call={"serializer": "orjson", "integrity": False}, stored=plain,
                 shapes=JSON_SHAPES, raw=redis_raw, serializer="orjson"),
        Scenario("orjson_memcached", "@cache(serializer='orjson', backend=MemcachedBackend) / json on memcached",
                 python=lambda env, op: cache(serializer="orjson", backend=_memcached(env)),
                 cpp=memcached_cpp(), call={"serializer": "orjson"}, stored=memcached_entry(""),
                 shapes=JSON_SHAPES, raw=memcached_raw, serializer="orjson"),
        Scenario("auto_redis", "@cache(serializer='auto', backend=RedisBackend) / "
                 "memoize_options{.serializer = serializer_kind::auto_detect} (keys :1a)",
                 python=lambda env, op: cache(serializer="auto", backend=_redis_plain(env)),
                 cpp=redis_cpp("plain"), call={"serializer": "auto"}, stored=plain, shapes=AUTO_SHAPES,
                 serializer="auto"),
        Scenario("auto_integrity_off_redis", "@cache(serializer='auto', integrity_checking=False) / "
                 "auto_detect, integrity off (MessagePack byte for byte)",
                 python=lambda env, op: cache(serializer="auto", integrity_checking=False,
                                              backend=_redis_plain(env)),
                 cpp=redis_cpp("plain"), call={"serializer": "auto", "integrity": False}, stored=plain,
                 shapes=AUTO_SHAPES, raw=redis_raw, serializer="auto"),
        Scenario("wrong_master_key", "@cache.secure under key A / intent::secure under key B: the entry is "
                 "corrupt, the C++ function runs",
                 python=lambda env, op: cache.secure(master_key=KEY_A, deployment_uuid=DEPLOYMENT_UUID),
                 cpp=secure(redis_cpp("tenant_scoped"), KEY_B, DEPLOYMENT_UUID), stored=tenant_scoped,
                 shapes=("int", "dict", "record"), expect_corrupt=True),
        Scenario("multi_tenant", "@cache.secure(tenant_extractor=ContextVarExtractor()) with set_tenant_id(U) / "
                 "encryption_options{.multi_tenant = true} called inside tenant_scope(U)",
                 python=lambda env, op: _multi_tenant_secure(DEPLOYMENT_UUID),
                 cpp=lambda env: {**redis_cpp("tenant_scoped")(env),
                                  "secure": {"master_key_hex": KEY_A, "multi_tenant": True}},
                 stored=tenant_scoped, call={"tenant": DEPLOYMENT_UUID}, shapes=("int", "dict", "record")),
        Scenario("multi_tenant_mismatch", "the same, Python under tenant U, C++ under tenant V: the entry is a "
                 "counted miss, the C++ function runs, and U's entry stays (neither evicted nor overwritten)",
                 python=lambda env, op: _multi_tenant_secure(DEPLOYMENT_UUID),
                 cpp=lambda env: {**redis_cpp("tenant_scoped")(env),
                                  "secure": {"master_key_hex": KEY_A, "multi_tenant": True}},
                 stored=tenant_scoped, call={"tenant": OTHER_UUID}, shapes=("int", "dict"),
                 expect_corrupt=True, miss_counter="tenant_mismatches", kept_for_tenant=DEPLOYMENT_UUID),
        Scenario("other_tenant", "@cache.secure for one deployment_uuid / intent::secure for another, same master "
                 "key: each side opens the other's entries with the tenant the frame names (as cachekit-py's "
                 "single-tenant readers do)",
                 python=lambda env, op: cache.secure(master_key=KEY_A, deployment_uuid=DEPLOYMENT_UUID),
                 cpp=secure(redis_cpp("tenant_scoped"), KEY_A, OTHER_UUID), stored=tenant_scoped,
                 shapes=("int", "dict", "record")),
    ]


# --- cases ------------------------------------------------------------------------------------


class CaseFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CaseFailure(message)


def check_value(expected: Any, got_tagged: Any, what: str) -> None:
    diff = tagged_json.first_difference(tagged_json.to_output(expected), got_tagged)
    check(diff is None, f"{what}: {diff}")


def check_counts(info: Any, what: str, **expected: int) -> None:
    got = {k: (info[k] if isinstance(info, dict) else getattr(info, k)) for k in expected}
    check(got == expected, f"{what}: expected {expected}, got {got}")


def check_stored(scenario: Scenario, env: Env, key: str) -> None:
    check(scenario.stored(env, key) is not None, f"the {scenario.name} backend holds no entry for key {key!r} "
          "where this layout puts it")


def check_kept(scenario: Scenario, env: Env, key: str, tenant: str) -> None:
    wire_key = scenario.stored(env, key)
    client = redis.Redis.from_url(env.redis_url)
    try:
        raw = client.get(wire_key) if wire_key is not None else None
    finally:
        client.close()
    check(raw is not None and tenant.encode() in raw,
          f"the entry under {wire_key!r} no longer names tenant {tenant}: another tenant's miss evicted or "
          "overwrote it")


@dataclass
class PythonFunction:
    decorated: Callable
    runs: list = field(default_factory=list)


def _multi_tenant_secure(tenant: str) -> Callable:
    # The tenant lives in a ContextVar set by request middleware in a real service; here the
    # cases run in the main thread's context, so setting it before decorating covers their calls.
    ContextVarExtractor.set_tenant_id(tenant)
    return cache.secure(master_key=KEY_A, tenant_extractor=ContextVarExtractor())


def python_function(scenario: Scenario, env: Env, qualname: str, op: str) -> PythonFunction:
    runs: list = []

    def fn(shape, n):
        runs.append((shape, n))
        return model_value(shape, n, "python")

    fn.__module__ = MODULE
    fn.__qualname__ = qualname
    fn.__name__ = qualname.rsplit(".", 1)[-1]
    return PythonFunction(scenario.python(env, op)(fn), runs)


def peer_call(peer: Peer, scenario: Scenario, qualname: str, op: str, shape: str, n: int) -> dict:
    command: dict = {"cmd": "call", "args": [shape, n], **scenario.call}
    if scenario.interop_ns is not None:
        command["interop"] = {"ns": scenario.interop_ns, "op": op}
    else:
        command["function"] = f"{MODULE}.{qualname}"
    if shape in TYPED_SHAPES:
        command["type"] = "typed" if shape.startswith("typed") else "record"
    else:
        command["type"] = "value"
        command["fresh"] = tagged_json.to_input(model_value(shape, n, "cpp"))
    return peer.request(command)


def case_py_to_cpp(peer: Peer, scenario: Scenario, env: Env, shape: str, n: int) -> None:
    qualname = f"{scenario.name}.py_to_cpp.{shape}"
    op = f"{scenario.name}.py-to-cpp.{shape}".replace("_", "-")
    py = python_function(scenario, env, qualname, op)
    written = py.decorated(shape, n)
    check(len(py.runs) == 1, f"Python function ran {len(py.runs)} times on its first call")
    check_value(model_value(shape, n, "python"), tagged_json.to_output(written), "Python's own result")
    check_counts(py.decorated.cache_info(), "Python cache_info after the write", misses=1, hits=0)

    first = peer_call(peer, scenario, qualname, op, shape, n)
    check_stored(scenario, env, first["key"])
    if scenario.expect_corrupt:
        check(first["ran"], f"C++ function did not run; served {tagged_json.dumps(first['value'])[:200]}")
        check_value(model_value(shape, n, "cpp"), first["value"], "C++ fresh value")
        check_counts(first["info"], "C++ info", misses=1, l2_hits=0, l1_hits=0)
        if scenario.kept_for_tenant is not None:
            check_kept(scenario, env, first["key"], scenario.kept_for_tenant)
        return
    check(not first["ran"], f"C++ function ran: the entry under {first['key']!r} was not served")
    check_value(cpp_view(written), first["value"], "C++ first call")
    check_counts(first["info"], "C++ info after the first call", hits=1, l2_hits=1, l1_hits=0, misses=0)

    second = peer_call(peer, scenario, qualname, op, shape, n)
    check(not second["ran"], "C++ function ran on the second call")
    check_value(cpp_view(written), second["value"], "C++ second call")
    check_counts(second["info"], "C++ info after the second call", hits=2, l2_hits=1, l1_hits=1, misses=0)


def case_cpp_to_py(peer: Peer, scenario: Scenario, env: Env, shape: str, n: int) -> None:
    qualname = f"{scenario.name}.cpp_to_py.{shape}"
    op = f"{scenario.name}.cpp-to-py.{shape}".replace("_", "-")
    first = peer_call(peer, scenario, qualname, op, shape, n)
    check(first["ran"], "C++ function did not run on its first call")
    expected = model_value(shape, n, "cpp")
    check_value(expected, first["value"], "C++'s own result")
    check_counts(first["info"], "C++ info after the write", misses=1, hits=0)
    check_stored(scenario, env, first["key"])

    if scenario.raw is not None:
        # Byte for byte: the MessagePack C++ stored is what cachekit-py writes for the same value.
        stored = scenario.raw(env, first["key"]) or b""
        if scenario.interop_ns is not None:
            got_bytes, want = stored, python_sdk.interop_encode(expected, cache_key=first["key"])
        else:
            header_bytes, got_bytes = python_sdk.split_frame(stored)
            integrity = scenario.call.get("integrity", True)
            if scenario.serializer == "default":
                want = python_sdk.standard_payload(expected, integrity=False)
            else:
                want_header, want = python_sdk.split_frame(
                    python_sdk.serializer_frame(scenario.serializer, expected, integrity=integrity))
                got_header = {k: v for k, v in json.loads(header_bytes).items() if k != "k"}
                check(got_header == json.loads(want_header), f"C++ frame header {header_bytes.decode()!r}; "
                      f"cachekit-py writes {want_header.decode()!r}")
            # The key binding C++ adds to plaintext frames (cachekit-py reads past it, below):
            # xxHash3-64 of the key as stored.
            binding = json.loads(header_bytes).get("k")
            want_binding = xxhash.xxh3_64_hexdigest(first["key"].encode())
            check(binding == want_binding, f"C++ frame header {header_bytes.decode()!r} under "
                  f"{first['key']!r} has key binding {binding!r}, expected {want_binding!r}")
        check(got_bytes == want, f"C++ stored MessagePack {got_bytes.hex()} under {first['key']!r}; "
              f"cachekit-py writes {want.hex()} for the same value")
    py = python_function(scenario, env, qualname, op)
    got = py.decorated(shape, n)
    check(not py.runs, f"Python function ran: the entry under {first['key']!r} was not served")
    check_value(expected, tagged_json.to_output(got), "Python first call")
    check(float_bits(got) == float_bits(expected),
          f"Python read {float_bits(got)!r}, expected exactly {float_bits(expected)!r} (types and float bits)")
    check_counts(py.decorated.cache_info(), "Python cache_info after the first call", hits=1, l2_hits=1, l1_hits=0,
                 misses=0)
    again = py.decorated(shape, n)
    check(not py.runs, "Python function ran on the second call")
    check_value(expected, tagged_json.to_output(again), "Python second call")
    check_counts(py.decorated.cache_info(), "Python cache_info after the second call", hits=2, l2_hits=1, l1_hits=1,
                 misses=0)


FORK_CHILDREN = 3
FORK_CALLS = 8


def case_forked_cpp_to_py(peer: Peer, scenario: Scenario, env: Env) -> None:
    """The C++ cache is used, then the peer forks: parent and children write sealed entries at
    once, and cachekit-py reads every one of them (a nonce or a socket shared across the fork
    shows up as an entry that fails to open, or a wrong value)."""
    qualname = f"{scenario.name}.forked_cpp_to_py.str"
    warm = peer_call(peer, scenario, qualname, "", "str", 0)
    check(warm["ran"], "C++ function did not run before the fork")
    per_process = []
    for p in range(1 + FORK_CHILDREN):
        calls = []
        for i in range(FORK_CALLS):
            command: dict = {"cmd": "call", "args": ["str", 1 + p * 100 + i], **scenario.call,
                             "function": f"{MODULE}.{qualname}", "type": "value"}
            command["fresh"] = tagged_json.to_input(model_value("str", 1 + p * 100 + i, "cpp"))
            calls.append(command)
        per_process.append(calls)
    answers = peer.request({"cmd": "fork_calls", "per_process": per_process})["answers"]
    check(len(answers) == 1 + FORK_CHILDREN, f"{len(answers)} processes answered, expected {1 + FORK_CHILDREN}")
    py = python_function(scenario, env, qualname, "")
    for p, process_answers in enumerate(answers):
        for i, answer in enumerate(process_answers):
            n = 1 + p * 100 + i
            check(answer.get("ok") and answer["ran"], f"process {p} call {i}: C++ did not run and store: {answer}")
            check(answer["stats"]["l2_errors"] == 0, f"process {p}: C++ counted L2 errors: {answer['stats']}")
            check_stored(scenario, env, answer["key"])
            got = py.decorated("str", n)
            check(not py.runs, f"Python function ran: the entry of process {p} under {answer['key']!r} was not served")
            check_value(model_value("str", n, "cpp"), tagged_json.to_output(got), f"Python read of process {p}")


@dataclass
class Outcome:
    passed: int = 0
    failed: int = 0
    per_scenario: dict = field(default_factory=dict)


def record(outcome: Outcome, counts: list, label: str, run: Callable[[], None], verbose: bool) -> None:
    """Runs one case and counts it: a CaseFailure or a cachekit-py exception fails the case, not the run."""
    failure = None
    try:
        run()
    except CaseFailure as e:
        failure = str(e)
    except PeerError:
        raise
    except Exception as e:  # noqa: BLE001
        failure = f"{type(e).__name__}: {e}\n{traceback.format_exc()[-2000:]}"
    counts[0 if failure is None else 1] += 1
    if failure is None:
        outcome.passed += 1
        if verbose:
            print(f"ok   {label}")
    else:
        outcome.failed += 1
        print(f"FAIL {label}: {failure}")


def run_scenario(peer: Peer, scenario: Scenario, env: Env, outcome: Outcome, verbose: bool) -> None:
    peer.request({"cmd": "configure", **scenario.cpp(env)})
    directions = [("py->cpp", case_py_to_cpp)]
    if not scenario.expect_corrupt:
        directions.append(("cpp->py", case_cpp_to_py))
    counts = outcome.per_scenario.setdefault(scenario.name, [0, 0])
    for n, shape in enumerate(scenario.shapes, start=1):
        for label, case in directions:
            corrupt_before = peer.request({"cmd": "stats"})["stats"][scenario.miss_counter]

            def run_case() -> None:
                case(peer, scenario, env, shape, n)
                corrupt_after = peer.request({"cmd": "stats"})["stats"][scenario.miss_counter]
                want = corrupt_before + (1 if scenario.expect_corrupt else 0)
                check(corrupt_after == want, f"C++ stats().{scenario.miss_counter} went {corrupt_before} -> "
                      f"{corrupt_after}, expected {want}")

            record(outcome, counts, f"{scenario.name:<24} {label:<8} {shape}", run_case, verbose)


def run_fork_case(peer: Peer, scenario: Scenario, env: Env, outcome: Outcome, verbose: bool) -> None:
    peer.request({"cmd": "configure", **scenario.cpp(env)})
    counts = outcome.per_scenario.setdefault(f"{scenario.name}+fork", [0, 0])
    record(outcome, counts, f"{scenario.name:<24} forked cpp->py",
           lambda: case_forked_cpp_to_py(peer, scenario, env), verbose)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", help="path of the cachekit_cache_peer binary")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("-q", "--quiet", action="store_true", help="print failures and the summary only")
    args = parser.parse_args(argv)

    chosen = scenarios()
    if args.list:
        for s in chosen:
            print(f"{s.name:<24} {len(s.shapes) * (1 if s.expect_corrupt else 2):>3} cases  {s.what}")
        return 0
    if not args.peer:
        parser.error("--peer is required")
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {s.name for s in chosen}
        if unknown:
            parser.error(f"unknown scenario(s) {sorted(unknown)}; see --list")
        chosen = [s for s in chosen if s.name in names]

    python_sdk.check_version()
    try:
        import pymemcache  # noqa: F401
    except ImportError:
        print("cache interop: pymemcache is missing, which cachekit-py's MemcachedBackend needs; the venv must "
              "install cachekit[memcached] (tests/live/requirements.txt), then: bash scripts/python-venv.sh",
              file=sys.stderr)
        return 1
    python_sdk.isolate_environment()

    started = time.monotonic()
    servers: list[LocalServer] = []
    peer = None
    outcome = Outcome()
    with tempfile.TemporaryDirectory(prefix="cachekit-interop-") as file_dir:
        try:
            redis_server = start_redis()
            servers.append(redis_server)
            memcached_server = start_memcached()
            servers.append(memcached_server)
            env = Env(f"redis://127.0.0.1:{redis_server.port}/0", f"127.0.0.1:{memcached_server.port}", file_dir)
            # Bare @cache and @cache.secure resolve their backend from REDIS_URL (tenant-scoped Redis).
            os.environ["REDIS_URL"] = env.redis_url
            reset_settings()
            peer = Peer(args.peer)
            for scenario in chosen:
                run_scenario(peer, scenario, env, outcome, verbose=not args.quiet)
            for scenario in chosen:
                if scenario.name == "secure_redis_tenant":
                    run_fork_case(peer, scenario, env, outcome, verbose=not args.quiet)
        except PeerError as e:
            print(f"FAIL the C++ peer: {e}")
            outcome.failed += 1
        finally:
            if peer is not None:
                peer.close()
            for server in reversed(servers):
                server.stop()

    elapsed = time.monotonic() - started
    total = outcome.passed + outcome.failed
    per = ", ".join(f"{name} {ok}/{ok + bad}" for name, (ok, bad) in outcome.per_scenario.items())
    print(f"cache interop: {outcome.passed}/{total} cases passed in {elapsed:.1f} s "
          f"(cachekit-py {python_sdk.PINNED_VERSION}; {per})")
    return 0 if outcome.failed == 0 and total > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
