# Optional components: parts of cachekit whose dependencies a user may not want. Each is an
# option CACHEKIT_WITH_<NAME>, the source folder it owns, and what it links. A component that is
# off is not compiled; a `<folder>_unavailable.cpp` beside its folder is compiled instead (it
# throws errc::invalid_configuration naming the option). Installed packages report their
# components to `find_package(cachekit COMPONENTS <name>)`.
#
# To add a component (e.g. prometheus, spdlog), two lines:
#   1. here:  option(CACHEKIT_WITH_FOO "..." ON)
#             cachekit_component(foo DIR backends/foo PKG_CONFIG foo-module)
#          or cachekit_component(foo DIR metrics/foo PACKAGE foo_pkg TARGETS foo::foo [PUBLIC])
#   2. cmake/cachekitConfig.cmake.in: the same call with the option's value, e.g.
#             cachekit_component(foo @CACHEKIT_WITH_FOO@ PACKAGE foo_pkg)
# PUBLIC: the component's public headers use the dependency, so consumers link it too (it is
# then found by cachekitConfig.cmake for shared builds as well).

option(CACHEKIT_WITH_MEMCACHED "Build the memcached backend (needs libmemcached)" ON)

set(CACHEKIT_COMPONENTS "")            # built components, for cachekitConfig.cmake
set(CACHEKIT_COMPONENT_LINK_PRIVATE "")
set(CACHEKIT_COMPONENT_LINK_PUBLIC "")
set(CACHEKIT_COMPONENT_DIRS_OFF "")    # src/ folders not compiled
set(CACHEKIT_COMPONENT_FALLBACKS_OFF "")  # *_unavailable.cpp files not compiled

# cachekit_component(<name> DIR <folder under src/> [PKG_CONFIG <module>...]
#                    [PACKAGE <package> TARGETS <target>...] [PUBLIC])
macro(cachekit_component name)
  cmake_parse_arguments(component "PUBLIC" "DIR;PACKAGE" "PKG_CONFIG;TARGETS" ${ARGN})
  string(TOUPPER "${name}" component_upper)
  set(component_folder "${PROJECT_SOURCE_DIR}/src/${component_DIR}")
  if(CACHEKIT_WITH_${component_upper})
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
