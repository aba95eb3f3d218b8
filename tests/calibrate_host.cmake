# `moesim calibrate --device host --quick` under mpirun with 2 ranks measures every op and the
# five collectives with no wrong element, writes a profile and a network overlay, and `predict`
# takes the profile it wrote.
file(REMOVE_RECURSE ${WORK})
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${MOESIM} calibrate --device host
                        --quick --no-figure --out ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun moesim calibrate failed:\n${out}")
endif()
foreach(f profile.yaml network.yaml calibration.csv residuals.csv report.md)
  if(NOT EXISTS ${WORK}/${f})
    message(FATAL_ERROR "moesim calibrate did not write ${f}:\n${out}")
  endif()
endforeach()
foreach(op all_to_all all_reduce all_gather reduce_scatter send_recv)
  if(NOT out MATCHES "${op}")
    message(FATAL_ERROR "no ${op} rows in the calibrate log:\n${out}")
  endif()
endforeach()
file(READ ${WORK}/calibration.csv csv)
if(NOT csv MATCHES "all_to_all")
  message(FATAL_ERROR "calibration.csv holds no collective rows")
endif()
execute_process(COMMAND ${MOESIM} predict --profile ${WORK}/profile.yaml --no-figure -q
                        --out ${WORK}/predict
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "predict does not take the measured profile:\n${out}")
endif()
