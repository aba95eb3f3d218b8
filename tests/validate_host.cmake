# The measuring pipeline end to end on the host backend, 2 MPI ranks: calibrate this machine,
# then validate the tiny study's four schedules against the profile it wrote. Every replayed
# phase must have a measurement and a prediction, and the report must be written; the error is
# printed, not asserted (CPU timings on a shared machine are noisy).
file(REMOVE_RECURSE ${WORK})
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${MOESIM} calibrate --device host
                        --quick --no-figure --out ${WORK}/calibrate
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun moesim calibrate failed:\n${out}")
endif()
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${MOESIM} validate
                        ${SOURCE}/experiments/validate_tiny.yaml
                        --profile ${WORK}/calibrate/profile.yaml --device host --no-figure
                        --out ${WORK}/validate
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun moesim validate failed:\n${out}")
endif()
message(STATUS "moesim validate (host backend, 2 ranks):\n${out}")
foreach(f validation.csv report.md)
  if(NOT EXISTS ${WORK}/validate/${f})
    message(FATAL_ERROR "moesim validate did not write ${f}")
  endif()
endforeach()
file(STRINGS ${WORK}/validate/validation.csv rows)
set(totals 0)
foreach(row IN LISTS rows)
  if(row MATCHES "^(cdac|dcca|lsh|scmoe),total,[0-9.]+,[0-9.]+,[-0-9.]+$")
    math(EXPR totals "${totals} + 1")
  endif()
  if(row MATCHES "^[a-z]+,(attention|expert_ffn|a2a_dispatch|a2a_combine),,")
    message(FATAL_ERROR "a replayed phase has no measurement: ${row}")
  endif()
endforeach()
if(NOT totals EQUAL 4)
  message(FATAL_ERROR "expected a measured and predicted total for 4 schedules:\n${rows}")
endif()
