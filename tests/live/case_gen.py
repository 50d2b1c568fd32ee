"""Random test values for the live cross-checks, reproducible from a seed.

Every generator draws from a ``random.Random`` the caller seeds, so a failing case is rebuilt
exactly from ``(seed, check name, case index)`` (see ``case_rng``). A ``profile`` says which Python
types may appear, because each encoding accepts a different set:

    DEFAULT_KEY_ARG   @cache key arguments: no sets/date/time/naive datetimes; NaN/inf allowed
    INTEROP_ARG       interop key arguments: sets and UUIDs, no NaN/inf
    STORED_PY         values cachekit-py writes (StandardSerializer): naive datetimes, date, time
    STORED_CLI        values given to `cachekit encode` (aware datetimes only, no date/time tags)
    INTEROP_VALUE_PY / INTEROP_VALUE_CLI   the same for interop values (no NaN/inf)

Sizes straddle every MessagePack width boundary: fixstr/str8/str16(/str32), bin8/bin16(/bin32),
fixarray/array16, fixmap/map16, all int widths and both signs.
"""

from __future__ import annotations

import hashlib
import random
import string
import struct
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from uuid import UUID


@dataclass(frozen=True)
class Profile:
    name: str
    nonfinite: bool = False  # NaN / +-inf floats
    sets: bool = False
    uuids: bool = False
    aware_datetimes: bool = True
    naive_datetimes: bool = False
    dates_and_times: bool = False
    # Upper bound on one string/bytes length; values passed on a command line stay well under
    # Linux's 128 KiB single-argument limit, stdin-only values may go past the 16-bit widths.
    max_blob: int = 20_000
    max_depth: int = 4


DEFAULT_KEY_ARG = Profile("default_key_arg", nonfinite=True, uuids=True)
INTEROP_ARG = Profile("interop_arg", sets=True, uuids=True)
STORED_PY = Profile("stored_py", nonfinite=True, naive_datetimes=True, dates_and_times=True, max_blob=70_000)
STORED_CLI = Profile("stored_cli", nonfinite=True)
INTEROP_VALUE_PY = Profile("interop_value_py", naive_datetimes=True, dates_and_times=True, max_blob=70_000)
INTEROP_VALUE_CLI = Profile("interop_value_cli")

# Dict keys the generator never emits: they would be read back as temporal sentinels, or as tags.
_RESERVED_KEYS = {"__datetime__", "__date__", "__time__", "value"}


def case_rng(seed: int, check: str, index: int) -> random.Random:
    """The RNG of one case: independent of every other case, so any case can be rerun alone."""
    digest = hashlib.sha256(f"{seed}:{check}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


# --- integers -------------------------------------------------------------------------------

INT_EDGES = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**53, 2**53 + 1,
    2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1,
    -1, -31, -32, -33, -127, -128, -129, -32767, -32768, -32769,
    -(2**31) + 1, -(2**31), -(2**31) - 1, -(2**53) - 1, -(2**63) + 1, -(2**63),
]


def gen_int(rng: random.Random) -> int:
    bucket = rng.randrange(12)
    if bucket == 0:
        return rng.choice(INT_EDGES)
    if bucket == 1:
        return rng.randrange(0, 128)  # positive fixint
    if bucket == 2:
        return rng.randrange(-32, 0)  # negative fixint
    if bucket == 3:
        return rng.randrange(128, 256)  # uint8
    if bucket == 4:
        return rng.randrange(256, 65536)  # uint16
    if bucket == 5:
        return rng.randrange(65536, 2**32)  # uint32
    if bucket == 6:
        return rng.randrange(2**32, 2**64)  # uint64 (incl. above int64)
    if bucket == 7:
        return rng.randrange(-128, -32)  # int8
    if bucket == 8:
        return rng.randrange(-32768, -128)  # int16
    if bucket == 9:
        return rng.randrange(-(2**31), -32768)  # int32
    if bucket == 10:
        return rng.randrange(-(2**63), -(2**31))  # int64
    # Near the 64-bit limits: int64 max/min, the signed/unsigned seam, uint64 max.
    return rng.choice([2**63 - 1 - rng.randrange(8), 2**63 + rng.randrange(8),
                       2**64 - 1 - rng.randrange(8), -(2**63) + rng.randrange(8)])


# --- floats ---------------------------------------------------------------------------------

