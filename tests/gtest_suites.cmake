# Run by ctest before any test (from the include file maillon_test_suites() generates): one ctest
# test per GoogleTest suite of `exe`, named after the suite, running `exe --gtest_filter=Suite.*`.
# A suite's tests then share its SetUpTestSuite (one members world, one set of service processes)
# instead of starting them again for each test, and suites run side by side (ctest -j).
# Inputs: exe (the test executable), target (its name), labels, alone (suites to run alone).
if(NOT EXISTS "${exe}")
  add_test("${target}_NOT_BUILT" "${target}_NOT_BUILT")
  return()
endif()
execute_process(COMMAND "${exe}" --gtest_list_tests OUTPUT_VARIABLE listing ERROR_VARIABLE errors
                RESULT_VARIABLE rc TIMEOUT 60)
if(NOT rc EQUAL 0)
  # A listing that fails is a failing test, not a silently empty executable.
  add_test("${target}_NOT_LISTED" "${exe}" --gtest_list_tests)
  return()
endif()
string(REPLACE ";" "," listing "${listing}")
string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  # Suite lines start in column 0 and end with a dot (typed suites add "  # TypeParam = ...").
  if(line MATCHES "^([A-Za-z_][A-Za-z0-9_/]*)\\.( +#.*)?$")
    set(suite "${CMAKE_MATCH_1}")
    if(NOT suite MATCHES "^DISABLED_")
      add_test("${suite}" "${exe}" "--gtest_filter=${suite}.*")
      set_tests_properties("${suite}" PROPERTIES LABELS "${labels}")
      list(FIND alone "${suite}" alone_at)  # no IN_LIST: ctest reads this without policies
      if(alone_at GREATER -1)
        set_tests_properties("${suite}" PROPERTIES RUN_SERIAL TRUE)
      endif()
    endif()
  endif()
endforeach()
