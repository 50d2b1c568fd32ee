"""The C++ CLI's live commands on entries cachekit-py 0.24.1 wrote: `keys` finds a function's
keys through cachekit-py's key registry (BLAKE3-named set), `get`/`inspect` decode them, an
entry sealed by `@cache.secure` opens with the master key and is refused with another one, and
after `invalidate` cachekit-py runs the function again.

    .venv/bin/python tests/live/cli_live_check.py --cli build/tools/cli/cachekit

redis-server is started on a free loopback port and stopped at exit. Exit status: 0 every check
passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import tagged_json  # noqa: E402
from cache_interop import start_redis  # noqa: E402

KEY = "5cf9905fe95b6033a093c02a288b86c1389300cda4aea69c330676c9d6839a2c"
WRONG_KEY = "0e10303a6ad2f762254f02a9656b8405a89ded047113c9a59e8ff070b9eefc57"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="path of the cachekit binary")
    args = parser.parse_args()
    server = start_redis()
    failures: list[str] = []
    try:
        url = f"redis://127.0.0.1:{server.port}/0"
        base_env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CACHEKIT_")}
        base_env.pop("REDIS_URL", None)
        py_env = dict(base_env, REDIS_URL=url, CLI_LIVE_MASTER_KEY=KEY, PYTHONDONTWRITEBYTECODE="1")

        def python_side() -> dict:
            out = subprocess.run([sys.executable, "-c", "import cli_live_functions as f; f.main()"],
                                 cwd=HERE, env=py_env, capture_output=True, text=True, timeout=60)
            if out.returncode != 0:
                raise SystemExit(f"cli live check: the Python side failed:\n{out.stderr}")
            return json.loads(out.stdout.strip().splitlines()[-1])

        def cli(*argv: str, key: str | None = None) -> subprocess.CompletedProcess:
            env = dict(base_env, REDIS_URL=url)
            if key is not None:
                env["CACHEKIT_MASTER_KEY"] = key
            return subprocess.run([args.cli, *argv], env=env, capture_output=True, text=True,
                                  timeout=30)

        def check(name: str, ok: bool, detail: str) -> None:
            print(("ok   " if ok else "FAIL ") + name)
            if not ok:
                failures.append(name)
                print("     " + detail.replace("\n", "\n     "))

        first = python_side()
        keys = cli("keys", "--function", "cli_live_functions.get_user", "--namespace", "clilive")
        listed = keys.stdout.split()
        check("keys_lists_the_three_registry_keys", keys.returncode == 0 and len(listed) == 3
              and "3 members, 3 with a live entry" in keys.stderr, keys.stdout + keys.stderr)
        for key in listed:
            got = cli("get", key)
            want = None
            for uid, value in first["values"].items():
                probe = cli("key", "--namespace", "clilive", "--function",
                            "cli_live_functions.get_user", "--args", f"[{uid}]")
                if probe.stdout.strip() == key:
                    want = value
            diff = (tagged_json.first_difference(tagged_json.to_output(want), json.loads(got.stdout))
                    if got.returncode == 0 and want is not None else "no value")
            check(f"get_decodes_{key[-12:]}", diff is None, f"{diff}\n{got.stderr}")
        inspect = cli("inspect", listed[0]) if listed else None
        check("inspect_shows_a_cachekit_py_frame",
              inspect is not None and inspect.returncode == 0
              and "key binding:     none (as cachekit-py writes)" in inspect.stdout
              and "serializer:      default" in inspect.stdout,
              inspect.stdout + inspect.stderr if inspect else "no key")

        secret_keys = cli("keys", "--function", "cli_live_functions.get_secret", "--namespace",
                          "clilivesec").stdout.split()
        check("keys_lists_the_secure_key", len(secret_keys) == 1, str(secret_keys))
        if secret_keys:
            right = cli("get", secret_keys[0], key=KEY)
            check("secure_entry_opens_with_the_master_key",
                  right.returncode == 0 and right.stdout.strip() == json.dumps(first["secret"]),
                  right.stdout + right.stderr)
            wrong = cli("get", secret_keys[0], key=WRONG_KEY)
            check("secure_entry_is_refused_with_another_key",
                  wrong.returncode == 1 and wrong.stdout == ""
                  and "key fingerprint not in the keyring" in wrong.stderr, wrong.stderr)

        inv = cli("invalidate", "--function", "cli_live_functions.get_user", "--namespace", "clilive")
        check("invalidate_deletes_the_function_entries",
              inv.returncode == 0 and inv.stdout.startswith("invalidated 3 entries"), inv.stdout + inv.stderr)
        again = python_side()
        check("cachekit_py_runs_the_function_again_after_invalidate",
              again["calls"]["get_user"] == 3 and again["calls"]["get_secret"] == 0, json.dumps(again["calls"]))
    finally:
        server.stop()
    print(f"cli live check: {'all passed' if not failures else f'{len(failures)} failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
