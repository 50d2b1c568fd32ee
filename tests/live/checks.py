"""The live cross-checks: each check turns a seeded RNG into one case — cachekit-py's answer plus
the CLI calls that must agree with it — and judges the CLI's output.

A check never fixes anything up: a difference is either a *mismatch* (fails the run) or, when the
bytes differ for a reason the protocol allows, a recorded *difference* (reported, does not fail).
The only allowed difference is the LZ4 block inside a ByteStorage envelope: the format pins the
decompressed bytes and the checksum, not the compressor's choices (INVENTORY §0 trap 5).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from uuid import UUID
from typing import Any, Callable

import msgpack

import case_gen as G
import cpp_cli as C
import python_sdk as P
import tagged_json as T

# Largest tagged-JSON text one command-line argument may carry (Linux allows 128 KiB per argument).
MAX_ARG_CHARS = 100_000


@dataclass
class Finding:
    severity: str  # "mismatch" (fails the run), "difference" (allowed, recorded), "harness" (our bug)
    category: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    index: int
    inputs: dict[str, Any]  # what the case is about, for the report (JSON-able)
    calls: list[C.CliCall]
    verify: Callable[[list[C.CliResult]], list[Finding]]


@dataclass
class Check:
    name: str
    default_count: int
    summary: str
    make: Callable[[random.Random, int], Case]


CHECKS: list[Check] = []


def check(name: str, default_count: int, summary: str):
    def register(make: Callable[[random.Random, int], Case]) -> Callable[[random.Random, int], Case]:
        CHECKS.append(Check(name, default_count, summary, make))
        return make

    return register


# --- shared helpers ---------------------------------------------------------------------------


def _bounded_json(rng: random.Random, make_value: Callable[[], Any], **input_opts: Any) -> tuple[Any, str]:
    """A generated value and its tagged JSON, regenerated until the JSON fits one argv string."""
    for _ in range(50):
        value = make_value()
        text = T.dumps(T.to_input(value, **input_opts))
        if len(text.encode()) <= MAX_ARG_CHARS:
            return value, text
    raise RuntimeError("could not generate a value small enough for the command line")


def _input_opts(rng: random.Random) -> dict[str, bool]:
    return {"uuid_upper": rng.random() < 0.3, "plain_floats": rng.random() < 0.2}


def _cli_failed(result: C.CliResult, what: str) -> Finding:
    return Finding("mismatch", "cli-error", f"{what}: CLI failed ({result.describe()})")


def _compare_values(expected: Any, result: C.CliResult, what: str) -> list[Finding]:
    if not result.ok:
        return [_cli_failed(result, what)]
    try:
        got = C.parse_decoded(result)
    except ValueError as e:
        return [Finding("mismatch", "bad-json", f"{what}: output is not JSON ({e})", {"stdout": result.text()[:2000]})]
    diff = T.first_difference(expected, got)
    if diff:
        return [Finding("mismatch", "value", f"{what}: {diff}",
                        {"expected": T.dumps(expected)[:4000], "got": T.dumps(got)[:4000]})]
    return []


def _first_diff_offset(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def _bytes_detail(expected: bytes, got: bytes) -> dict[str, Any]:
    i = _first_diff_offset(expected, got)
    lo = max(0, i - 16)
    return {
        "expected_len": len(expected), "got_len": len(got), "first_diff_offset": i,
        "expected_around": expected[lo:i + 32].hex(), "got_around": got[lo:i + 32].hex(),
        "expected_hex": expected.hex()[:6000], "got_hex": got.hex()[:6000],
    }


def compare_envelopes(expected: bytes, got: bytes, what: str) -> list[Finding]:
    """Byte-compare two ByteStorage envelopes; an LZ4-only difference is a recorded difference."""
    if expected == got:
        return []
    try:
        e_fields, g_fields = P.envelope_fields(expected), P.envelope_fields(got)
        e_data, e_fmt = P.envelope_unwrap(expected)
        g_data, g_fmt = P.envelope_unwrap(got)
    except Exception as e:  # noqa: BLE001 — any failure here is the finding
        return [Finding("mismatch", "envelope-bytes", f"{what}: envelope differs and does not parse ({e})",
                        _bytes_detail(expected, got))]
    same_rest = e_fields[1:] == g_fields[1:] and e_data == g_data and e_fmt == g_fmt
    if same_rest and isinstance(g_fields[0], bytes):
        i = _first_diff_offset(e_fields[0], g_fields[0])
        lo = max(0, i - 8)
        return [Finding("difference", "lz4-block",
                        f"{what}: LZ4 block differs (checksum, size, format and decompressed bytes equal; "
                        f"compressed {len(e_fields[0])} bytes (cachekit-py) vs {len(g_fields[0])} (C++))",
                        {"lz4_first_diff_offset": i, "expected_lz4_around": e_fields[0][lo:i + 24].hex(),
                         "got_lz4_around": g_fields[0][lo:i + 24].hex()})]
    return [Finding("mismatch", "envelope-bytes", f"{what}: envelope fields differ beyond the LZ4 block",
                    _bytes_detail(expected, got))]


def compare_frames(expected: bytes, got: bytes, integrity: bool, what: str) -> list[Finding]:
    """Byte-compare two plaintext CK frames: header exact, payload exact or LZ4-only different."""
    if expected == got:
        return []
    try:
        e_head, e_payload = P.split_frame(expected)
        g_head, g_payload = P.split_frame(got)
    except ValueError as e:
        return [Finding("mismatch", "frame-bytes", f"{what}: {e}", _bytes_detail(expected, got))]
    if e_head != g_head:
        return [Finding("mismatch", "frame-header", f"{what}: CK frame header differs",
                        {"expected": e_head.decode(errors="replace"), "got": g_head.decode(errors="replace")})]
    if integrity:
        return compare_envelopes(e_payload, g_payload, what)
    return [Finding("mismatch", "msgpack-bytes", f"{what}: msgpack payload differs", _bytes_detail(e_payload, g_payload))]


def _gen_cache_key(rng: random.Random) -> str:
    bucket = rng.randrange(5)
    if bucket <= 1:
        ns = rng.choice(["", "ns:users:", "ns:a b:"])
        return f"{ns}func:app.m.f:args:{rng.randbytes(32).hex()}:{rng.choice('01')}s"
    if bucket <= 3:
        return f"{G.gen_segment(rng)}:{G.gen_segment(rng)}:{rng.randbytes(32).hex()}"
    return G.argv_text(G.gen_str(rng, length=rng.randrange(1, 80))) or "k"


def _gen_encryption(rng: random.Random, *, allow_extractor: bool) -> P.Encryption:
    key = G.gen_master_key_hex(rng)
    if allow_extractor and rng.random() < 0.25:
        # A multi-tenant extractor hands its string through raw: an upper-case UUID stays upper-case.
        return P.Encryption(key, str(G.gen_uuid(rng)).upper(), "extractor")
    tenant, uuid = G.gen_tenant(rng)
    return P.Encryption(key, tenant, "deployment_uuid" if uuid else "default")


def _value_inputs(value_json: str) -> str:
    return value_json if len(value_json) <= 3000 else value_json[:3000] + f"... ({len(value_json)} chars)"


# --- a. default-mode keys ----------------------------------------------------------------------


@check("default_key", 200, "cachekit-py CacheOperationHandler.get_cache_key == `cachekit key`")
def _default_key(rng: random.Random, index: int) -> Case:
    namespace = G.gen_namespace(rng)
    function = G.gen_function_name(rng)
    integrity = rng.random() < 0.7
    opts = _input_opts(rng)
    n_args = rng.choice([0, 1, 1, 2, 3, 5])
    args, args_json = _bounded_json(
        rng, lambda: [G.gen_value(rng, G.DEFAULT_KEY_ARG) for _ in range(n_args)], **opts)
    if rng.random() < 0.05:  # code-point order, not UTF-16 order: U+FFFF sorts before U+1F600
        kwargs = {"\uffff": 1, "😀": 2, "é": 3, "z": 4, "Z": 5, "": 6, "a\x00b": 7}
        kwargs_json = T.dumps(T.to_input(kwargs))
    elif rng.random() < 0.4:
        kwargs, kwargs_json = {}, None
    else:
        n_kw = rng.choice([0, 1, 2, 4])
        kwargs, kwargs_json = _bounded_json(
            rng, lambda: {G.gen_key(rng): G.gen_value(rng, G.DEFAULT_KEY_ARG) for _ in range(n_kw)}, **opts)
    expected = P.default_key(namespace, function, args, kwargs, integrity)
    call = C.key_call(namespace, function, args_json, kwargs_json, integrity)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "key")]
        if r.line() != expected:
            return [Finding("mismatch", "key", "default-mode key differs", {
                "expected": expected, "got": r.line(),
                "msgpack_preimage": P.default_key_preimage(args, kwargs).hex()[:4000]})]
        return []

    return Case(index, {"namespace": namespace, "function": function, "integrity": integrity,
                        "args": _value_inputs(args_json), "kwargs": kwargs_json and _value_inputs(kwargs_json)},
                [call], verify)


# --- b. interop keys ---------------------------------------------------------------------------


@check("interop_key", 200, "cachekit.interop.generate_interop_key == `cachekit interop-key`")
def _interop_key(rng: random.Random, index: int) -> Case:
    namespace = G.gen_segment(rng)
    operation = G.gen_segment(rng) if rng.random() < 0.95 else rng.choice(["ns", "nsapi"])  # reserved only as ns
    n_args = rng.choice([0, 1, 1, 2, 3, 5])
    opts = _input_opts(rng)
    args, args_json = _bounded_json(rng, lambda: [G.gen_value(rng, G.INTEROP_ARG) for _ in range(n_args)], **opts)
    if rng.random() < 0.15:  # a hand-picked set whose order or dedupe is easy to get wrong
        args.insert(rng.randrange(len(args) + 1), rng.choice(_TRICKY_SETS)())
        args_json = T.dumps(T.to_input(args, **opts))
    expected = P.interop_key(namespace, operation, args)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "interop-key")]
        if r.line() != expected:
            return [Finding("mismatch", "key", "interop key differs", {
                "expected": expected, "got": r.line(),
                "canonical_args": P.interop_key_preimage(args).hex()[:4000]})]
        return []

    return Case(index, {"namespace": namespace, "operation": operation, "args": _value_inputs(args_json)},
                [C.interop_key_call(namespace, operation, args_json)], verify)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_TRICKY_SETS = [
    # Python keeps both elements (a datetime never equals an int or float); both encode to the
    # same canonical bytes, so the encoded set has one element.
    lambda: {1, _EPOCH + timedelta(seconds=1)},
    lambda: {2.5, _EPOCH + timedelta(seconds=2, microseconds=500000)},
    lambda: {"00000000-0000-0000-0000-000000000001", UUID(int=1)},
    # Order by encoded bytes: 128 (cc80) < 255 (ccff) < -33 (d0df) < -32 (e0) < -1 (ff).
    lambda: {-1, 255, 128, -32, -33, 0, 127},
    lambda: {"a", b"a", "b", b"", ""},  # str (a0..) sorts before bin (c4..)
    lambda: {True, False, None, 0.5, -0.5},
    lambda: {"\uffff", "😀", "é", "z", "Z"},
    lambda: {2**64 - 1, -(2**63), 2**63, 2.0**64, -(2.0**63) * 2},
    lambda: {_EPOCH - timedelta(microseconds=1), _EPOCH + timedelta(microseconds=1), _EPOCH},
    lambda: set(),
]

_BAD_SEGMENTS = ["", "Users", "-a", "_a", ".a", "a" * 65, "a..b", "a b", "a\n", "é", "a:b", "a/b", "A"]


@check("interop_key_rejects", 30, "inputs cachekit-py refuses (InteropError) make `cachekit interop-key` exit 1")
def _interop_key_rejects(rng: random.Random, index: int) -> Case:
    namespace, operation = G.gen_segment(rng), G.gen_segment(rng)
    small = replace(G.INTEROP_ARG, max_blob=300)
    good_args: list[Any] = [G.gen_value(rng, small) for _ in range(rng.randrange(0, 3))]
    kind = rng.choice(["nan", "inf", "-inf", "int_hi", "int_lo", "naive", "namespace", "operation", "reserved"])
    args_json_items = [T.to_input(a) for a in good_args]
    py_args = list(good_args)
    if kind in ("nan", "inf", "-inf"):
        bad, bad_json = float(kind), {"$float": kind}
    elif kind == "int_hi":
        bad, bad_json = 2**64 + rng.randrange(0, 5), None
    elif kind == "int_lo":
        bad, bad_json = -(2**63) - 1 - rng.randrange(0, 5), None
    elif kind == "naive":
        dt = G.gen_naive_datetime(rng)
        bad, bad_json = dt, {"$datetime": dt.isoformat()}
    else:
        bad = bad_json = None
    if kind in ("nan", "inf", "-inf", "int_hi", "int_lo", "naive"):
        bad_json = bad_json or {"$int": str(bad)}
        where = rng.randrange(3)  # top level, inside a list, inside a map
        if where == 1:
            bad, bad_json = [1, bad], [1, bad_json]
        elif where == 2:
            bad, bad_json = {"k": bad}, {"k": bad_json}
        pos = rng.randrange(len(py_args) + 1)
        py_args.insert(pos, bad)
        args_json_items.insert(pos, bad_json)
    elif kind == "namespace":
        namespace = rng.choice(_BAD_SEGMENTS)
    elif kind == "operation":
        operation = rng.choice(_BAD_SEGMENTS)
    else:
        namespace = rng.choice(["ns", "nsapi"])
    args_json = T.dumps(args_json_items)
    try:
        P.interop_key(namespace, operation, py_args)
        py_error = None
    except ValueError as e:  # InteropError
        py_error = f"{type(e).__name__}: {e}"

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if py_error is None:
            return [Finding("harness", "harness", f"cachekit-py accepted a {kind} case meant to be rejected")]
        if r.returncode != 1:
            return [Finding("mismatch", "accepts-invalid",
                            f"interop-key should exit 1 ({kind}; cachekit-py: {py_error[:200]}); got {r.describe()}",
                            {"stdout": r.text()[:400]})]
        return []

    return Case(index, {"kind": kind, "namespace": namespace, "operation": operation, "args": args_json[:3000]},
                [C.interop_key_call(namespace, operation, args_json)], verify)


# --- c. / d. plaintext CK frames -------------------------------------------------------------


@check("frame_py_to_cpp", 150, "cachekit-py @cache stored bytes (integrity on/off) -> `cachekit decode`")
def _frame_py_to_cpp(rng: random.Random, index: int) -> Case:
    integrity = rng.random() < 0.6
    value = G.gen_big_value(rng) if rng.random() < 0.04 else G.gen_value(rng, G.STORED_PY)
    stored = P.frame_encode(value, integrity=integrity, cache_key="k")
    # Readers must also take what older or other writers store, as cachekit-py does: the pre-v3
    # base64 JSON envelope, and a v3 header padded with spaces (0.24.1 pads Arrow frames).
    variant = rng.choices(["v3", "legacy_json", "padded_header"], [85, 8, 7])[0]
    if variant == "legacy_json":
        stored = P.legacy_json_frame(stored)
    elif variant == "padded_header":
        stored = P.padded_frame(stored, rng.randrange(1, 64))
    expected = T.to_output(P.frame_decode(stored, integrity=integrity, cache_key="k"))
    mode = "frame" if rng.random() < 0.75 else None  # None: let the CLI detect the frame
    call = C.decode_call(stored, mode=mode, hex_input=rng.random() < 0.5)
    return Case(index, {"integrity": integrity, "mode": mode, "variant": variant,
                        "value": _value_inputs(T.dumps(expected)), "stored_hex": stored.hex()[:6000]},
                [call], lambda results: _compare_values(expected, results[0], "decode"))


@check("frame_cpp_to_py", 150, "`cachekit encode --mode frame` bytes -> cachekit-py reads them; bytes compared")
def _frame_cpp_to_py(rng: random.Random, index: int) -> Case:
    integrity = rng.random() < 0.6
    value, value_json = _bounded_json(rng, lambda: G.gen_value(rng, G.STORED_CLI), **_input_opts(rng))
    py_stored = P.frame_encode(value, integrity=integrity, cache_key="k")
    expected = T.to_output(P.frame_decode(py_stored, integrity=integrity, cache_key="k"))
    hex_output = rng.random() < 0.5
    call = C.encode_call(value_json, mode="frame" if rng.random() < 0.7 else None, integrity=integrity,
                         hex_output=hex_output)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "encode")]
        got = r.binary(hex_output)
        try:
            decoded = T.to_output(P.frame_decode(got, integrity=integrity, cache_key="k"))
        except Exception as e:  # noqa: BLE001
            return [Finding("mismatch", "py-rejects", f"cachekit-py cannot read the C++ frame: {type(e).__name__}: {e}",
                            _bytes_detail(py_stored, got))]
        findings = []
        diff = T.first_difference(expected, decoded)
        if diff:
            findings.append(Finding("mismatch", "value", f"cachekit-py reads a different value: {diff}",
                                    {"expected": T.dumps(expected)[:4000], "got": T.dumps(decoded)[:4000]}))
        return findings + compare_frames(py_stored, got, integrity, "frame bytes vs cachekit-py")

    return Case(index, {"integrity": integrity, "value": _value_inputs(value_json)}, [call], verify)


# --- e. interop values ------------------------------------------------------------------------


@check("interop_value_py_to_cpp", 100, "cachekit-py interop value bytes (and foreign msgpack) -> `cachekit decode --mode interop`")
def _interop_value_py_to_cpp(rng: random.Random, index: int) -> Case:
    value = G.gen_big_value(rng) if rng.random() < 0.04 else G.gen_value(rng, G.INTEROP_VALUE_PY)
    foreign = rng.random() < 0.2
    if foreign:
        # Another SDK's writer: map keys in insertion order, sometimes float32 — readers accept any
        # well-formed document (cachekit-py does).
        from cachekit.interop import _normalize_value

        single = rng.random() < 0.5
        try:
            stored = msgpack.packb(_normalize_value(value), use_bin_type=True, use_single_float=single)
        except OverflowError:  # a float beyond float32's range: write float64
            stored = msgpack.packb(_normalize_value(value), use_bin_type=True)
    else:
        stored = P.interop_encode(value, cache_key="users:op:x")
    expected = T.to_output(P.interop_decode(stored, cache_key="users:op:x"))
    call = C.decode_call(stored, mode="interop", hex_input=rng.random() < 0.5)
    return Case(index, {"foreign_writer": foreign, "value": _value_inputs(T.dumps(expected)), "stored_hex": stored.hex()[:6000]},
                [call], lambda results: _compare_values(expected, results[0], "decode --mode interop"))


@check("interop_value_cpp_to_py", 100, "`cachekit encode --mode interop` == cachekit-py canonical bytes; cachekit-py reads them")
def _interop_value_cpp_to_py(rng: random.Random, index: int) -> Case:
    value, value_json = _bounded_json(rng, lambda: G.gen_value(rng, G.INTEROP_VALUE_CLI), **_input_opts(rng))
    py_stored = P.interop_encode(value, cache_key="users:op:x")
    expected = T.to_output(P.interop_decode(py_stored, cache_key="users:op:x"))
    hex_output = rng.random() < 0.5
    call = C.encode_call(value_json, mode="interop", integrity=True, hex_output=hex_output)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "encode --mode interop")]
        got = r.binary(hex_output)
        findings = []
        if got != py_stored:
            findings.append(Finding("mismatch", "msgpack-bytes", "interop value bytes differ from cachekit-py's canonical encoding",
                                    _bytes_detail(py_stored, got)))
        try:
            decoded = T.to_output(P.interop_decode(got, cache_key="users:op:x"))
        except Exception as e:  # noqa: BLE001
            return findings + [Finding("mismatch", "py-rejects", f"cachekit-py cannot read it: {type(e).__name__}: {e}")]
        diff = T.first_difference(expected, decoded)
        if diff:
            findings.append(Finding("mismatch", "value", f"cachekit-py reads a different value: {diff}"))
        return findings

    return Case(index, {"value": _value_inputs(value_json)}, [call], verify)


# --- f. encryption ----------------------------------------------------------------------------


def _enc_inputs(enc: P.Encryption, cache_key: str, **more: Any) -> dict[str, Any]:
    return {"master_key_hex": enc.master_key_hex, "tenant": enc.tenant, "tenant_source": enc.tenant_source,
            "previous_keys_hex": list(enc.previous_keys_hex), "cache_key": cache_key, **more}


@check("encrypted_frame_py_to_cpp", 50, "cachekit-py AES-GCM frame -> `cachekit decode --master-key-hex ...`")
def _encrypted_frame_py_to_cpp(rng: random.Random, index: int) -> Case:
    enc = _gen_encryption(rng, allow_extractor=True)
    cache_key = _gen_cache_key(rng)
    integrity = rng.random() < 0.7
    value = G.gen_value(rng, G.STORED_PY)
    stored = P.frame_encode(value, integrity=integrity, cache_key=cache_key, enc=enc)
    expected = T.to_output(P.frame_decode(stored, integrity=integrity, cache_key=cache_key, enc=enc))
    call = C.decode_call(stored, mode="frame", hex_input=rng.random() < 0.5, master_key_hex=enc.master_key_hex,
                         tenant=enc.tenant, cache_key=cache_key)
    return Case(index, _enc_inputs(enc, cache_key, integrity=integrity, value=_value_inputs(T.dumps(expected))),
                [call], lambda results: _compare_values(expected, results[0], "decode (encrypted frame)"))


def _verify_cpp_encrypted_frame(value: Any, got: bytes, *, enc: P.Encryption, reader: P.Encryption,
                                cache_key: str, integrity: bool) -> list[Finding]:
    """cachekit-py (as ``reader``) reads the C++ frame; header and plaintext compared with cachekit-py's."""
    py_frame = P.frame_encode(value, integrity=integrity, cache_key=cache_key, enc=enc)
    expected = T.to_output(P.frame_decode(py_frame, integrity=integrity, cache_key=cache_key, enc=enc))
    findings: list[Finding] = []
    try:
        decoded = T.to_output(P.frame_decode(got, integrity=integrity, cache_key=cache_key, enc=reader))
        diff = T.first_difference(expected, decoded)
        if diff:
            findings.append(Finding("mismatch", "value", f"cachekit-py reads a different value: {diff}"))
    except Exception as e:  # noqa: BLE001
        findings.append(Finding("mismatch", "py-rejects", f"cachekit-py cannot read the C++ frame: {type(e).__name__}: {e}",
                                {"got_hex": got.hex()[:4000]}))
    try:
        py_head, _ = P.split_frame(py_frame)
        head, payload = P.split_frame(got)
    except ValueError as e:
        return findings + [Finding("mismatch", "frame-bytes", str(e))]
    if head != py_head:
        findings.append(Finding("mismatch", "frame-header", "encrypted CK frame header differs from cachekit-py's",
                                {"expected": py_head.decode(errors="replace"), "got": head.decode(errors="replace")}))
    try:
        plain = P.decrypt_payload(payload, enc=enc, cache_key=cache_key, compressed=integrity, interop_mode=False)
    except Exception as e:  # noqa: BLE001
        return findings + [Finding("mismatch", "aad-or-key", f"payload does not decrypt with cachekit-py's key and AAD: {e}")]
    py_plain = P.standard_payload(value, integrity=integrity)
    if integrity:
        findings += compare_envelopes(py_plain, plain, "plaintext envelope")
    elif plain != py_plain:
        findings.append(Finding("mismatch", "msgpack-bytes", "plaintext msgpack differs", _bytes_detail(py_plain, plain)))
    return findings


