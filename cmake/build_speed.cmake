# Build speed of the services, the domain cores and the tests (a cold build on two cores).
# Measured per translation unit: a typical source of ours spends 3-4 s parsing the standard
# library, nlohmann/json and libpqxx, then 5-8 s generating -O2 code and debug info for the
# same json/pqxx/gtest templates that its neighbours instantiate again. So:
#
# - Unity builds: the sources of each library and test executable are compiled a few at a
#   time in one translation unit (CMake's UNITY_BUILD, balanced batches of at most
#   MAILLON_UNITY_BATCH files, MAILLON_UNITY_TEST_BATCH for a test executable). Headers are
#   parsed and templates generated once per batch instead of once per file: a third of the
#   CPU time. A batch stays small (6 files in a library: a cold build of the runtime in
#   152 s on two cores, against 181 s with 4; touching one handler rebuilds the runtime in
#   12 s), so touching one handler recompiles a few files, not the library. Each file must still compile alone
#   (script/tidy checks every file alone, and -DMAILLON_UNITY=OFF builds them one by one):
#   names at file scope (anonymous namespaces, statics) must not clash with a neighbour's;
#   a file that cannot share its batch is listed in MAILLON_UNITY_SKIP below.
# - Debug info: line tables only (-g1) in RelWithDebInfo (script/server's and script/test's
#   build type): backtraces, profilers and sanitizers still name file and line; full variable
#   info (-g) cost another third of the code generation. -DMAILLON_FULL_DEBUG_INFO=ON (or a
#   Debug build) gives it back for a debugger session.
# - Test code (the test executables' own sources, not the services, domain cores, harness or
#   benchmarks they link) at -Og in RelWithDebInfo: half the code generation of -O2, for code
#   that waits on services and databases. What the tests exercise keeps its -O2.
option(MAILLON_UNITY "Compile each library's and test's sources in a few unity batches" ON)
set(MAILLON_UNITY_BATCH 6 CACHE STRING "Most sources per unity batch of a library")
set(MAILLON_UNITY_TEST_BATCH 8 CACHE STRING "Most sources per unity batch of a test executable")
option(MAILLON_FULL_DEBUG_INFO "Full debug info (-g) in RelWithDebInfo instead of line tables" OFF)

# Sources compiled alone, outside the batches (path relative to the repository root), because
# they repeat a neighbour's file-scope names:
# - notify's depot consumer: exchange/depot.hpp (through events_depot.hpp) and
#   events_members.hpp both declare a maillon::MemberStanding;
# - members: trimmed, kNameMax, kAddressMax, community_json, kSessionHours, nullable, opt are
#   each written in two or three of these files;
# - the exchange core's depot.cpp: check_category, check_text, check_photos, refuse (as in
#   listing.cpp and exchange_flow.cpp).
set(MAILLON_UNITY_SKIP
    exchange/depot.cpp
    services/members/accounts_requests.cpp
    services/members/directory_admin.cpp
    services/members/http_members.cpp
    services/members/lifecycle_repository.cpp
    services/members/lifecycle_requests.cpp
    services/notify/consumers_depot.cpp)

# maillon_speed_up(TARGET): debug info level and unity batches for one of our targets.
function(maillon_speed_up target)
  if(NOT MAILLON_FULL_DEBUG_INFO)
    target_compile_options(${target} PRIVATE $<$<CONFIG:RelWithDebInfo>:-g1>)
  endif()
  set(most ${MAILLON_UNITY_BATCH})
  if(target MATCHES "^maillon_(it_|unit_|integration_tests$)")
    # -Og's flow analysis is too short to see through std::function and <regex>: its
    # maybe-uninitialized warnings there are false (GCC bug 105562 and kin).
    target_compile_options(${target} PRIVATE "$<$<CONFIG:RelWithDebInfo>:-Og;-Wno-maybe-uninitialized>")
    set(most ${MAILLON_UNITY_TEST_BATCH})
  endif()
  if(NOT MAILLON_UNITY)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  set(batched)
  foreach(s ${sources})
    if(NOT IS_ABSOLUTE "${s}")
      set(s "${source_dir}/${s}")
    endif()
    file(RELATIVE_PATH rel ${MAILLON_SOURCE_DIR} ${s})
    if(s MATCHES "\\.cpp$" AND NOT rel IN_LIST MAILLON_UNITY_SKIP)
      list(APPEND batched ${s})
    endif()
  endforeach()
  list(LENGTH batched count)
  if(count LESS 2)
    return()
  endif()
  # Dealt round-robin into batches of at most `most`: 11 sources by 4 at most make 4 + 4 + 3,
  # and neighbours in name order (events_depot.cpp, events_ledger.cpp ...), which are the
  # likeliest to hold the same file-scope helper names, land in different batches.
  math(EXPR batches "(${count} + ${most} - 1) / ${most}")
  list(SORT batched)
  set(i 0)
  foreach(s ${batched})
    math(EXPR group "${i} % ${batches}")
    set_source_files_properties(${s} TARGET_DIRECTORY ${target} PROPERTIES UNITY_GROUP "batch${group}")
    math(EXPR i "${i} + 1")
  endforeach()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE GROUP)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC takes a class in a .cpp of the batch for one in a header, and warns when its members
    # use that file's anonymous namespace; it is the batch's main file in truth.
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()

# Every library and executable defined in DIR (not the imported ones, not utility targets).
function(maillon_speed_up_directory dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type MATCHES "^(STATIC_LIBRARY|EXECUTABLE|OBJECT_LIBRARY)$")
      maillon_speed_up(${t})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    maillon_speed_up_directory(${sub})
  endforeach()
endfunction()
