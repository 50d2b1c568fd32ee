#!/usr/bin/env bash
# Builds and runs the consumer program (tests/consumer/main.cpp) one way a user would:
#   run.sh install      BUILD_DIR PREFIX              cmake --install of BUILD_DIR into PREFIX
#   run.sh package      PREFIX WORK_DIR CXX [COMPONENTS]  find_package(cachekit CONFIG) from PREFIX
#   run.sh pkgconfig    PREFIX WORK_DIR CXX [COMPONENTS]  the compiler with `pkg-config cachekit`
#                                                     (and cachekit-<component>) flags
#   run.sh deb          BUILD_DIR WORK_DIR CXX        cpack's .deb unpacked, then find_package
#   run.sh subdirectory SOURCE_DIR WORK_DIR CXX       add_subdirectory of the source tree (shared,
#                                                     no optional component), then its install
# Each program builds with -Wall -Wextra -Wpedantic -Werror at -O3 and must report an L1 hit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode="$1"
warnings=(-Wall -Wextra -Wpedantic -Werror)

configure_and_run() {  # WORK_DIR CXX cmake-args...
  local work="$1" cxx="$2"
  shift 2
  rm -rf "$work" && mkdir -p "$(dirname "$work")"
  cmake -S "$here" -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
    ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER="$CMAKE_CXX_COMPILER_LAUNCHER"} \
    "$@" >"$work.configure.log" 2>&1 || { cat "$work.configure.log"; return 1; }
  cmake --build "$work" --target app
  "$work/app"
}

