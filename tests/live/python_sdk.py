"""cachekit-py 0.24.1 driven in-process: the Python side of every live cross-check.

Only cachekit's own entry points are used (the ones @cache uses), so what these functions return
is what a real cachekit-py deployment writes and accepts:

    keys        CacheOperationHandler.get_cache_key, cachekit.interop.generate_interop_key
    values      CacheSerializationHandler.serialize_data / deserialize_data (CK frame, interop)
    envelopes   cachekit._rust_serializer.ByteStorage (the Rust extension cachekit ships)

Key rotation goes through the settings, as in production: an encryption-enabled handler reads
its decrypt-only keys from CACHEKIT_PREVIOUS_MASTER_KEYS (see ``previous_master_keys``).

Not thread-safe: rotation changes process-wide settings. Call from one thread.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import msgpack

from cachekit import interop
from cachekit._rust_serializer import ByteStorage, TenantKeys, ZeroKnowledgeEncryptor, derive_tenant_keys
from cachekit.cache_handler import CacheOperationHandler, CacheSerializationHandler
from cachekit.config.singleton import reset_settings
from cachekit.decorators.tenant_context import ArgumentNameExtractor
from cachekit.key_generator import CacheKeyGenerator

PINNED_VERSION = "0.24.1"


def isolate_environment() -> None:
    """Drop CACHEKIT_* variables from the environment so the host's config cannot leak in."""
    for name in [n for n in os.environ if n.upper().startswith("CACHEKIT_")]:
        del os.environ[name]
    reset_settings()
    logging.getLogger("cachekit").setLevel(logging.CRITICAL)
    logging.getLogger().setLevel(logging.CRITICAL)


def check_version() -> str:
    import importlib.metadata

    version = importlib.metadata.version("cachekit")
    if version != PINNED_VERSION:
        raise SystemExit(
            f"live checks need cachekit=={PINNED_VERSION} (tests/live/requirements.txt), found {version}; "
            "run: bash scripts/python-venv.sh"
        )
    return version


# --- keys -----------------------------------------------------------------------------------

_KEYS = CacheOperationHandler(CacheSerializationHandler("default", encryption=False), CacheKeyGenerator())


def _function_named(name: str) -> Any:
    """A function whose ``module.qualname`` is ``name`` (the key reads only those two)."""

    def f() -> None: ...

    module, _, qualname = name.partition(".")
    f.__module__ = module
    f.__qualname__ = qualname
    if f"{f.__module__}.{f.__qualname__}" != name:
        raise ValueError(f"function name {name!r} needs a '.' between module and qualname")
    return f


def default_key(namespace: str | None, function: str, args: list, kwargs: dict, integrity: bool) -> str:
    """The key @cache(namespace=..., integrity_checking=...) computes for ``function(*args, **kwargs)``."""
    return _KEYS.get_cache_key(_function_named(function), tuple(args), dict(kwargs), namespace, integrity)


def default_key_preimage(args: list, kwargs: dict) -> bytes:
    """The MessagePack bytes hashed into the ``args:`` segment (for failure reports)."""
    kg = _KEYS.key_generator
    return msgpack.packb(
        [[kg._normalize(a) for a in args], {k: kg._normalize(v) for k, v in sorted(kwargs.items())}],
        use_bin_type=True,
        strict_types=True,
    )


def interop_key(namespace: str, operation: str, args: list) -> str:
    return interop.generate_interop_key(namespace, operation, list(args))


def interop_key_preimage(args: list) -> bytes:
    return interop.canonical_args_bytes(list(args))


# --- encryption configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class Encryption:
    """How a value is encrypted. ``tenant`` is what the CLI gets with --tenant.

    ``tenant_source`` picks how cachekit-py arrives at that tenant:
      "default"          single-tenant, no deployment UUID ⇒ the literal "default"
      "deployment_uuid"  single-tenant with deployment_uuid=tenant (canonical UUID)
      "extractor"        multi-tenant, ArgumentNameExtractor("tenant_id"); the tenant string is used raw
    """

    master_key_hex: str
    tenant: str
    tenant_source: str = "default"
    previous_keys_hex: tuple[str, ...] = field(default_factory=tuple)


@contextlib.contextmanager
def previous_master_keys(keys_hex: tuple[str, ...]) -> Iterator[None]:
    """CACHEKIT_PREVIOUS_MASTER_KEYS set for the duration (how cachekit-py is told about old keys)."""
    if not keys_hex:
        yield
        return
    os.environ["CACHEKIT_PREVIOUS_MASTER_KEYS"] = ",".join(keys_hex)
    reset_settings()
    try:
        yield
    finally:
        del os.environ["CACHEKIT_PREVIOUS_MASTER_KEYS"]
        reset_settings()


def _handler(*, interop_mode: bool, integrity: bool, enc: Encryption | None) -> CacheSerializationHandler:
    if enc is None:
        return CacheSerializationHandler(
            "default", encryption=False, enable_integrity_checking=integrity, interop_mode=interop_mode
        )
    common = dict(
        encryption=True,
        master_key=enc.master_key_hex,
        enable_integrity_checking=integrity,
        encryption_fail_closed=True,
        interop_mode=interop_mode,
    )
    if enc.tenant_source == "extractor":
        return CacheSerializationHandler("default", tenant_extractor=ArgumentNameExtractor("tenant_id"), **common)
    uuid = enc.tenant if enc.tenant_source == "deployment_uuid" else None
    if enc.tenant_source not in ("default", "deployment_uuid"):
        raise ValueError(f"unknown tenant_source {enc.tenant_source!r}")
    if enc.tenant_source == "default" and enc.tenant != "default":
        raise ValueError("tenant_source 'default' means tenant 'default'")
    return CacheSerializationHandler("default", single_tenant_mode=True, deployment_uuid=uuid, **common)