@check("encrypted_frame_cpp_to_py", 50, "`cachekit encode --master-key-hex ...` frame -> cachekit-py decrypts; header/plaintext compared")
def _encrypted_frame_cpp_to_py(rng: random.Random, index: int) -> Case:
    enc = _gen_encryption(rng, allow_extractor=True)
    cache_key = _gen_cache_key(rng)
    integrity = rng.random() < 0.7
    value, value_json = _bounded_json(rng, lambda: G.gen_value(rng, G.STORED_CLI), **_input_opts(rng))
    hex_output = rng.random() < 0.5
    call = C.encode_call(value_json, mode="frame", integrity=integrity, hex_output=hex_output,
                         master_key_hex=enc.master_key_hex, tenant=enc.tenant, cache_key=cache_key)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "encode (encrypted frame)")]
        return _verify_cpp_encrypted_frame(value, r.binary(hex_output), enc=enc, reader=enc,
                                           cache_key=cache_key, integrity=integrity)

    return Case(index, _enc_inputs(enc, cache_key, integrity=integrity, value=_value_inputs(value_json)), [call], verify)


def _interop_cache_key(rng: random.Random) -> str:
    args = [G.gen_value(rng, G.INTEROP_ARG) for _ in range(rng.randrange(0, 3))]
    return P.interop_key(G.gen_segment(rng), G.gen_segment(rng), args)


