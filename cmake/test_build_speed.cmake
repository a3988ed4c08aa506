# Build speed of the tests (about half of a cold build): each test source otherwise parses
# GoogleTest, nlohmann/json, libpqxx and the standard library again, seconds apiece.
# - One precompiled header per family of test targets (those on the integration harness; the
#   unit tests), made once and reused by every target of the family (REUSE_FROM: same flags).
#   Only system headers go in it, so no edit of ours ever rebuilds it; every source still
#   includes what it uses (a build with -DMAILLON_TEST_PCH=OFF checks that).
# - GCC's variable-location tracking off (-fno-var-tracking-assignments): a fifth of the time
#   of an -O2 -g compile, for the exact value of optimised-out locals in a test's debugger.
# The services and domain cores are left as they are: clang-tidy (script/tidy) reads their
# compile commands, and clang can read neither GCC's precompiled headers nor that flag.
option(MAILLON_TEST_PCH "Precompiled headers for the test executables" ON)

set(MAILLON_TEST_PCH_COMMON
    <algorithm> <atomic> <chrono> <cstdint> <functional> <map> <memory> <mutex> <optional>
    <set> <sstream> <string> <string_view> <thread> <vector> <gtest/gtest.h>)

# maillon_test_family(OWNER HEADERS... TARGETS t...): OWNER makes the precompiled header of
# HEADERS, the other targets reuse it.
function(maillon_test_family owner)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "HEADERS;TARGETS")
  foreach(t ${owner} ${arg_TARGETS})
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      target_compile_options(${t} PRIVATE -fno-var-tracking-assignments)
    endif()
    if(CCACHE_PROGRAM)
      # ccache caches sources built on a precompiled header only with this sloppiness.
      set_target_properties(${t} PROPERTIES CXX_COMPILER_LAUNCHER
        "env;CCACHE_SLOPPINESS=pch_defines,time_macros;${CCACHE_PROGRAM}")
    endif()
  endforeach()
  if(NOT MAILLON_TEST_PCH)
    return()
  endif()
  target_precompile_headers(${owner} PRIVATE ${arg_HEADERS})
  foreach(t ${arg_TARGETS})
    target_precompile_headers(${t} REUSE_FROM ${owner})
  endforeach()
endfunction()

# The targets of a directory that link `lib` (directly).
function(maillon_targets_linking out dir lib)
  set(found)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    get_target_property(libs ${t} LINK_LIBRARIES)
    if(type STREQUAL "EXECUTABLE" AND libs AND "${lib}" IN_LIST libs AND NOT t MATCHES "^maillon_bench_")
      list(APPEND found ${t})
    endif()
  endforeach()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

if(TARGET maillon_test_harness)
  maillon_targets_linking(integration_targets ${MAILLON_SOURCE_DIR}/tests maillon_test_harness)
  maillon_test_family(maillon_test_harness
    HEADERS ${MAILLON_TEST_PCH_COMMON} <nlohmann/json.hpp> <pqxx/pqxx>
    TARGETS ${integration_targets})
endif()

maillon_targets_linking(unit_targets ${MAILLON_SOURCE_DIR}/tests/unit GTest::gtest_main)
if(unit_targets)
  list(POP_FRONT unit_targets unit_owner)
  maillon_test_family(${unit_owner} HEADERS ${MAILLON_TEST_PCH_COMMON} <rapidcheck.h>
    TARGETS ${unit_targets})
endif()
