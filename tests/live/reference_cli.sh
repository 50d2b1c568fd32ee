#!/usr/bin/env bash
# Runs reference_cli.py (cachekit-py behind the CLI contract) with the live-check venv.
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../../.venv/bin/python" "$here/reference_cli.py" "$@"
