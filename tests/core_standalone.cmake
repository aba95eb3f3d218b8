# Copies sim/core alone into an empty tree, then configures, builds and tests it there.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/src/sim)
file(COPY ${SOURCE} DESTINATION ${WORK}/src/sim)
foreach(step
    "${CMAKE_COMMAND};-S;${WORK}/src/sim/core;-B;${WORK}/build;-G;${GENERATOR}"
    "${CMAKE_COMMAND};--build;${WORK}/build"
    "${CMAKE_CTEST_COMMAND};--test-dir;${WORK}/build;--output-on-failure")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sim/core on its own failed at: ${step}\n${out}")
  endif()
endforeach()
message(STATUS "sim/core built and passed its tests on its own")
