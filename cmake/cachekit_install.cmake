# Install rules: headers, the library, an exported CMake package (cachekit::cachekit) and a
# pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cachekit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/cachekit/export.hpp
              ${PROJECT_BINARY_DIR}/include/cachekit/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cachekit)
install(TARGETS cachekit EXPORT cachekitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT cachekitTargets NAMESPACE cachekit::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cachekit)
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
