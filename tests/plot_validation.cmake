# One-process `moesim validate --device host` on the tiny study with its figure:
# plots/validation.py must draw validation.csv into a non-empty validation.png.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${MOESIM} validate ${SOURCE}/experiments/validate_tiny.yaml
                        --profile a40 --device host --reps 2 --warmup 1 -q --out ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "moesim validate failed:\n${out}")
endif()
if(NOT out MATCHES "figure: ")
  message(FATAL_ERROR "moesim validate drew no figure:\n${out}")
endif()
file(SIZE ${WORK}/validation.png size)
if(size LESS 1000)
  message(FATAL_ERROR "validation.png is ${size} bytes")
endif()