@check("encrypted_interop_py_to_cpp", 25, "cachekit-py encrypted interop value -> `cachekit decode --mode interop --master-key-hex ...`")
def _encrypted_interop_py_to_cpp(rng: random.Random, index: int) -> Case:
    enc = _gen_encryption(rng, allow_extractor=False)
    cache_key = _interop_cache_key(rng)
    value = G.gen_value(rng, G.INTEROP_VALUE_PY)
    stored = P.interop_encode(value, cache_key=cache_key, enc=enc)
    expected = T.to_output(P.interop_decode(stored, cache_key=cache_key, enc=enc))
    call = C.decode_call(stored, mode="interop", hex_input=rng.random() < 0.5, master_key_hex=enc.master_key_hex,
                         tenant=enc.tenant, cache_key=cache_key)
    return Case(index, _enc_inputs(enc, cache_key, value=_value_inputs(T.dumps(expected))),
                [call], lambda results: _compare_values(expected, results[0], "decode (encrypted interop)"))


def _verify_cpp_encrypted_interop(value: Any, got: bytes, *, enc: P.Encryption, reader: P.Encryption,
                                  cache_key: str) -> list[Finding]:
    py_plain = P.interop_encode(value, cache_key=cache_key)
    expected = T.to_output(P.interop_decode(py_plain, cache_key=cache_key))
    findings: list[Finding] = []
    try:
        decoded = T.to_output(P.interop_decode(got, cache_key=cache_key, enc=reader))
        diff = T.first_difference(expected, decoded)
        if diff:
            findings.append(Finding("mismatch", "value", f"cachekit-py reads a different value: {diff}"))
    except Exception as e:  # noqa: BLE001
        findings.append(Finding("mismatch", "py-rejects", f"cachekit-py cannot decrypt/read it: {type(e).__name__}: {e}",
                                {"got_hex": got.hex()[:4000]}))
    try:
        plain = P.decrypt_payload(got, enc=enc, cache_key=cache_key, compressed=False, interop_mode=True)
    except Exception as e:  # noqa: BLE001
        return findings + [Finding("mismatch", "aad-or-key", f"does not decrypt with cachekit-py's key and 4-part AAD: {e}")]
    if plain != py_plain:
        findings.append(Finding("mismatch", "msgpack-bytes", "interop plaintext differs from cachekit-py's canonical bytes",
                                _bytes_detail(py_plain, plain)))
    return findings


