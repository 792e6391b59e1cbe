# Runs one runner self test (tests/scripts/runner_selftest/*.mini) and checks
# script_test's verdict on it, so a test meant to fail proves that the runner
# fails it, and for the stated reason (WILL_FAIL would accept any failure,
# even a crash of the runner or a typo in the test).
#
#   cmake -DRUNNER=script_test -DMINI=fake_mini -DTEST=file.mini -DRC=status
#         -P check_selftest.cmake
#
# RC is the exit status script_test must end with (0 pass, 1 fail, 77 skip).
# Lines of the test file read here (fake_mini ignores them):
#   #!runner ARGS        options for script_test, split like a shell would
#   #!interpreter PATH   run PATH instead of MINI
#   #!reason REGEX       script_test's output must match (CMake regex syntax)
file(STRINGS "${TEST}" directives REGEX "^#!(runner|interpreter|reason) ")
set(options)
set(reasons)
foreach(line IN LISTS directives)
  if(line MATCHES "^#!runner (.*)")
    separate_arguments(words UNIX_COMMAND "${CMAKE_MATCH_1}")
    list(APPEND options ${words})
  elseif(line MATCHES "^#!interpreter (.*)")
    set(MINI "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^#!reason (.*)")
    list(APPEND reasons "${CMAKE_MATCH_1}")
  endif()
endforeach()

execute_process(COMMAND "${RUNNER}" ${options} "${MINI}" "${TEST}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
message("${output}")
if(NOT rc STREQUAL RC)
  message(FATAL_ERROR "script_test ended with ${rc}, expected ${RC}")
endif()
if(RC EQUAL 1 AND NOT reasons)
  message(FATAL_ERROR "a test that must fail says why with a '#!reason REGEX' line")
endif()
foreach(reason IN LISTS reasons)
  if(NOT output MATCHES "${reason}")
    message(FATAL_ERROR "script_test's output does not match: ${reason}")
  endif()
endforeach()
