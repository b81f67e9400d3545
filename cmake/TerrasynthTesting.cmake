# terrasynth_add_test(NAME <target> SOURCES ... [LIBS ...] [LABELS ...] [MAIN <gtest_main|none>])
# One GoogleTest executable; every TEST becomes a ctest test carrying LABELS.
if(TERRASYNTH_GTEST_SOURCE_DIR)
  set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
  add_subdirectory(${TERRASYNTH_GTEST_SOURCE_DIR} ${CMAKE_BINARY_DIR}/_gtest EXCLUDE_FROM_ALL)
  add_library(GTest::gtest ALIAS gtest)
  add_library(GTest::gtest_main ALIAS gtest_main)
else()
  find_package(GTest REQUIRED)
endif()
include(GoogleTest)

if(TERRASYNTH_ENGINE_ONLY)
  set(TERRASYNTH_TESTS_HAVE_GDAL 0)
else()
  set(TERRASYNTH_TESTS_HAVE_GDAL 1)
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/test_paths.h.in
               ${CMAKE_BINARY_DIR}/generated/terrasynth/test_paths.h @ONLY)

function(terrasynth_add_test)
  cmake_parse_arguments(T "" "NAME;MAIN" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} terrasynth_warnings terrasynth_version)
  if(NOT T_MAIN STREQUAL "none")
    target_link_libraries(${T_NAME} PRIVATE GTest::gtest_main GTest::gtest)
  else()
    target_link_libraries(${T_NAME} PRIVATE GTest::gtest)
  endif()
  gtest_discover_tests(${T_NAME}
    DISCOVERY_TIMEOUT 120
    PROPERTIES LABELS "${T_LABELS}" ENVIRONMENT "OMP_NUM_THREADS=2")
endfunction()