case "$mode" in
  install)
    rm -rf "$3"
    cmake --install "$2" --prefix "$3" >/dev/null
    ;;
  package)
    configure_and_run "$3" "$4" -DCMAKE_PREFIX_PATH="$2" -DCACHEKIT_CONSUMER_MODE=package \
      -DCACHEKIT_CONSUMER_COMPONENTS="${5:-}"
    ;;
  pkgconfig)
    prefix="$2" work="$3" cxx="$4" module=cachekit defines=()
    for component in ${5:-}; do  # prometheus, io
      module+=" cachekit-$component"
      defines+=(-DCACHEKIT_CONSUMER_$(tr a-z A-Z <<<"$component"))
    done
    pcdir="$(dirname "$(find "$prefix" -name cachekit.pc -print -quit)")"
    rm -rf "$work" && mkdir -p "$work"
    # Without --static: the flags a shared build needs, or everything a static one needs.
    cflags="$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags "$module")"
    libs="$(PKG_CONFIG_PATH="$pcdir" pkg-config --libs "$module")"
    echo "pkg-config --cflags $module: $cflags"
    echo "pkg-config --libs $module:   $libs"
    # shellcheck disable=SC2086  # the flags are words
    "$cxx" -std=c++20 -O3 "${warnings[@]}" "${defines[@]}" $cflags "$here/main.cpp" -o "$work/app" \
      $libs -Wl,-rpath,"$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir cachekit)"
    "$work/app"
    ;;
  subdirectory)
    # add_subdirectory of the source tree, as a shared library (BUILD_SHARED_LIBS=ON) without
    # the optional components: this checks that the public API is exported from a
    # -fvisibility=hidden build and that the library builds without libmemcached,
    # prometheus-cpp and spdlog. That tree is then installed, and find_package (which must
    # refuse COMPONENTS memcached prometheus, with the option to build each) and pkg-config are
    # checked against it. The library is compiled once more here: without optimization (no
    # build type), for time; the -O3 header warnings are the installed-tree builds' job.
    source="$2" work="$3" cxx="$4"
    configure_and_run "$work" "$cxx" -DCACHEKIT_CONSUMER_MODE=subdirectory \
      -DCACHEKIT_SOURCE_DIR="$source" -DCMAKE_BUILD_TYPE= -DBUILD_SHARED_LIBS=ON \
      -DCACHEKIT_WITH_MEMCACHED=OFF -DCACHEKIT_WITH_PROMETHEUS=OFF -DCACHEKIT_WITH_SPDLOG=OFF \
      -DCACHEKIT_WITH_IO=OFF \
      -DCACHEKIT_INSTALL=ON
    # Captured first: `ldd | grep -q` under pipefail fails whenever grep exits before ldd has
    # written everything (ldd then dies of SIGPIPE), which made this check fail at random.
    libraries=$(ldd "$work/app")
    if ! grep -q 'libcachekit\.so' <<<"$libraries"; then
      echo "run.sh: the app is not linked against libcachekit.so" >&2
      exit 1
    fi
    cmake --install "$work/cachekit" --prefix "$work/prefix" >/dev/null
    bash "$0" package "$work/prefix" "$work/package" "$cxx"
    bash "$0" pkgconfig "$work/prefix" "$work/pkgconfig" "$cxx"
    log="$work/package_without.log"
    refused=yes
    bash "$0" package "$work/prefix" "$work/package_without" "$cxx" "memcached prometheus io" \
      >"$log" 2>&1 && refused=no
    joined="$(tr -s ' \n' '  ' <"$log")"  # CMake wraps the message: compare it unwrapped
    for name in memcached prometheus io; do
      option="-DCACHEKIT_WITH_$(tr a-z A-Z <<<"$name")=ON"
      if [[ $refused == no || "$joined" != *"without the $name component: rebuild it with $option"* ]]
      then
        cat "$log"
        echo "run.sh: find_package(cachekit COMPONENTS $name) should fail with $option" >&2
        exit 1
      fi
    done
    echo "find_package(cachekit REQUIRED COMPONENTS memcached prometheus io) refused, as it should"
    for header in prometheus cachekitio_backend; do
      if [[ -e "$work/prefix/include/cachekit/$header.hpp" ]]; then
        echo "run.sh: the install has $header.hpp without its component" >&2
        exit 1
      fi
    done
    ;;
  deb)
    # `make package`'s .deb, unpacked into a scratch root (no root needed), used by
    # find_package through CMAKE_PREFIX_PATH; its declared dependencies are checked.
    build="$2" work="$3" cxx="$4"
    rm -rf "$work" && mkdir -p "$work"
    (cd "$build" && cpack -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1) ||
      { cat "$work/cpack.log"; exit 1; }
    deb="$(find "$work/cpack" -maxdepth 1 -name 'libcachekit-dev_*.deb' -print -quit)"
    depends="$(dpkg-deb -f "$deb" Depends)"
    echo "$(basename "$deb"): Depends: $depends"
    needed=(liblz4-1 libxxhash0 libssl3 libsodium23 libhiredis0.14 libmsgpack-cxx-dev)
    if grep -q '^CACHEKIT_WITH_PROMETHEUS:BOOL=ON' "$build/CMakeCache.txt"; then
      needed+=(libprometheus-cpp-core1.0 prometheus-cpp-dev)
    fi
    if grep -q '^CACHEKIT_WITH_SPDLOG:BOOL=ON' "$build/CMakeCache.txt"; then
      needed+=(libspdlog1.10 libspdlog-dev)
    fi
    if grep -q '^CACHEKIT_WITH_IO:BOOL=ON' "$build/CMakeCache.txt"; then
      needed+=(libcurl4 libcurl4-openssl-dev)
    fi
    for needed in "${needed[@]}"; do
      if [[ ", $depends," != *", $needed,"* ]]; then
        echo "run.sh: $deb does not depend on $needed" >&2
        exit 1
      fi
    done
    dpkg-deb -x "$deb" "$work/root"
    configure_and_run "$work/app_build" "$cxx" -DCMAKE_PREFIX_PATH="$work/root/usr" \
      -DCACHEKIT_CONSUMER_MODE=package
    ;;
  *)
    echo "run.sh: unknown mode '$mode' (install, package, pkgconfig, subdirectory, deb)" >&2
    exit 2
    ;;
esac
