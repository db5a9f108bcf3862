# tailor_add_test(<source> [LABELS ...]): one Catch2 executable per test file, registered with
# CTest under the file's path (tests/core/random_test.cpp -> core.random_test).
function(tailor_add_test source)
  cmake_parse_arguments(ARG "" "" "LABELS" ${ARGN})
  file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${source})
  string(REGEX REPLACE "\\.cpp$" "" stem ${rel})
  string(REPLACE "/" "." name ${stem})
  string(REPLACE "/" "_" target ${stem})
  add_executable(${target} ${source})
  target_link_libraries(${target} PRIVATE tailor::tailor tailor_project_options tailor_test_options
                                           tailor_catch_main)
  if(TARGET tailor_test_pch)
    target_precompile_headers(${target} REUSE_FROM tailor_test_pch)
  endif()
  add_test(NAME ${name} COMMAND ${target})
  # Fixture files are found through TAILOR_TEST_SOURCE_DIR (tests/), not __FILE__, which ccache's
  # base_dir rewriting makes relative to the build directory.
  set_tests_properties(${name} PROPERTIES ENVIRONMENT
                       "TAILOR_DATA_DIR=${TAILOR_DATA_DIR};TAILOR_TEST_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}")
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
