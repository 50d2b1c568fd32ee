#!/usr/bin/env bash
# Checks that a shared cachekit (BUILD_SHARED_LIBS=ON) exports only its contract: every cachekit
# symbol in the dynamic symbol table of libcachekit*.so is named in include/cachekit/. A name
# found only in src/ means an internal declaration carries CACHEKIT_EXPORT; tests, the CLI and the
# benches reach internals through cachekit_internal instead.
#   check-shared-exports.sh BUILD_DIR
set -euo pipefail
build="${1:?usage: check-shared-exports.sh BUILD_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
mapfile -t libraries < <(find "$build/src" -name 'libcachekit*.so' | sort)
if [[ ${#libraries[@]} -eq 0 ]]; then
  echo "check-shared-exports: no libcachekit*.so under $build/src (configure with -DBUILD_SHARED_LIBS=ON)" >&2
  exit 1
fi
status=0
for library in "${libraries[@]}"; do
  # The first name below cachekit::v0 (or cachekit::v0::detail) of each exported symbol: a type,
  # a function or a variable, e.g. "typeinfo for cachekit::v0::error" -> error.
  mapfile -t names < <(nm -D --defined-only -C "$library" |
    grep -o 'cachekit::v0::\(detail::\)\?[A-Za-z_][A-Za-z0-9_]*' |
    sed 's/.*:://' | sort -u)
  missing=()
  for name in "${names[@]}"; do
    if ! grep -rqw -- "$name" "$root/include/cachekit"; then
      missing+=("$name")
    fi
  done
  echo "$(basename "$library"): $(nm -D --defined-only "$library" | grep -c ' [TWDBVRu] ') symbols," \
    "${#names[@]} cachekit names, all in include/cachekit: $([[ ${#missing[@]} -eq 0 ]] && echo yes || echo no)"
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "  exported but not in include/cachekit (drop their CACHEKIT_EXPORT): ${missing[*]}" >&2
    status=1
  fi
done
exit "$status"
