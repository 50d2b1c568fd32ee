#!/usr/bin/env bash
# Creates .venv with the pinned cachekit-py release the cross-checks run against.
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
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$requirements"
echo "$want" > "$stamp"