@check("encrypted_interop_cpp_to_py", 25, "`cachekit encode --mode interop --master-key-hex ...` -> cachekit-py decrypts; plaintext compared")
def _encrypted_interop_cpp_to_py(rng: random.Random, index: int) -> Case:
    enc = _gen_encryption(rng, allow_extractor=False)
    cache_key = _interop_cache_key(rng)
    value, value_json = _bounded_json(rng, lambda: G.gen_value(rng, G.INTEROP_VALUE_CLI), **_input_opts(rng))
    hex_output = rng.random() < 0.5
    call = C.encode_call(value_json, mode="interop", integrity=True, hex_output=hex_output,
                         master_key_hex=enc.master_key_hex, tenant=enc.tenant, cache_key=cache_key)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "encode (encrypted interop)")]
        return _verify_cpp_encrypted_interop(value, r.binary(hex_output), enc=enc, reader=enc, cache_key=cache_key)

    return Case(index, _enc_inputs(enc, cache_key, value=_value_inputs(value_json)), [call], verify)


def _rotation_keys(rng: random.Random, old: str) -> tuple[str, tuple[str, ...]]:
    """(new master key, previous keys incl. ``old``): up to 3 previous keys, ``old`` at any position."""
    new = G.gen_master_key_hex(rng)
    others = [G.gen_master_key_hex(rng) for _ in range(rng.randrange(0, 3))]
    others.insert(rng.randrange(len(others) + 1), old)
    return new, tuple(others)