FLOAT_EDGES = [
    0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 0.1, -0.1, 1.5, 3.141592653589793, 1 / 3, 0.30000000000000004,
    100.0, 1e15, 1e16, 1e17, 1e-4, 1e-5, 1e-7, 1e21, 1e22, 1e23, 1e100, -1e100, 123456789012345678.0,
    5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
    -1.7976931348623157e308, 2.0**52, 2.0**53, 2.0**53 + 2, 2.0**63, -(2.0**63), 2.0**64, -(2.0**64),
    2.0**64 - 2048, -(2.0**63) - 2048, 9007199254740993.0, 4.35, 0.000001, 1e-6, 12345.678,
]


def gen_float(rng: random.Random, nonfinite: bool) -> float:
    bucket = rng.randrange(8)
    if bucket == 0 and nonfinite:
        return rng.choice([float("nan"), float("inf"), float("-inf")])
    if bucket <= 2:
        return rng.choice(FLOAT_EDGES)
    if bucket == 3:  # any finite bit pattern
        while True:
            x = struct.unpack(">d", rng.getrandbits(64).to_bytes(8, "big"))[0]
            if x == x and x not in (float("inf"), float("-inf")):
                return x
    if bucket == 4:  # integral floats, which interop keys collapse to ints
        return float(rng.choice([rng.randrange(-1000, 1000), rng.randrange(-(2**62), 2**62)]))
    if bucket == 5:
        return round(rng.uniform(-1000, 1000), rng.randrange(0, 8))
    if bucket == 6:
        return rng.uniform(-1, 1) * 10.0 ** rng.randrange(-320, 309)
    return rng.random()


# --- strings and bytes ----------------------------------------------------------------------

_ALPHABETS = [
    string.ascii_letters + string.digits + " _-.:/",
    "".join(chr(c) for c in range(0x20, 0x7F)),
    "".join(chr(c) for c in range(0x00, 0x20)) + "\x7f\"\\",  # control chars, quotes, backslash
    "éèàüößñçØÆ¿¡€£¥©®°±µ¶·",  # 2-byte UTF-8
    "日本語中文한국어ไทยעבריתالعربية",  # 3-byte
    "\u2028\u2029\ufeff\ufffd\u00a0\u200b",  # separators, BOM, replacement, zero-width
    "😀🎉🚀𝄞𠜎🀄",  # 4-byte (astral)
]

# Byte lengths that sit on MessagePack str/bin width boundaries.
_BLOB_EDGES = [0, 1, 15, 31, 32, 33, 255, 256, 257, 65535, 65536, 65537]


def _pick_length(rng: random.Random, max_len: int) -> int:
    bucket = rng.randrange(10)
    if bucket <= 1:
        n = rng.choice([n for n in _BLOB_EDGES if n <= max_len])
    elif bucket <= 5:
        n = rng.randrange(0, 32)
    elif bucket <= 7:
        n = rng.randrange(32, 300)
    elif bucket == 8:
        n = rng.randrange(300, 3000)
    else:
        n = rng.randrange(0, max_len + 1) if rng.random() < 0.3 else rng.randrange(256, 66000)
    return min(n, max_len)


