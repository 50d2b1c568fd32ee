#!/usr/bin/env bash
# Builds and runs the consumer program (tests/consumer/main.cpp) one way a user would:
#   run.sh install      BUILD_DIR PREFIX              cmake --install of BUILD_DIR into PREFIX
#   run.sh package      PREFIX WORK_DIR CXX [COMPONENTS]  find_package(cachekit CONFIG) from PREFIX
#   run.sh pkgconfig    PREFIX WORK_DIR CXX           the compiler with `pkg-config cachekit` flags
#   run.sh deb          BUILD_DIR WORK_DIR CXX        cpack's .deb unpacked, then find_package
#   run.sh subdirectory SOURCE_DIR WORK_DIR CXX       add_subdirectory of the source tree (shared,
#                                                     no memcached), then its install as above
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
    prefix="$2" work="$3" cxx="$4"
    pcdir="$(dirname "$(find "$prefix" -name cachekit.pc -print -quit)")"
    rm -rf "$work" && mkdir -p "$work"
    # Without --static: the flags a shared build needs, or everything a static one needs.
    cflags="$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags cachekit)"
    libs="$(PKG_CONFIG_PATH="$pcdir" pkg-config --libs cachekit)"
    echo "pkg-config --cflags: $cflags"
    echo "pkg-config --libs:   $libs"
    # shellcheck disable=SC2086  # the flags are words
    "$cxx" -std=c++20 -O3 "${warnings[@]}" $cflags "$here/main.cpp" -o "$work/app" $libs \
      -Wl,-rpath,"$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir cachekit)"
    "$work/app"
    ;;
  subdirectory)
    # add_subdirectory of the source tree, as a shared library (BUILD_SHARED_LIBS=ON) without
    # the memcached component: this checks that the public API is exported from a
    # -fvisibility=hidden build and that the library builds without libmemcached. That tree is
    # then installed, and find_package (which must refuse COMPONENTS memcached, with the option
    # to build it) and pkg-config are checked against it. The library is compiled once more
    # here: without optimization (no build type), for time; the -O3 header warnings are the
    # installed-tree builds' job.
    source="$2" work="$3" cxx="$4"
    configure_and_run "$work" "$cxx" -DCACHEKIT_CONSUMER_MODE=subdirectory \
      -DCACHEKIT_SOURCE_DIR="$source" -DCMAKE_BUILD_TYPE= -DBUILD_SHARED_LIBS=ON \
      -DCACHEKIT_WITH_MEMCACHED=OFF -DCACHEKIT_INSTALL=ON
    if ! ldd "$work/app" | grep -q 'libcachekit\.so'; then
      echo "run.sh: the app is not linked against libcachekit.so" >&2
      exit 1
    fi
    cmake --install "$work/cachekit" --prefix "$work/prefix" >/dev/null
    bash "$0" package "$work/prefix" "$work/package" "$cxx"
    bash "$0" pkgconfig "$work/prefix" "$work/pkgconfig" "$cxx"
    if bash "$0" package "$work/prefix" "$work/package_memcached" "$cxx" memcached \
      >"$work/package_memcached.log" 2>&1 ||
      ! grep -q "built without the memcached component" "$work/package_memcached.log"; then
      cat "$work/package_memcached.log"
      echo "run.sh: find_package(cachekit COMPONENTS memcached) should fail with the reason" >&2
      exit 1
    fi
    echo "find_package(cachekit REQUIRED COMPONENTS memcached) refused, as it should"
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
    for needed in liblz4-1 libxxhash0 libssl3 libsodium23 libhiredis0.14 libmsgpack-cxx-dev; do
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