@check("rotation_py_to_cpp", 25, "cachekit-py writes with the OLD key -> `cachekit decode --master-key-hex NEW --previous-key-hex OLD`")
def _rotation_py_to_cpp(rng: random.Random, index: int) -> Case:
    interop_mode = rng.random() < 0.4
    old_enc = _gen_encryption(rng, allow_extractor=not interop_mode)
    new_key, previous = _rotation_keys(rng, old_enc.master_key_hex)
    integrity = rng.random() < 0.7
    if interop_mode:
        cache_key = _interop_cache_key(rng)
        value = G.gen_value(rng, G.INTEROP_VALUE_PY)
        stored = P.interop_encode(value, cache_key=cache_key, enc=old_enc)
        expected = T.to_output(P.interop_decode(stored, cache_key=cache_key, enc=old_enc))
    else:
        cache_key = _gen_cache_key(rng)
        value = G.gen_value(rng, G.STORED_PY)
        stored = P.frame_encode(value, integrity=integrity, cache_key=cache_key, enc=old_enc)
        expected = T.to_output(P.frame_decode(stored, integrity=integrity, cache_key=cache_key, enc=old_enc))
    mode = "interop" if interop_mode else "frame"
    call = C.decode_call(stored, mode=mode, hex_input=rng.random() < 0.5, master_key_hex=new_key, previous=previous,
                         tenant=old_enc.tenant, cache_key=cache_key)
    inputs = _enc_inputs(old_enc, cache_key, mode=mode, integrity=integrity, new_master_key_hex=new_key,
                         previous_keys_hex=list(previous), value=_value_inputs(T.dumps(expected)))
    return Case(index, inputs, [call], lambda results: _compare_values(expected, results[0], f"decode ({mode}, rotated keyring)"))


