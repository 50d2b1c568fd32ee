"""Cross-check of the file backend's on-disk format with cachekit-py's FileBackend (pinned 0.24.1).

Two directions, both against the real cachekit-py package:

    python tests/live/file_backend_check.py generate DIR
        cachekit-py writes every case below into DIR (a fresh directory) with time.time() fixed at
        NOW, and prints each case's file name and exact file bytes. These are the constants
        embedded in tests/integration/file_backend_test.cpp (`python_written`); rerun this to
        regenerate them.

    python tests/live/file_backend_check.py read DIR
        cachekit-py reads the cases that the C++ file_backend wrote into DIR, and checks values and
        TTLs. Produce DIR with the C++ test:
            CACHEKIT_FILE_CHECK_DIR=/tmp/ck-files build/tests/cachekit_integration_tests \
                --gtest_filter='file_backend.writes_the_python_cross_check_cases'
            python tests/live/file_backend_check.py read /tmp/ck-files

Exit status 0 when everything matches, 1 on a mismatch, 2 on a usage error. Uses .venv/bin/python
or /tmp/ckvenv/bin/python (any interpreter with cachekit 0.24.1 installed).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import os
import sys
from unittest import mock

PINNED_VERSION = "0.24.1"

# time.time() while the cases are written: a fractional second, so the expiry shows int(now + ttl).
NOW = 1_700_000_000.75
# time.time() when TTLs are read back.
LATER = 1_700_000_010.25

# (key, value, ttl) — keep in sync with `cross_check_cases` in file_backend_test.cpp.
CASES: list[tuple[str, bytes, int | None]] = [
    ("ns:app:func:m.f:args:abc:v1", b"hello from python", None),
    ("user:42", bytes([0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]), 60),
    ("cl\u00e9:\u65e5\u672c:\U0001f642", b"", 0),
    ("max-ttl", b"x", 315_360_000),
    ("pattern", bytes(i % 251 for i in range(300)), 3600),
]

# Remaining TTL at LATER, as cachekit-py's get_ttl reports it (None: no expiry).
EXPECTED_TTL_AT_LATER = [None, 49, None, 315_359_989, 3589]


def file_name(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


def make_backend(directory: str):
    from cachekit.backends.file import FileBackend, FileBackendConfig

    return FileBackend(FileBackendConfig(cache_dir=directory))


def generate(directory: str) -> int:
    backend = make_backend(directory)
    out = []
    with mock.patch("time.time", return_value=NOW):
        for key, value, ttl in CASES:
            backend.set(key, value, ttl=ttl)
    for key, value, ttl in CASES:
        name = file_name(key)
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        out.append({"key": key, "ttl": ttl, "file": name, "hex": data.hex()})
    print(json.dumps({"cachekit": importlib.metadata.version("cachekit"), "now": NOW, "cases": out}, indent=2))
    return 0


def read(directory: str) -> int:
    backend = make_backend(directory)
    failures = 0
    with mock.patch("time.time", return_value=LATER):
        for (key, value, _), expected_ttl in zip(CASES, EXPECTED_TTL_AT_LATER):
            got = backend.get(key)
            ttl = asyncio.run(backend.get_ttl(key))
            ok = got == value and ttl == expected_ttl
            failures += not ok
            shown = got.hex() if got is not None else None
            print(f"{'ok  ' if ok else 'FAIL'} {key!r}: value={shown} ttl={ttl} (expected ttl {expected_ttl})")
    print(f"{len(CASES) - failures}/{len(CASES)} cases read back by cachekit-py {importlib.metadata.version('cachekit')}")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("generate", "read"):
        print(__doc__, file=sys.stderr)
        return 2
    version = importlib.metadata.version("cachekit")
    if version != PINNED_VERSION:
        print(f"warning: cachekit {version} installed, constants were produced with {PINNED_VERSION}", file=sys.stderr)
    directory = argv[2]
    if argv[1] == "generate":
        if os.path.exists(directory) and os.listdir(directory):
            print(f"{directory} is not empty; generate needs a fresh directory", file=sys.stderr)
            return 2
        return generate(directory)
    return read(directory)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
