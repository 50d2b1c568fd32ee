"""cachekit-py functions whose entries tests/live/cli_live_check.py reads with the C++ CLI.

Run in a child process with REDIS_URL set (cachekit-py's zero-config Redis: tenant-scoped keys
and the key registry):

    python -c "import cli_live_functions as f; f.main()"   # prints {"calls": ..., "values": ...}
"""

from __future__ import annotations

import json
import os

from cachekit import cache

CALLS = {"get_user": 0, "get_secret": 0}


@cache(ttl=300, namespace="clilive")
def get_user(uid: int) -> dict:
    CALLS["get_user"] += 1
    return {"id": uid, "name": f"user{uid}", "score": uid + 0.5, "tags": ["a", "b"]}


@cache.secure(master_key=os.environ["CLI_LIVE_MASTER_KEY"], ttl=300, namespace="clilivesec")
def get_secret(uid: int) -> str:
    CALLS["get_secret"] += 1
    return f"secret-{uid}"


def main() -> None:
    values = {str(uid): get_user(uid) for uid in (1, 2, 3)}
    secret = get_secret(7)
    print(json.dumps({"calls": CALLS, "values": values, "secret": secret}))
