# Installs the build into a temporary prefix and runs the installed binary
# from another folder: the binary carries its stdlib, the man page and the
# docs are in place.
#   cmake -DBUILD=build-dir -DPREFIX=tmp-prefix -P check_install.cmake
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(f bin/mini share/man/man1/mini.1 share/doc/mini/README.md share/doc/mini/docs/language.md)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
# From a folder that is neither the source nor the build tree.
file(MAKE_DIRECTORY ${PREFIX}/elsewhere)
execute_process(
  COMMAND ${PREFIX}/bin/mini -c "import heapq, threading; h = [3, 1, 2]; heapq.heapify(h); print(h[0], threading.current_thread().name)"
  WORKING_DIRECTORY ${PREFIX}/elsewhere
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "1 MainThread\n")
  message(FATAL_ERROR "installed mini: exit ${rc}, stdout '${out}', stderr '${err}'")
endif()
# Every option of --help is in the man page.
execute_process(COMMAND ${PREFIX}/bin/mini --help OUTPUT_VARIABLE help)
file(READ ${PREFIX}/share/man/man1/mini.1 man)
string(REPLACE "\\-" "-" man "${man}")
string(REGEX MATCHALL "(^|\n)  (-[-a-zA-Z=|,]+)" options "${help}")
foreach(o IN LISTS options)
  string(STRIP "${o}" o)
  string(FIND "${man}" "${o}" at)
  if(at LESS 0)
    message(FATAL_ERROR "the man page lacks ${o}")
  endif()
endforeach()
file(REMOVE_RECURSE ${PREFIX})
message(STATUS "installed mini runs from ${PREFIX}/elsewhere")
