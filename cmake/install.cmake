# `cmake --install BUILD --prefix PREFIX`: the stage libraries, their headers (include/myoexo/<stage>/...), the
# program, its resources (share/myoexo: configs, the MuJoCo model) and a CMake package, so another project writes
#   find_package(myoexo REQUIRED)
#   target_link_libraries(app PRIVATE myoexo::dsp myoexo::models)
# The libraries are static: a consumer links their dependencies too, which myoexoConfig.cmake finds again.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MYOEXO_INSTALLED_STAGES "")
foreach(stage core io dsp features report models models_torch train eval realtime control sim hw session console
              stream)
  if(TARGET myoexo_${stage})
    set_target_properties(myoexo_${stage} PROPERTIES EXPORT_NAME ${stage})
    list(APPEND MYOEXO_INSTALLED_STAGES myoexo_${stage})
  endif()
endforeach()
install(TARGETS ${MYOEXO_INSTALLED_STAGES} EXPORT myoexoTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/myoexo)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/myoexo
        FILES_MATCHING PATTERN "*.hpp" PATTERN "app" EXCLUDE)
install(EXPORT myoexoTargets NAMESPACE myoexo:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/myoexo)

# What the config file must find again (the same names the stages link).
set(MYOEXO_PACKAGE_HAS_TORCH ${MYOEXO_TORCH_ENABLED})
if(TARGET myoexo_sim)
  set(MYOEXO_PACKAGE_HAS_SIM ON)
else()
  set(MYOEXO_PACKAGE_HAS_SIM OFF)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/myoexoConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/myoexoConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/myoexo)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/myoexoConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/myoexoConfig.cmake ${PROJECT_BINARY_DIR}/myoexoConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/myoexo)

if(TARGET myoexo)
  install(TARGETS myoexo RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# Resources: the program looks for them in <prefix>/share/myoexo (core/paths.hpp, find_resource_dir).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs DESTINATION ${CMAKE_INSTALL_DATADIR}/myoexo)
install(FILES ${PROJECT_SOURCE_DIR}/models/exo_leg.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/myoexo/models)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/THIRD_PARTY_LICENSES.md
              ${PROJECT_SOURCE_DIR}/CITATION.cff ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
