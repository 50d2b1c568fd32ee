"""Live checks of one cache shared by processes: cachekit-py 0.24.1 and the C++ cache on one
redis-server (tenant-scoped layout, as cachekit-py's ``REDIS_URL``), both directions.

    .venv/bin/python tests/live/coherence_interop.py --peer build/tests/cachekit_coherence_peer

What each check proves (a failure prints what was seen):

    registry_cpp_to_py   C++ writes 4 entries; Python's no-argument ``invalidate_cache()`` removes
                         all 4 from Redis (it drains the key registry C++ wrote to). Then again
                         with ``cache_clear()``.
    registry_py_to_cpp   Python writes 3 entries; C++ ``invalidate_all()`` removes all 3; then 2
                         more, which C++ ``clear()`` removes.
    events_py_to_cpp     C++ (events mode) holds a copy in L1; Python's ``invalidate_cache(arg)``
                         deletes the entry and announces it; C++ stops serving the old value.
                         Then the same for Python's whole-function ``invalidate_cache()``.
    events_cpp_to_py     Python (``CACHEKIT_INVALIDATION_LISTENER_ENABLED=true``) holds a copy in
                         L1; C++ ``invalidate(arg)``, then ``invalidate_all()``; Python's function
                         runs again instead of serving its copy.
    tracking             C++ (tracking mode) holds a copy; a plain redis-py ``DEL`` (not a
                         cachekit) drops it.
    ttl_only             C++ in the default mode keeps its copy after Python's invalidation (what
                         that mode promises), so the checks above are not passing by accident.

For the directions with a listener, the time from the invalidation returning to the other side
serving the new value is printed (p50 / max over the rounds). Exit status 0 when all pass.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cache_interop import Peer, start_redis  # noqa: E402

MODULE = "coherence_live"
ROUNDS = 5
BOUND_S = 5.0


def python_function(name: str, ns: str, runs: list, value: dict):
    from cachekit import cache

    def fn(n):
        runs.append(n)
        return value["fresh"]

    fn.__module__ = MODULE
    fn.__qualname__ = name
    fn.__name__ = name
    return cache(namespace=ns, ttl=3600)(fn)


def until(done, bound: float = BOUND_S) -> float | None:
    """Seconds until ``done()`` held, or None after ``bound``."""
    start = time.monotonic()
    while time.monotonic() - start < bound:
        if done():
            return time.monotonic() - start
        time.sleep(0.002)
    return None


class Checks:
    def __init__(self, peer: Peer, url: str, client):
        self.peer, self.url, self.redis = peer, url, client
        self.failures: list[str] = []
        self.windows: dict[str, list[float]] = {}

    def fail(self, what: str) -> None:
        self.failures.append(what)
        print(f"  FAIL {what}")

    def configure(self, mode: str) -> None:
        self.peer.request({"cmd": "configure", "url": self.url, "coherence": mode})
        if mode != "ttl" and until(lambda: self.peer.request({"cmd": "stats"})["subscriptions"] > 0) is None:
            self.fail(f"C++ listener ({mode}) never subscribed")

    def cpp(self, name: str, ns: str, arg: int, fresh: str) -> dict:
        return self.peer.request({"cmd": "call", "function": f"{MODULE}.{name}", "ns": ns, "arg": arg,
                                  "fresh": fresh})

    def entries(self, ns: str, name: str) -> int:
        return len(list(self.redis.scan_iter(match=f"t:default:ns:{ns}:func:{MODULE}.{name}:*")))

    def registry_cpp_to_py(self) -> None:
        self.configure("ttl")
        for how in ("invalidate_cache", "cache_clear"):
            name = f"reg_c2p_{how}"
            for i in range(4):
                self.cpp(name, "coh", i, f"cpp{i}")
            if self.entries("coh", name) != 4:
                self.fail(f"registry_cpp_to_py: C++ wrote {self.entries('coh', name)} entries, not 4")
            runs: list = []
            fn = python_function(name, "coh", runs, {"fresh": "py"})
            fn(0)  # Python's first call settles its backend (and is served from L2)
            getattr(fn, how)()
            left = self.entries("coh", name)
            if left != 0 or runs:
                self.fail(f"registry_cpp_to_py: Python {how}() left {left} of 4 C++ entries (runs {runs})")

    def registry_py_to_cpp(self) -> None:
        self.configure("ttl")
        runs: list = []
        fn = python_function("reg_p2c", "coh", runs, {"fresh": "py"})
        for i in range(3):
            fn(i)
        if self.entries("coh", "reg_p2c") != 3:
            self.fail("registry_py_to_cpp: Python did not write 3 entries")
        answer = self.peer.request({"cmd": "invalidate_all", "function": f"{MODULE}.reg_p2c", "ns": "coh"})
        left = self.entries("coh", "reg_p2c")
        if left != 0 or not answer["ok_l2"]:
            self.fail(f"registry_py_to_cpp: C++ invalidate_all() left {left} of 3 Python entries")
        for i in range(3, 5):
            fn(i)
        self.peer.request({"cmd": "clear", "function": f"{MODULE}.reg_p2c", "ns": "coh"})
        left = self.entries("coh", "reg_p2c")
        if left != 0:
            self.fail(f"registry_py_to_cpp: C++ clear() left {left} of 2 Python entries")

    def events_py_to_cpp(self, mode: str = "events") -> None:
        self.configure(mode)
        value = {"fresh": "py"}
        runs: list = []
        fn = python_function(f"ev_p2c_{mode}", "coh", runs, value)
        for r in range(ROUNDS):
            first = self.cpp(f"ev_p2c_{mode}", "coh", r, f"old{r}")
            again = self.cpp(f"ev_p2c_{mode}", "coh", r, f"new{r}")
            if again["value"] != first["value"] or again["ran"]:
                self.fail(f"events_py_to_cpp: the second C++ call was not served from the cache ({again})")
            fn.invalidate_cache(r)
            took = until(lambda: self.cpp(f"ev_p2c_{mode}", "coh", r, f"new{r}")["value"] == f"new{r}")
            if took is None:
                self.fail(f"events_py_to_cpp ({mode}): C++ still served old{r} {BOUND_S} s after Python's invalidate_cache")
            else:
                self.windows.setdefault(f"py invalidate_cache(arg) -> C++ ({mode})", []).append(took)
        # The whole function: every copy goes.
        for r in range(3):
            self.cpp(f"ev_p2c_{mode}", "coh", 100 + r, "held")
        fn(0)  # Python settles its backend
        fn.invalidate_cache()
        took = until(lambda: all(self.cpp(f"ev_p2c_{mode}", "coh", 100 + r, "after")["value"] == "after"
                                 for r in range(3)))
        if took is None:
            self.fail(f"events_py_to_cpp ({mode}): C++ kept copies after Python's invalidate_cache()")

    def events_cpp_to_py(self) -> None:
        self.configure("events")
        value = {"fresh": "py1"}
        runs: list = []
        fn = python_function("ev_c2p", "coh", runs, value)
        for r in range(ROUNDS):
            value["fresh"] = f"py-old{r}"
            fn(r)
            fn(r)
            if runs.count(r) != 1:
                self.fail("events_cpp_to_py: Python's second call was not served from its cache")
            value["fresh"] = f"py-new{r}"
            self.peer.request({"cmd": "invalidate", "function": f"{MODULE}.ev_c2p", "ns": "coh", "arg": r})
            took = until(lambda: fn(r) == f"py-new{r}")
            if took is None:
                self.fail(f"events_cpp_to_py: Python still served py-old{r} {BOUND_S} s after C++ invalidate")
            else:
                self.windows.setdefault("C++ invalidate(arg) -> py", []).append(took)
        value["fresh"] = "held"
        for r in range(3):
            fn(200 + r)
        value["fresh"] = "after"
        self.peer.request({"cmd": "invalidate_all", "function": f"{MODULE}.ev_c2p", "ns": "coh"})
        if until(lambda: all(fn(200 + r) == "after" for r in range(3))) is None:
            self.fail("events_cpp_to_py: Python kept copies after C++ invalidate_all()")

    def tracking(self) -> None:
        self.configure("tracking")
        for r in range(ROUNDS):
            self.cpp("trk", "coh", r, f"old{r}")
            time.sleep(0.02)  # our own write's invalidation comes back first
            self.cpp("trk", "coh", r, f"old{r}")
            keys = list(self.redis.scan_iter(match=f"t:default:ns:coh:func:{MODULE}.trk:args:*"))
            for key in keys:
                self.redis.delete(key)
            took = until(lambda: self.cpp("trk", "coh", r, f"new{r}")["value"] == f"new{r}")
            if took is None:
                self.fail("tracking: C++ kept its copy after a plain DEL")
            else:
                self.windows.setdefault("redis-py DEL -> C++ (tracking)", []).append(took)

    def ttl_only(self) -> None:
        self.configure("ttl")
        runs: list = []
        fn = python_function("ttl_only", "coh", runs, {"fresh": "py"})
        self.cpp("ttl_only", "coh", 1, "old")
        fn.invalidate_cache(1)
        time.sleep(0.3)
        if self.cpp("ttl_only", "coh", 1, "new")["value"] != "old":
            self.fail("ttl_only: the copy went without a listener; the event checks prove nothing")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True)
    args = parser.parse_args(argv)
    server = start_redis()
    url = f"redis://127.0.0.1:{server.port}/0"
    # cachekit-py reads its settings once: set them before its first decorator runs.
    os.environ["REDIS_URL"] = url
    os.environ["CACHEKIT_INVALIDATION_LISTENER_ENABLED"] = "true"
    import redis
    from cachekit.config.singleton import reset_settings

    reset_settings()  # importing cache_interop loaded them before the variables were set

    peer = Peer(args.peer)
    checks = Checks(peer, url, redis.Redis.from_url(url))
    try:
        for name in ("registry_cpp_to_py", "registry_py_to_cpp", "events_py_to_cpp", "events_cpp_to_py",
                     "tracking", "ttl_only"):
            before = len(checks.failures)
            getattr(checks, name)()
            print(f"coherence {name}: {'ok' if len(checks.failures) == before else 'FAILED'}")
        checks.events_py_to_cpp("tracking")  # tracking hears cachekit-py's events too
        for what, times in checks.windows.items():
            print(f"  staleness window {what}: p50 {statistics.median(times) * 1000:.1f} ms, "
                  f"max {max(times) * 1000:.1f} ms ({len(times)} rounds)")
    finally:
        peer.close()
        server.stop()
    if checks.failures:
        print(f"coherence interop: {len(checks.failures)} failure(s)")
        return 1
    print("coherence interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