@check("rotation_cpp_to_py", 25, "`cachekit encode` with the OLD key -> cachekit-py reads with keyring NEW + previous OLD")
def _rotation_cpp_to_py(rng: random.Random, index: int) -> Case:
    interop_mode = rng.random() < 0.4
    old_enc = _gen_encryption(rng, allow_extractor=not interop_mode)
    new_key, previous = _rotation_keys(rng, old_enc.master_key_hex)
    reader = P.Encryption(new_key, old_enc.tenant, old_enc.tenant_source, previous)
    integrity = rng.random() < 0.7
    profile = G.INTEROP_VALUE_CLI if interop_mode else G.STORED_CLI
    value, value_json = _bounded_json(rng, lambda: G.gen_value(rng, profile), **_input_opts(rng))
    cache_key = _interop_cache_key(rng) if interop_mode else _gen_cache_key(rng)
    hex_output = rng.random() < 0.5
    mode = "interop" if interop_mode else "frame"
    call = C.encode_call(value_json, mode=mode, integrity=integrity, hex_output=hex_output,
                         master_key_hex=old_enc.master_key_hex, tenant=old_enc.tenant, cache_key=cache_key)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, f"encode ({mode}, old key)")]
        got = r.binary(hex_output)
        if interop_mode:
            return _verify_cpp_encrypted_interop(value, got, enc=old_enc, reader=reader, cache_key=cache_key)
        return _verify_cpp_encrypted_frame(value, got, enc=old_enc, reader=reader, cache_key=cache_key,
                                           integrity=integrity)

    inputs = _enc_inputs(old_enc, cache_key, mode=mode, integrity=integrity, new_master_key_hex=new_key,
                         previous_keys_hex=list(previous), value=_value_inputs(value_json))
    return Case(index, inputs, [call], verify)


