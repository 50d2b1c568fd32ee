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
configure_file(${PROJECT_SOURCE_DIR}/cmake/cachekit.pc.in ${PROJECT_BINARY_DIR}/cachekit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cachekit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