def _tenant_kwargs(enc: Encryption | None) -> dict:
    return {"tenant_id": enc.tenant} if enc is not None and enc.tenant_source == "extractor" else {}


# --- stored values --------------------------------------------------------------------------


def frame_encode(value: Any, *, integrity: bool, cache_key: str, enc: Encryption | None = None) -> bytes:
    """The bytes @cache stores for ``value`` (CK v3 frame around an envelope, msgpack or ciphertext)."""
    h = _handler(interop_mode=False, integrity=integrity, enc=enc)
    return h.serialize_data(value, kwargs=_tenant_kwargs(enc), cache_key=cache_key)


def frame_decode(data: bytes, *, integrity: bool, cache_key: str, enc: Encryption | None = None) -> Any:
    """What @cache returns for stored ``data``; previous keys from ``enc`` form the keyring."""
    with previous_master_keys(enc.previous_keys_hex if enc else ()):
        h = _handler(interop_mode=False, integrity=integrity, enc=enc)
        return h.deserialize_data(data, cache_key=cache_key, kwargs=_tenant_kwargs(enc))


def interop_encode(value: Any, *, cache_key: str, enc: Encryption | None = None) -> bytes:
    h = _handler(interop_mode=True, integrity=True, enc=enc)
    return h.serialize_data(value, cache_key=cache_key)


def interop_decode(data: bytes, *, cache_key: str, enc: Encryption | None = None) -> Any:
    with previous_master_keys(enc.previous_keys_hex if enc else ()):
        h = _handler(interop_mode=True, integrity=True, enc=enc)
        return h.deserialize_data(data, cache_key=cache_key)


def split_frame(data: bytes) -> tuple[bytes, bytes]:
    """(header JSON bytes, payload) of a CK v3 frame."""
    if data[:3] != b"CK\x03" or len(data) < 7:
        raise ValueError(f"not a CK v3 frame: starts {data[:8].hex()}")
    n = int.from_bytes(data[3:7], "big")
    return data[7 : 7 + n], data[7 + n :]


def legacy_json_frame(frame: bytes) -> bytes:
    """The same entry as the pre-v3 envelope: JSON {"data": base64, "metadata", "serializer"}."""
    header, payload = split_frame(frame)
    h = json.loads(header)
    return json.dumps({"data": base64.b64encode(payload).decode(), "metadata": h["m"], "serializer": h["s"]}).encode()


def padded_frame(frame: bytes, spaces: int) -> bytes:
    """The same frame with ``spaces`` ASCII spaces after the header JSON (counted in its length)."""
    header, payload = split_frame(frame)
    header += b" " * spaces
    return b"CK\x03" + len(header).to_bytes(4, "big") + header + payload


def serializer_frame(serializer: str, value: Any, *, integrity: bool) -> bytes:
    """The frame cachekit-py's ``serializer`` ("orjson", "auto", ...) writes for ``value``."""
    from cachekit.cache_handler import CacheSerializationHandler

    handler = CacheSerializationHandler(serializer_name=serializer, enable_integrity_checking=integrity)
    return handler.serialize_data(value, cache_key="k")


def standard_payload(value: Any, *, integrity: bool) -> bytes:
    """StandardSerializer output for ``value``: the envelope (integrity on) or plain msgpack."""
    return split_frame(frame_encode(value, integrity=integrity, cache_key="k"))[1]


def decrypt_payload(payload: bytes, *, enc: Encryption, cache_key: str, compressed: bool, interop_mode: bool) -> bytes:
    """The plaintext under a ciphertext (nonce‖ct‖tag), with the AAD cachekit-py builds.

    Used to compare what the C++ side encrypted with what cachekit-py would have encrypted.
    """
    keys: TenantKeys = derive_tenant_keys(bytes.fromhex(enc.master_key_hex), enc.tenant)
    parts = [enc.tenant.encode(), cache_key.encode(), b"msgpack", str(compressed).encode()]
    if not interop_mode:
        parts.append(b"msgpack")
    aad = b"\x03" + b"".join(len(p).to_bytes(4, "big") + p for p in parts)
    return bytes(ZeroKnowledgeEncryptor().decrypt_with_keys(payload, aad, keys))


def key_fingerprint(enc: Encryption) -> str:
    return derive_tenant_keys(bytes.fromhex(enc.master_key_hex), enc.tenant).encryption_fingerprint().hex()


# --- envelopes ------------------------------------------------------------------------------

_STORAGE = ByteStorage("msgpack")


def envelope_wrap(data: bytes, fmt: str = "msgpack") -> bytes:
    return bytes(_STORAGE.store(data, fmt))


def envelope_unwrap(envelope: bytes) -> tuple[bytes, str]:
    data, fmt = _STORAGE.retrieve(envelope)
    return bytes(data), fmt


def envelope_fields(envelope: bytes) -> list:
    """[compressed_data, checksum(8 ints), original_size, format] as msgpack reads them."""
    return msgpack.unpackb(envelope, raw=False)


def legacy_envelope(envelope: bytes) -> bytes:
    """The same envelope in the pre-0.4.0 form: compressed_data as an array of ints."""
    data, checksum, size, fmt = envelope_fields(envelope)
    return msgpack.packb([list(data), checksum, size, fmt], use_bin_type=True)
