"""Tagged JSON: the value notation shared by the cachekit CLI and the live cross-checks.

Plain JSON maps directly (null, true/false, strings, arrays, objects with string keys, integers).
A single-key object whose key starts with ``$`` is a typed tag (see the ``tagged_json`` section of
/work/shared/protocol/vectors/interop-mode.json):

    {"$int": "decimal"}        integer beyond what JSON readers keep exactly
    {"$float": "repr"}         float64; Python repr, or nan / inf / -inf
    {"$bytes": "hex"}          byte string
    {"$set": [...]}            set of tagged values
    {"$datetime": "iso"}       datetime (Python isoformat())
    {"$date": "iso"}           date (decode output only)
    {"$time": "iso"}           time of day (decode output only)
    {"$uuid": "..."}           UUID

``to_input`` renders a Python value as the CLI reads it; ``to_output`` renders a Python value as
the CLI's ``decode`` prints it (integers plain, floats always tagged). ``first_difference`` compares
two tagged trees strictly (``true`` is not ``1``, ``1`` is not ``1.0``) and names the path of the
first difference.
"""

from __future__ import annotations

import json
import math
import struct
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

JSON_SAFE_INT = 2**53


def float_repr(x: float) -> str:
    """Python's repr of a float64, the spelling the CLI must print."""
    return repr(x)


def to_input(value: Any, *, uuid_upper: bool = False, plain_floats: bool = False) -> Any:
    """A Python value as CLI input tagged JSON.

    ``plain_floats`` writes finite, non-integral floats whose repr is a valid JSON number as plain
    JSON numbers (the CLI must read them as float64); everything else stays ``$float``.
    """
    if value is None or isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -JSON_SAFE_INT <= value <= JSON_SAFE_INT else {"$int": str(value)}
    if isinstance(value, float):
        r = float_repr(value)
        if plain_floats and math.isfinite(value) and not value.is_integer() and ("." in r or "e" in r):
            return value
        return {"$float": r}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, (set, frozenset)):
        return {"$set": [to_input(v, uuid_upper=uuid_upper, plain_floats=plain_floats) for v in value]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, UUID):
        s = str(value)
        return {"$uuid": s.upper() if uuid_upper else s}
    if isinstance(value, (list, tuple)):
        return [to_input(v, uuid_upper=uuid_upper, plain_floats=plain_floats) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"tagged JSON objects need str keys, got {type(k).__name__}")
            out[k] = to_input(v, uuid_upper=uuid_upper, plain_floats=plain_floats)
        return out
    raise TypeError(f"no tagged-JSON input form for {type(value).__name__}")


def to_output(value: Any) -> Any:
    """A (decoded) Python value as the CLI's ``decode`` prints it."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"$float": float_repr(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, datetime):  # before date: datetime is a date
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": str(value)}
    if isinstance(value, (set, frozenset)):
        return {"$set": [to_output(v) for v in value]}
    if isinstance(value, (list, tuple)):
        return [to_output(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"decoded map has a non-str key {k!r}; tagged JSON cannot show it")
            out[k] = to_output(v)
        return out
    raise TypeError(f"no tagged-JSON output form for {type(value).__name__}")


def dumps(tree: Any) -> str:
    """Compact JSON text, UTF-8 characters kept as they are."""
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _is_tag(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1 and next(iter(node)).startswith("$")


def _float_bits(text: str) -> int | None:
    try:
        return struct.unpack(">Q", struct.pack(">d", float(text)))[0]
    except (ValueError, OverflowError):
        return None


def first_difference(expected: Any, got: Any, path: str = "$") -> str | None:
    """None when the two tagged trees are equal, else a one-line description of the first difference.

    Strict: JSON types must match (``true`` ≠ ``1``, ``1`` ≠ ``{"$float": "1.0"}``). Objects compare
    as maps (order-insensitive). ``$bytes`` hex compares case-insensitively. ``$float`` compares the
    repr text; when the texts differ but denote the same float64 the message says so.
    """
    if _is_tag(expected) or _is_tag(got):
        if not (_is_tag(expected) and _is_tag(got)):
            return f"{path}: expected {dumps(expected)[:200]}, got {dumps(got)[:200]}"
        (etag, ev), (gtag, gv) = next(iter(expected.items())), next(iter(got.items()))
        if etag != gtag:
            return f"{path}: expected tag {etag} ({dumps(ev)[:120]}), got tag {gtag} ({dumps(gv)[:120]})"
        if etag == "$set":
            if not isinstance(gv, list) or len(ev) != len(gv):
                return f"{path}: $set sizes differ: expected {dumps(ev)[:200]}, got {dumps(gv)[:200]}"
            remaining = list(gv)
            for item in ev:
                for i, cand in enumerate(remaining):
                    if first_difference(item, cand) is None:
                        del remaining[i]
                        break
                else:
                    return f"{path}: $set element {dumps(item)[:120]} missing from {dumps(gv)[:200]}"
            return None
        if etag == "$bytes" and isinstance(gv, str) and ev.lower() == gv.lower():
            return None
        if etag == "$float" and isinstance(gv, str) and ev != gv:
            same = _float_bits(ev) is not None and _float_bits(ev) == _float_bits(gv)
            why = " (same float64, different spelling)" if same else ""
            return f"{path}: expected $float {ev!r}, got {gv!r}{why}"
        if ev != gv:
            return f"{path}: expected {etag} {dumps(ev)[:200]}, got {dumps(gv)[:200]}"
        return None
    if type(expected) is not type(got):
        return (
            f"{path}: expected {type(expected).__name__} {dumps(expected)[:160]}, "
            f"got {type(got).__name__} {dumps(got)[:160]}"
        )
    if isinstance(expected, list):
        if len(expected) != len(got):
            return f"{path}: expected an array of {len(expected)}, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            d = first_difference(e, g, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(expected, dict):
        if set(expected) != set(got):
            missing = sorted(set(expected) - set(got))[:3]
            extra = sorted(set(got) - set(expected))[:3]
            return f"{path}: object keys differ: missing {missing!r}, unexpected {extra!r}"
        for k in expected:
            d = first_difference(expected[k], got[k], f"{path}[{k!r}]")
            if d:
                return d
        return None
    if expected != got:
        return f"{path}: expected {dumps(expected)[:200]}, got {dumps(got)[:200]}"
    return None


def from_input(node: Any) -> Any:
    """CLI input tagged JSON (already parsed) as the Python value it denotes."""
    if isinstance(node, list):
        return [from_input(v) for v in node]
    if isinstance(node, dict):
        if _is_tag(node):
            tag, arg = next(iter(node.items()))
            if tag == "$int":
                return int(arg)
            if tag == "$float":
                return float(arg)
            if tag == "$bytes":
                return bytes.fromhex(arg)
            if tag == "$set":
                return {from_input(v) for v in arg}
            if tag == "$datetime":
                return datetime.fromisoformat(arg)
            if tag == "$date":
                return date.fromisoformat(arg)
            if tag == "$time":
                return time.fromisoformat(arg)
            if tag == "$uuid":
                return UUID(arg)
            raise ValueError(f"unknown tag {tag}")
        return {k: from_input(v) for k, v in node.items()}
    return node
