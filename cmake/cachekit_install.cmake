# Install rules: headers, the library, an exported CMake package (cachekit::cachekit) and a
# pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# A library component's header (include/cachekit/<header>.hpp) only when it is built.
set(headers_not_built "")
foreach(component_header prometheus:prometheus spdlog:spdlog io:cachekitio_backend)
  string(REPLACE ":" ";" component_header "${component_header}")
  list(GET component_header 0 component)
  list(GET component_header 1 header)
  if(NOT component IN_LIST CACHEKIT_LIBRARY_COMPONENTS)
    list(APPEND headers_not_built PATTERN ${header}.hpp EXCLUDE)
  endif()
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cachekit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        ${headers_not_built})
install(FILES ${PROJECT_BINARY_DIR}/include/cachekit/export.hpp
              ${PROJECT_BINARY_DIR}/include/cachekit/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cachekit)
install(TARGETS cachekit EXPORT cachekitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT cachekitTargets NAMESPACE cachekit::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cachekit)
# Components that are libraries of their own: one export file each, which cachekitConfig.cmake
# loads only for a consumer that asks for the component (so others need none of its dependencies).
foreach(component IN LISTS CACHEKIT_LIBRARY_COMPONENTS)
  install(TARGETS cachekit_${component} EXPORT cachekit_${component}Targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(EXPORT cachekit_${component}Targets NAMESPACE cachekit::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cachekit)
endforeach()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cachekitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cachekitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cachekit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cachekitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cachekitConfig.cmake
              ${PROJECT_BINARY_DIR}/cachekitConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cachekit)
# pkg-config: paths relative to the .pc file's directory; a relative install dir is the rule
# (GNUInstallDirs), an absolute one is written as it is.
set(pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${pc_dir}")
  set(CACHEKIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH pc_to_prefix "/prefix/${pc_dir}" "/prefix")
  string(REGEX REPLACE "/$" "" pc_to_prefix "${pc_to_prefix}")
  set(CACHEKIT_PC_PREFIX "\${pcfiledir}/${pc_to_prefix}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(CACHEKIT_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(CACHEKIT_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
# A shared cachekit carries its dependencies (Requires.private serves `--static` only); a static
# one needs them on every link, so `pkg-config --libs cachekit` must name them.
list(JOIN CACHEKIT_PKG_CONFIG_DEPS " " pc_deps)
if(BUILD_SHARED_LIBS)
  set(CACHEKIT_PC_REQUIRES "")
  set(CACHEKIT_PC_REQUIRES_PRIVATE "${pc_deps}")
  set(CACHEKIT_PC_CFLAGS "-DMSGPACK_NO_BOOST")
else()
  set(CACHEKIT_PC_REQUIRES "${pc_deps}")
  set(CACHEKIT_PC_REQUIRES_PRIVATE "")
  set(CACHEKIT_PC_CFLAGS "-DMSGPACK_NO_BOOST -DCACHEKIT_STATIC_DEFINE")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/cachekit.pc.in ${PROJECT_BINARY_DIR}/cachekit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cachekit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# One .pc per library component (cachekit-prometheus.pc ...): cachekit and the component's own
# dependency in Requires (it links that dependency publicly, static or shared).
foreach(component IN LISTS CACHEKIT_LIBRARY_COMPONENTS)
  string(TOUPPER "${component}" upper)
  set(CACHEKIT_PC_COMPONENT ${component})
  set(CACHEKIT_PC_COMPONENT_LIB cachekit_${component})
  list(JOIN CACHEKIT_${upper}_PC_REQUIRES " " CACHEKIT_PC_COMPONENT_REQUIRES)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/cachekit-component.pc.in
                 ${PROJECT_BINARY_DIR}/cachekit-${component}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/cachekit-${component}.pc
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
