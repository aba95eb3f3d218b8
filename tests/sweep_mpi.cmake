# `moesim sweep` under mpirun with 2 ranks writes the same summary.csv, byte for byte, as one
# process does (tests/golden/figures/scmoe_overlap.csv).
file(REMOVE_RECURSE ${WORK})
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${MOESIM} sweep
                        ${SOURCE}/experiments/scmoe_overlap.yaml --set model.layers=2 -q
                        --out ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "mpirun moesim sweep failed:\n${out}")
endif()
if(NOT out MATCHES "over 2 MPI ranks")
  message(FATAL_ERROR "the sweep did not run over 2 ranks:\n${out}")
endif()
file(READ ${WORK}/summary.csv got)
file(READ ${SOURCE}/tests/golden/figures/scmoe_overlap.csv expected)
if(NOT got STREQUAL expected)
  message(FATAL_ERROR "${WORK}/summary.csv differs from the single-process golden")
endif()
