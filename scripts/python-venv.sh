#!/usr/bin/env bash
# Creates .venv with the pinned cachekit-py release the cross-checks (and bench/peers) run
# against. Every package, transitive dependencies included, is pinned by version and sha256 in
# tests/live/requirements.txt (generated from requirements.in by pip-compile --generate-hashes),
# and pip refuses anything else (--require-hashes), so a changed or substituted download fails
# the install instead of running.
# Re-running is cheap: pip is only called when the requirements changed.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=tests/live/requirements.txt
venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
python3 -m venv "$venv"
# The venv's own pip (from ensurepip) is used as is: upgrading it would fetch an unpinned
# package.
"$venv/bin/python" -m pip install --quiet --require-hashes --no-deps -r "$requirements"
"$venv/bin/python" -m pip check
echo "$want" > "$stamp"
