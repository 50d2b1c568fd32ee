# Optional components: parts of cachekit whose dependencies a user may not want. Each is an
# option CACHEKIT_WITH_<NAME>, the source folder it owns, and what it links. Two kinds:
# - in the library (memcached): a component that is off is not compiled; a
#   `<folder>_unavailable.cpp` beside its folder is compiled instead (it throws
#   errc::invalid_configuration naming the option).
# - LIBRARY (prometheus, spdlog): a library of its own on top of cachekit, cachekit::<name>,
#   built by its folder's CMakeLists.txt (cachekit_component_library in src/CMakeLists.txt).
# Installed packages report their components to `find_package(cachekit COMPONENTS <name>)`.
#
# To add a component, two lines:
#   1. here:  option(CACHEKIT_WITH_FOO "..." ON)
#             cachekit_component(foo DIR backends/foo PKG_CONFIG foo-module)
#          or cachekit_component(foo DIR metrics/foo PACKAGE foo_pkg TARGETS foo::foo [PUBLIC])
#          or cachekit_component(foo DIR foo LIBRARY PACKAGE foo_pkg PC_REQUIRES foo-module)
#   2. cmake/cachekitConfig.cmake.in: the same call with the option's value, e.g.
#             cachekit_component(foo @CACHEKIT_WITH_FOO@ PACKAGE foo_pkg)
#      and its Debian packages in cmake/cachekit_package.cmake.
# PUBLIC: the component's public headers use the dependency, so consumers link it too (it is
# then found by cachekitConfig.cmake for shared builds as well). LIBRARY components always link
# their dependency publicly; PC_REQUIRES names its pkg-config module for cachekit-<name>.pc.

option(CACHEKIT_WITH_MEMCACHED "Build the memcached backend (needs libmemcached)" ON)

set(CACHEKIT_COMPONENTS "")            # built components, for cachekitConfig.cmake
set(CACHEKIT_COMPONENT_LINK_PRIVATE "")
set(CACHEKIT_COMPONENT_LINK_PUBLIC "")
set(CACHEKIT_COMPONENT_DIRS_OFF "")    # src/ folders not compiled
set(CACHEKIT_COMPONENT_FALLBACKS_OFF "")  # *_unavailable.cpp files not compiled
set(CACHEKIT_LIBRARY_COMPONENT_DIRS "")     # src/ folders of LIBRARY components, never in cachekit
set(CACHEKIT_LIBRARY_COMPONENT_DIRS_ON "")  # those to build
set(CACHEKIT_LIBRARY_COMPONENTS "")         # their names, for the install rules

# cachekit_component(<name> DIR <folder under src/> [PKG_CONFIG <module>...]
#                    [PACKAGE <package> TARGETS <target>...] [PUBLIC]
#                    [LIBRARY [MODULE] PC_REQUIRES <module>...])
# MODULE: <package> is found by CMake's Find module, not a CMake package of its own.
macro(cachekit_component name)
  cmake_parse_arguments(component "PUBLIC;LIBRARY;MODULE" "DIR;PACKAGE"
                        "PKG_CONFIG;TARGETS;PC_REQUIRES" ${ARGN})
  string(TOUPPER "${name}" component_upper)
  set(component_folder "${PROJECT_SOURCE_DIR}/src/${component_DIR}")
  if(component_LIBRARY)
    list(APPEND CACHEKIT_LIBRARY_COMPONENT_DIRS ${component_DIR})
    if(CACHEKIT_WITH_${component_upper})
      if(NOT ${component_PACKAGE}_FOUND)  # asked for explicitly: say why it is missing
        if(component_MODULE)
          find_package(${component_PACKAGE} MODULE REQUIRED GLOBAL)
        else()
          find_package(${component_PACKAGE} CONFIG REQUIRED GLOBAL)
        endif()
      endif()
      list(APPEND CACHEKIT_LIBRARY_COMPONENT_DIRS_ON ${component_DIR})
      list(APPEND CACHEKIT_LIBRARY_COMPONENTS ${name})
      list(APPEND CACHEKIT_COMPONENTS ${name})
      set(CACHEKIT_${component_upper}_PC_REQUIRES ${component_PC_REQUIRES})
    else()
      message(STATUS "cachekit: component ${name} off (CACHEKIT_WITH_${component_upper}=OFF)")
    endif()
  elseif(CACHEKIT_WITH_${component_upper})
    set(component_targets ${component_TARGETS})
    if(component_PKG_CONFIG)
      pkg_check_modules(cachekit_${name} REQUIRED IMPORTED_TARGET ${component_PKG_CONFIG})
      list(APPEND component_targets PkgConfig::cachekit_${name})
      list(APPEND CACHEKIT_PKG_CONFIG_DEPS ${component_PKG_CONFIG})
    endif()
    if(component_PACKAGE)
      find_package(${component_PACKAGE} CONFIG REQUIRED)
    endif()
    if(component_PUBLIC)
      list(APPEND CACHEKIT_COMPONENT_LINK_PUBLIC ${component_targets})
    else()
      list(APPEND CACHEKIT_COMPONENT_LINK_PRIVATE ${component_targets})
    endif()
    list(APPEND CACHEKIT_COMPONENTS ${name})
    list(APPEND CACHEKIT_COMPONENT_FALLBACKS_OFF "${component_folder}_unavailable.cpp")
  else()
    list(APPEND CACHEKIT_COMPONENT_DIRS_OFF "${component_folder}/")
    message(STATUS "cachekit: component ${name} off (CACHEKIT_WITH_${component_upper}=OFF)")
  endif()
endmacro()

cachekit_component(memcached DIR backends/memcached PKG_CONFIG libmemcached)

# Libraries of their own, on by default when their dependency is found (GLOBAL: the examples
# and tests link more of it, e.g. prometheus-cpp's pull component for the Exposer).
find_package(prometheus-cpp CONFIG QUIET GLOBAL)
option(CACHEKIT_WITH_PROMETHEUS
       "Build cachekit::prometheus (needs prometheus-cpp; default: on when it is found)"
       ${prometheus-cpp_FOUND})
cachekit_component(prometheus DIR metrics LIBRARY PACKAGE prometheus-cpp
                   PC_REQUIRES prometheus-cpp-core)
find_package(spdlog CONFIG QUIET GLOBAL)
option(CACHEKIT_WITH_SPDLOG "Build cachekit::spdlog (needs spdlog; default: on when it is found)"
       ${spdlog_FOUND})
cachekit_component(spdlog DIR logging_spdlog LIBRARY PACKAGE spdlog PC_REQUIRES spdlog)
# The cachekit.io backend on libcurl. Debian's libcurl ships no CMake package: CMake's FindCURL
# module finds it (CURL::libcurl); scripts/install-deps.sh installs libcurl4-openssl-dev.
find_package(CURL MODULE QUIET GLOBAL)
option(CACHEKIT_WITH_IO
       "Build cachekit::io, the cachekit.io HTTP backend (needs libcurl; default: on when found)"
       ${CURL_FOUND})
cachekit_component(io DIR backends/cachekitio LIBRARY MODULE PACKAGE CURL PC_REQUIRES libcurl)