def gen_str(rng: random.Random, max_bytes: int = 20_000, length: int | None = None) -> str:
    """A random string of exactly ``length`` UTF-8 bytes (random length when None)."""
    target = _pick_length(rng, max_bytes) if length is None else length
    pool = "".join(rng.sample(_ALPHABETS, rng.randrange(1, 4)))
    if target > 4096:  # big strings: a repeated random chunk keeps generation fast
        unit = "".join(rng.choices(pool, k=rng.randrange(50, 400)))
        text = unit * (target // len(unit.encode()) + 1)
    else:
        text = "".join(rng.choices(pool, k=target))  # every char is >= 1 byte
    cut = text.encode()[:target].decode("utf-8", errors="ignore")  # drop a split trailing char
    return cut + "x" * (target - len(cut.encode()))


def gen_bytes(rng: random.Random, max_len: int = 20_000, length: int | None = None) -> bytes:
    n = _pick_length(rng, max_len) if length is None else length
    style = rng.randrange(4)
    if style == 0:
        return rng.randbytes(n)
    if style == 1:
        return bytes(n)  # zeros, highly compressible
    if style == 2:
        unit = rng.randbytes(rng.randrange(1, 9))
        return (unit * (n // len(unit) + 1))[:n]
    return gen_str(rng, length=n).encode()[:n]


# --- temporal and other scalars -------------------------------------------------------------


def gen_offset(rng: random.Random) -> timezone:
    bucket = rng.randrange(8)
    if bucket <= 2:
        return timezone.utc
    if bucket == 3:
        return timezone(timedelta(0))
    if bucket <= 5:
        return timezone(rng.choice([1, -1]) * timedelta(hours=rng.randrange(0, 15), minutes=rng.choice([0, 15, 30, 45])))
    if bucket == 6:
        return timezone(rng.choice([1, -1]) * timedelta(hours=rng.randrange(0, 24), minutes=rng.randrange(0, 60)))
    # Offsets with seconds are rare but legal; isoformat writes +HH:MM:SS.
    return timezone(rng.choice([1, -1]) * timedelta(hours=rng.randrange(0, 24), minutes=rng.randrange(0, 60),
                                                    seconds=rng.randrange(1, 60)))


def _wall_clock(rng: random.Random) -> datetime:
    bucket = rng.randrange(10)
    if bucket <= 5:
        year = rng.randrange(1970, 2100)
    elif bucket <= 7:
        year = rng.randrange(1900, 1970)  # before the epoch
    else:
        year = rng.choice([1, 2, 999, 1000, 9998, 9999, rng.randrange(1, 10000)])
    month = rng.randrange(1, 13)
    day = rng.randrange(1, 29 if month == 2 else 31)
    if rng.random() < 0.05:
        return datetime(1970, 1, 1)
    micro = rng.choice([0, 0, rng.randrange(1, 1_000_000), rng.randrange(1, 1000) * 1000, 1, 999999])
    return datetime(year, month, day, rng.randrange(24), rng.randrange(60), rng.randrange(60), micro)


def gen_aware_datetime(rng: random.Random) -> datetime:
    return _wall_clock(rng).replace(tzinfo=gen_offset(rng))


def gen_naive_datetime(rng: random.Random) -> datetime:
    return _wall_clock(rng)


def gen_date(rng: random.Random) -> date:
    return _wall_clock(rng).date()


def gen_time(rng: random.Random) -> time:
    t = _wall_clock(rng).time()
    if rng.random() < 0.4:
        t = t.replace(tzinfo=gen_offset(rng))
    return t


def gen_uuid(rng: random.Random) -> UUID:
    if rng.random() < 0.1:
        return UUID(int=rng.choice([0, 2**128 - 1]))
    return UUID(int=rng.getrandbits(128))


def gen_key(rng: random.Random) -> str:
    """A dict key (or kwarg name): never a temporal sentinel, never starting with '$'."""
    while True:
        if rng.random() < 0.5:
            k = "".join(rng.choice(string.ascii_lowercase + "_") for _ in range(rng.randrange(1, 12)))
        else:
            k = gen_str(rng, length=rng.choice([0, 1, 2, 5, 10, 31, 32, 40]))
        if k not in _RESERVED_KEYS and not k.startswith("$"):
            return k


# --- trees ----------------------------------------------------------------------------------


def gen_scalar(rng: random.Random, p: Profile) -> object:
    kinds = ["none", "bool", "int", "int", "float", "float", "str", "str", "bytes"]
    if p.aware_datetimes:
        kinds.append("aware")
    if p.naive_datetimes:
        kinds.append("naive")
    if p.dates_and_times:
        kinds += ["date", "time"]
    if p.uuids:
        kinds.append("uuid")
    kind = rng.choice(kinds)
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return gen_int(rng)
    if kind == "float":
        return gen_float(rng, p.nonfinite)
    if kind == "str":
        return gen_str(rng, p.max_blob)
    if kind == "bytes":
        return gen_bytes(rng, p.max_blob)
    if kind == "aware":
        return gen_aware_datetime(rng)
    if kind == "naive":
        return gen_naive_datetime(rng)
    if kind == "date":
        return gen_date(rng)
    if kind == "time":
        return gen_time(rng)
    return gen_uuid(rng)


def _container_len(rng: random.Random, budget: list[int]) -> int:
    bucket = rng.randrange(10)
    if bucket <= 6:
        n = rng.randrange(0, 6)
    elif bucket == 7:
        n = rng.choice([15, 16, 17])  # fix -> 16-bit header
    else:
        n = rng.randrange(6, 40)
    n = min(n, max(0, budget[0]))
    budget[0] -= n
    return n


def gen_set(rng: random.Random, p: Profile, budget: list[int] | None = None) -> set:
    """A set of hashable scalars, built the way Python builds it (1 == 1.0 == True collapse)."""
    scalar_profile = replace(p, max_blob=200)
    return {gen_scalar(rng, scalar_profile) for _ in range(_container_len(rng, budget or [40]))}


def gen_value(rng: random.Random, p: Profile, depth: int = 0, budget: list[int] | None = None) -> object:
    """A value tree of at most about 60 nodes (``budget`` is shared down the tree)."""
    if budget is None:
        budget = [rng.choice([5, 20, 60])]
    bucket = rng.randrange(10)
    if depth >= p.max_depth or bucket <= 4 or budget[0] <= 0:
        return gen_scalar(rng, p)
    if bucket <= 6:
        return [gen_value(rng, p, depth + 1, budget) for _ in range(_container_len(rng, budget))]
    if bucket <= 8 or not p.sets:
        return {gen_key(rng): gen_value(rng, p, depth + 1, budget) for _ in range(_container_len(rng, budget))}
    return gen_set(rng, p, budget)


def gen_big_value(rng: random.Random) -> object:
    """A value past a 16-bit MessagePack width (str32, bin32, array32, map32): stdin-only cases."""
    kind = rng.randrange(4)
    if kind == 0:
        return gen_str(rng, length=rng.randrange(65536, 70000))
    if kind == 1:
        return gen_bytes(rng, length=rng.randrange(65536, 70000))
    if kind == 2:
        return [rng.randrange(0, 128) for _ in range(65536 + rng.randrange(0, 50))]
    return {f"k{i}": i for i in range(65536 + rng.randrange(0, 50))}


# --- names ----------------------------------------------------------------------------------


def argv_text(s: str) -> str:
    """``s`` without NUL, which no command-line argument can carry."""
    return s.replace("\x00", "")


def gen_function_name(rng: random.Random) -> str:
    """A ``module.qualname`` string; some need sanitizing (unicode, <locals>, '..', spaces, >200)."""
    bucket = rng.randrange(10)
    ident = lambda: rng.choice(string.ascii_letters + "_") + "".join(  # noqa: E731
        rng.choice(string.ascii_letters + string.digits + "_") for _ in range(rng.randrange(0, 12)))
    if bucket <= 4:
        return ".".join(ident() for _ in range(rng.randrange(2, 5)))
    if bucket == 5:
        return f"{ident()}.{ident()}.<locals>.{rng.choice(['<lambda>', ident()])}"
    if bucket == 6:
        return argv_text(f"{ident()}..{ident()} mod.{gen_str(rng, length=rng.randrange(1, 20))}")
    if bucket == 7:
        return f"{ident()}.{'x' * rng.randrange(150, 260)}"
    if bucket == 8:
        return argv_text(f"{ident()}.{gen_str(rng, length=rng.randrange(1, 40))}")
    return rng.choice(["__main__.f", "a.b", "app.users.get_user", "m.<lambda>", "m...f", "é.ü", "m.f\n", "1m.2f"])


def gen_namespace(rng: random.Random) -> str | None:
    bucket = rng.randrange(10)
    if bucket <= 2:
        return None
    if bucket <= 5:
        return "".join(rng.choice(string.ascii_lowercase + string.digits + "_-.:") for _ in range(rng.randrange(1, 20)))
    if bucket == 6:
        return argv_text(gen_str(rng, length=rng.randrange(1, 60)))  # spaces, newlines, unicode
    if bucket == 7:
        return rng.choice(["a b", "x\ny", "r\rs", "tab\there", ""])
    if bucket == 8:
        return "n" * rng.randrange(150, 320)  # crosses the 250-character rule
    return rng.choice(["é", "日本", "😀"]) * rng.randrange(40, 120)  # code points vs bytes


_SEGMENT_FIRST = string.ascii_lowercase + string.digits
_SEGMENT_REST = _SEGMENT_FIRST + "._-"


def gen_segment(rng: random.Random) -> str:
    """A valid interop namespace/operation segment (no '..', not 'ns'/'nsapi')."""
    while True:
        n = rng.choice([1, 2, rng.randrange(1, 20), 64])
        s = rng.choice(_SEGMENT_FIRST) + "".join(rng.choice(_SEGMENT_REST) for _ in range(n - 1))
        if ".." not in s and s not in ("ns", "nsapi"):
            return s


def gen_master_key_hex(rng: random.Random) -> str:
    # Hex master keys may decode past 32 bytes (cachekit-py's hex rule is "at least 32").
    n = 32 if rng.random() < 0.9 else rng.randrange(33, 65)
    return rng.randbytes(n).hex()


def gen_tenant(rng: random.Random) -> tuple[str, str | None]:
    """(tenant id the CLI gets, deployment_uuid cachekit-py gets): "default" or a canonical UUID."""
    if rng.random() < 0.4:
        return "default", None
    u = str(gen_uuid(rng))
    return u, u
