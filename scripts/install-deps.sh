#!/usr/bin/env bash
# Installs the Debian packages cachekit needs, and only those that are missing.
# Idempotent: a second run with everything present does no network work. With a group name as
# the argument, only what one developer target needs besides (kept out of the test path):
#   docs      doxygen, for `make docs`
#   coverage  gcovr, for `make test-cov`
#   tidy      clang-tidy (with run-clang-tidy), for `make check`
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  liblz4-dev libxxhash-dev libssl-dev libsodium-dev
  libmsgpack-cxx-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libhiredis-dev libmemcached-dev libcurl4-openssl-dev prometheus-cpp-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  clang libclang-rt-14-dev libfuzzer-14-dev clang-format
  python3 python3-venv
  redis-server memcached
)

case "${1:-}" in
  "") ;;
  docs) packages=(doxygen) ;;
  coverage) packages=(gcovr) ;;
  tidy) packages=(clang-tidy) ;;
  *)
    echo "install-deps: unknown group '$1'; use docs, coverage or tidy, or no argument for the build" >&2
    exit 2
    ;;
esac

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
