# Finds the Debian-packaged libraries cachekit links against (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(cachekit_lz4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(cachekit_xxhash REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(cachekit_sodium REQUIRED IMPORTED_TARGET libsodium)
find_package(OpenSSL 3.0 REQUIRED COMPONENTS Crypto SSL)
# Debian ships msgpack-cxx 4.x whose config package is "msgpack" with target msgpackc-cxx.
find_package(msgpack CONFIG REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(Threads REQUIRED)
# L2 backends: hiredis 0.14 (no TLS, no RESP3 in this version) is always in; libmemcached 1.1
# only with the memcached component (cmake/cachekit_components.cmake).
pkg_check_modules(cachekit_hiredis REQUIRED IMPORTED_TARGET hiredis)

# The pkg-config modules of the core, for cachekit.pc; a component appends its own.
set(CACHEKIT_PKG_CONFIG_DEPS liblz4 libxxhash libsodium libssl libcrypto hiredis)

include(cachekit_components)