@check("encrypted_rejects", 20, "ciphertext cachekit-py refuses (wrong key/tenant/cache key, tampered) makes `cachekit decode` exit 1")
def _encrypted_rejects(rng: random.Random, index: int) -> Case:
    interop_mode = rng.random() < 0.4
    enc = _gen_encryption(rng, allow_extractor=False)
    cache_key = _interop_cache_key(rng) if interop_mode else _gen_cache_key(rng)
    integrity = rng.random() < 0.7
    value = G.gen_value(rng, G.INTEROP_VALUE_PY if interop_mode else G.STORED_PY)
    if interop_mode:
        stored = P.interop_encode(value, cache_key=cache_key, enc=enc)
    else:
        stored = P.frame_encode(value, integrity=integrity, cache_key=cache_key, enc=enc)
    # A single-tenant frame reader takes the tenant from the frame header (cachekit-py does), so a
    # wrong --tenant is only a rejection case in interop mode, where the reader's tenant is all there is.
    kinds = ["wrong_key", "wrong_cache_key", "tamper_ciphertext", "truncate"] + (["wrong_tenant"] if interop_mode else [])
    kind = rng.choice(kinds)
    key, tenant, read_key, data = enc.master_key_hex, enc.tenant, cache_key, stored
    if kind == "wrong_key":
        key = G.gen_master_key_hex(rng)
    elif kind == "wrong_cache_key":
        read_key = cache_key + rng.choice(["x", ":", " "])
    elif kind == "wrong_tenant":
        tenant = str(G.gen_uuid(rng)) if tenant == "default" else "default"
    elif kind == "tamper_ciphertext":
        pos = len(stored) - 1 - rng.randrange(0, 40)
        data = stored[:pos] + bytes([stored[pos] ^ (1 << rng.randrange(8))]) + stored[pos + 1:]
    else:
        data = stored[: len(stored) - rng.randrange(1, 17)]
    mode = "interop" if interop_mode else "frame"
    reader = P.Encryption(key, tenant, "deployment_uuid" if tenant != "default" else "default")
    try:
        if interop_mode:
            P.interop_decode(data, cache_key=read_key, enc=reader)
        else:
            P.frame_decode(data, integrity=integrity, cache_key=read_key, enc=reader)
        py_error = None
    except Exception as e:  # noqa: BLE001
        py_error = f"{type(e).__name__}: {e}"
    call = C.decode_call(data, mode=mode, hex_input=True, master_key_hex=key, tenant=tenant, cache_key=read_key)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if py_error is None:
            return [Finding("harness", "harness", f"cachekit-py accepted a {kind} case meant to be rejected")]
        if r.returncode != 1:
            return [Finding("mismatch", "accepts-invalid",
                            f"decode should exit 1 ({mode}, {kind}; cachekit-py: {py_error[:160]}); got {r.describe()}",
                            {"stdout": r.text()[:400]})]
        return []

    return Case(index, _enc_inputs(enc, cache_key, mode=mode, kind=kind, read_master_key_hex=key, read_tenant=tenant,
                                   read_cache_key=read_key), [call], verify)


# --- g. ByteStorage envelopes ----------------------------------------------------------------


def _gen_format(rng: random.Random) -> str | None:
    """None: let `envelope wrap` use its default ("msgpack")."""
    bucket = rng.randrange(8)
    if bucket <= 2:
        return "msgpack" if bucket else None
    if bucket == 3:
        return rng.choice(["dataframe", "series", "json", "orjson", "arrow"])
    if bucket == 4:
        return ""
    if bucket == 5:
        return "".join(rng.choice(string.ascii_letters) for _ in range(rng.choice([31, 32, 256, 300])))
    return G.argv_text(G.gen_str(rng, length=rng.randrange(1, 40))) or "x"


