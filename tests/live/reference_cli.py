"""The CLI contract implemented with cachekit-py itself: a stand-in for the C++ `cachekit` binary
that tests this harness (``run_live_checks.py --cli tests/live/reference_cli.sh``). Every check
must pass against it, and a broken stand-in (``REFERENCE_CLI_FAULT=...``) must be caught.

Not part of the product; it only has to be as good as the contract the harness drives.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import python_sdk as P  # noqa: E402
import tagged_json as T  # noqa: E402

FAULT = os.environ.get("REFERENCE_CLI_FAULT", "")


def _encryption(args: argparse.Namespace, previous: tuple[str, ...] = ()) -> P.Encryption | None:
    if args.master_key_hex is None:
        return None
    tenant = args.tenant
    if tenant == "default":
        source = "default"
    else:
        try:
            source = "deployment_uuid" if str(uuid.UUID(tenant)) == tenant else "extractor"
        except ValueError:
            source = "extractor"
    return P.Encryption(args.master_key_hex, tenant, source, previous)


def _read(args: argparse.Namespace) -> bytes:
    raw = sys.stdin.buffer.read()
    return bytes.fromhex(raw.decode().strip()) if args.hex else raw


def _write(args: argparse.Namespace, data: bytes) -> None:
    if "flip-output" in FAULT and data:
        data = data[:-1] + bytes([data[-1] ^ 1])
    if args.hex:
        sys.stdout.write(data.hex() + "\n")
    else:
        sys.stdout.buffer.write(data)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--hex", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("key")
    k.add_argument("--namespace")
    k.add_argument("--function", required=True)
    k.add_argument("--no-integrity", action="store_true")
    k.add_argument("--args", default="[]")
    k.add_argument("--kwargs")
    ik = sub.add_parser("interop-key")
    ik.add_argument("--namespace", required=True)
    ik.add_argument("--operation", required=True)
    ik.add_argument("--args", default="[]")
    env = sub.add_parser("envelope")
    env_sub = env.add_subparsers(dest="envcmd", required=True)
    w = env_sub.add_parser("wrap")
    w.add_argument("--format", default="msgpack")
    w.add_argument("--hex", action="store_true")
    u = env_sub.add_parser("unwrap")
    u.add_argument("--hex", action="store_true")
    for name in ("encode", "decode"):
        c = sub.add_parser(name)
        if name == "encode":
            c.add_argument("--value", required=True)
            c.add_argument("--no-integrity", action="store_true")
        else:
            c.add_argument("--previous-key-hex", action="append", default=[])
            c.add_argument("--explain", action="store_true")
        c.add_argument("--mode", choices=["frame", "interop"])
        c.add_argument("--master-key-hex")
        c.add_argument("--tenant")
        c.add_argument("--cache-key")
        c.add_argument("--hex", action="store_true")
    a = p.parse_args()
    try:
        if a.cmd == "key":
            args = T.from_input(json.loads(a.args))
            kwargs = T.from_input(json.loads(a.kwargs)) if a.kwargs else {}
            key = P.default_key(a.namespace, a.function, args, kwargs, not a.no_integrity)
            if "key" in FAULT:
                key = key.replace(":1s", ":0s")
            print(key)
        elif a.cmd == "interop-key":
            print(P.interop_key(a.namespace, a.operation, T.from_input(json.loads(a.args))))
        elif a.cmd == "envelope":
            data = _read(a)
            if a.envcmd == "wrap":
                _write(a, P.envelope_wrap(data, a.format))
            else:
                _write(a, P.envelope_unwrap(data)[0])
        elif a.cmd == "encode":
            value = T.from_input(json.loads(a.value))
            enc = _encryption(a)
            if a.mode == "interop":
                out = P.interop_encode(value, cache_key=a.cache_key or "k", enc=enc)
            else:
                out = P.frame_encode(value, integrity=not a.no_integrity, cache_key=a.cache_key or "k", enc=enc)
            _write(a, out)
        else:
            data = _read(a)
            enc = _encryption(a, tuple(a.previous_key_hex))
            mode = a.mode or ("frame" if data[:2] == b"CK" else "interop")
            if mode == "interop":
                value = P.interop_decode(data, cache_key=a.cache_key or "k", enc=enc)
            else:
                header = json.loads(P.split_frame(data)[0])
                integrity = bool(header["m"].get("compressed"))
                value = P.frame_decode(data, integrity=integrity, cache_key=a.cache_key or "k", enc=enc)
            out = T.to_output(value)
            if "float" in FAULT:
                out = json.loads(json.dumps(out).replace('"$float": "0.0"', '"$float": "0"'))
            print(json.dumps(out, ensure_ascii=False))
    except Exception as e:  # noqa: BLE001 — exit 1 on any bad input, as the contract says
        print(f"cachekit: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    P.isolate_environment()
    sys.exit(main())
