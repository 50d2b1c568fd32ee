# `make package` (cpack -G DEB in the build directory): one development package, Debian style,
# with the headers, the library, the CMake package, cachekit.pc and the `cachekit` tool. It
# installs under /usr and declares the Debian packages it needs: the -dev packages a static
# cachekit links against (and whose headers the public ones include), and the runtime libraries
# of the tool and of a shared cachekit.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libcachekit-dev)
set(CPACK_PACKAGE_VENDOR "cachekit")
set(CPACK_PACKAGE_CONTACT "cachekit maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "C++20 library (cachekit::cachekit, pkg-config cachekit), its built components and the cachekit tool.")
set(CPACK_STRIP_FILES ON)  # the tool and a shared library; a static one keeps its symbols

set(deb_depends
  # runtime libraries
  liblz4-1 libxxhash0 libssl3 libsodium23 libhiredis0.14
  # what building against cachekit needs (public headers use msgpack-cxx; a static library
  # links the rest)
  libmsgpack-cxx-dev liblz4-dev libxxhash-dev libssl-dev libsodium-dev libhiredis-dev
  nlohmann-json3-dev pkg-config)
# A component adds its packages here (runtime library, then -dev).
if(CACHEKIT_WITH_MEMCACHED)
  list(APPEND deb_depends libmemcached11 libmemcached-dev)
endif()
if(CACHEKIT_WITH_PROMETHEUS)  # prometheus-cpp 1.0.1
  list(APPEND deb_depends libprometheus-cpp-core1.0 prometheus-cpp-dev)
endif()
if(CACHEKIT_WITH_SPDLOG)  # spdlog 1.10 (its -dev package brings fmt's)
  list(APPEND deb_depends libspdlog1.10 libspdlog-dev)
endif()
if(CACHEKIT_WITH_IO)  # libcurl with OpenSSL (the cachekit.io backend)
  list(APPEND deb_depends libcurl4 libcurl4-openssl-dev)
endif()
list(JOIN deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)

include(CPack)