def _gen_payload(rng: random.Random) -> bytes:
    if rng.random() < 0.05:
        return G.gen_bytes(rng, length=rng.randrange(100_000, 400_000))
    if rng.random() < 0.3:
        return P.standard_payload(G.gen_value(rng, G.STORED_PY), integrity=False)  # real msgpack documents
    return G.gen_bytes(rng, 70_000)


@check("envelope_py_to_cpp", 50, "cachekit-py ByteStorage.store (bin and legacy int-array) -> `cachekit envelope unwrap`")
def _envelope_py_to_cpp(rng: random.Random, index: int) -> Case:
    data, fmt = _gen_payload(rng), _gen_format(rng)
    envelope = P.envelope_wrap(data, "msgpack" if fmt is None else fmt)
    legacy = rng.random() < 0.15 and len(data) < 20_000
    if legacy:
        envelope = P.legacy_envelope(envelope)
        assert P.envelope_unwrap(envelope)[0] == data
    hex_io = rng.random() < 0.5
    call = C.envelope_unwrap_call(envelope, hex_io)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "envelope unwrap")]
        got = r.binary(hex_io)
        if got != data:
            return [Finding("mismatch", "envelope-data", "unwrapped bytes differ", _bytes_detail(data, got))]
        return []

    return Case(index, {"format": fmt, "legacy": legacy, "data_len": len(data), "envelope_hex": envelope.hex()[:4000]},
                [call], verify)


@check("envelope_cpp_to_py", 50, "`cachekit envelope wrap` -> cachekit-py ByteStorage.retrieve; bytes compared")
def _envelope_cpp_to_py(rng: random.Random, index: int) -> Case:
    data, fmt = _gen_payload(rng), _gen_format(rng)
    expected_fmt = "msgpack" if fmt is None else fmt
    py_envelope = P.envelope_wrap(data, expected_fmt)
    hex_io = rng.random() < 0.5
    call = C.envelope_wrap_call(data, fmt, hex_io)

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if not r.ok:
            return [_cli_failed(r, "envelope wrap")]
        got = r.binary(hex_io)
        try:
            out, out_fmt = P.envelope_unwrap(got)
        except Exception as e:  # noqa: BLE001
            return [Finding("mismatch", "py-rejects", f"ByteStorage.retrieve refuses the C++ envelope: {e}",
                            _bytes_detail(py_envelope, got))]
        findings = []
        if out != data or out_fmt != expected_fmt:
            findings.append(Finding("mismatch", "envelope-data", f"retrieve gives different data/format ({out_fmt!r})",
                                    _bytes_detail(data, out)))
        return findings + compare_envelopes(py_envelope, got, "envelope bytes vs ByteStorage.store")

    return Case(index, {"format": fmt, "data_len": len(data), "data_hex": data.hex()[:4000]}, [call], verify)


@check("envelope_rejects", 20, "envelopes ByteStorage.retrieve refuses (checksum, size, ratio, truncation) make `cachekit envelope unwrap` exit 1")
def _envelope_rejects(rng: random.Random, index: int) -> Case:
    data = G.gen_bytes(rng, length=rng.randrange(1, 3000))
    fields = P.envelope_fields(P.envelope_wrap(data))
    kind = rng.choice(["checksum", "size_smaller", "size_larger", "ratio_bomb", "truncate", "lz4_garbage", "empty_block"])
    if kind == "checksum":
        i = rng.randrange(8)
        fields[1][i] = (fields[1][i] + 1 + rng.randrange(255)) % 256
    elif kind == "size_smaller":
        fields[2] = max(0, fields[2] - rng.randrange(1, 5))
    elif kind == "size_larger":
        fields[2] = fields[2] + rng.randrange(1, 5)
    elif kind == "ratio_bomb":
        fields[2] = len(fields[0]) * 1000 + 1 + rng.randrange(0, 1000)
    elif kind == "lz4_garbage":
        fields[0] = bytes([0xF0]) + rng.randbytes(rng.randrange(1, 10))
    elif kind == "empty_block":
        fields[0] = b""
    envelope = msgpack.packb(fields, use_bin_type=True)
    if kind == "truncate":
        envelope = envelope[: len(envelope) - rng.randrange(1, min(10, len(envelope)))]
    try:
        P.envelope_unwrap(envelope)
        py_error = None
    except Exception as e:  # noqa: BLE001
        py_error = f"{type(e).__name__}: {e}"

    def verify(results: list[C.CliResult]) -> list[Finding]:
        r = results[0]
        if py_error is None:
            return [Finding("harness", "harness", f"ByteStorage accepted a {kind} envelope meant to be rejected")]
        if r.returncode != 1:
            return [Finding("mismatch", "accepts-invalid",
                            f"envelope unwrap should exit 1 ({kind}; cachekit-py: {py_error[:160]}); got {r.describe()}",
                            {"stdout": r.text()[:400]})]
        return []

    return Case(index, {"kind": kind, "envelope_hex": envelope.hex()[:4000]}, [C.envelope_unwrap_call(envelope, True)], verify)
