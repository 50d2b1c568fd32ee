"""The inputs every side of bench/peers/ works on, as the C++ suites define them.

Each constant names the C++ source it mirrors; bench/peers/rust/src/main.rs repeats them (its
comments point here). The envelope payloads are not rebuilt here: the C++ peer binary writes the
exact bytes of bench/bench_inputs.hpp's ``realistic_payload(N)`` (``cachekit_peers_bench
--write-payloads DIR``) and every side reads those files.
"""

from __future__ import annotations

import os

SIZES = (1024, 16384, 65536)  # envelope and AES-GCM payload sizes compared

# bench/keys_bench.cpp: f(42, "eu-west-1", 19.99) of "shop.pricing.quote" in namespace "pricing";
# interop: interop_key_for("pricing", "quote", 42, "eu-west-1", 19.99).
KEY_FUNCTION = "shop.pricing.quote"
KEY_NAMESPACE = "pricing"
KEY_ARGS = (42, "eu-west-1", 19.99)
INTEROP_NS, INTEROP_OP = "pricing", "quote"

# bench/encryption_bench.cpp: bench_key() (32 x 0x42), bench_aad(), payload(N).
AES_KEY = bytes([0x42] * 32)
AES_TENANT = "cross-sdk-test"
AES_CACHE_KEY = "users:get_user:61598716255080080f6456eb065c2e51badfaa4320b0efe97469c29cffee8875"


def aes_aad() -> bytes:
    """encode_aad({.tenant_id, .cache_key}): v0x03, format "msgpack", compressed "False"."""
    parts = [AES_TENANT.encode(), AES_CACHE_KEY.encode(), b"msgpack", b"False"]
    return b"\x03" + b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def aes_plaintext(size: int) -> bytes:
    return bytes((i * 131 + 7) & 0xFF for i in range(size))


# bench/cache_bench.cpp: lookup(id, region) memoized as "bench.catalog.lookup", 1,024 keys
# (100000 + 7 i, regions[i % 4]) read with a stride of 389; the L2 case reads (42, "eu-west-1").
MEMO_FUNCTION = "bench.catalog.lookup"
MEMO_INTEROP_NS, MEMO_INTEROP_OP = "catalog", "lookup"  # bench/peers/cpp/peers_bench.cpp
MEMO_KEYS = 1024
MEMO_STRIDE = 389
REGIONS = ("eu-west-1", "us-east-1", "ap-south-1", "sa-east-1")


def memo_arguments() -> list[tuple[int, str]]:
    return [(100_000 + i * 7, REGIONS[i % len(REGIONS)]) for i in range(MEMO_KEYS)]


def payload_path(directory: str, size: int) -> str:
    return os.path.join(directory, f"realistic_{size}.bin")


def read_payload(directory: str, size: int) -> bytes:
    with open(payload_path(directory, size), "rb") as f:
        data = f.read()
    if len(data) != size:
        raise SystemExit(f"{payload_path(directory, size)}: {len(data)} bytes, expected {size}")
    return data
