# One-rank `moesim calibrate --device host --quick` with its figure: plots/calibration.py must
# draw the run's residuals.csv into a non-empty calibration.png.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${MOESIM} calibrate --device host --quick --out ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "moesim calibrate failed:\n${out}")
endif()
if(NOT out MATCHES "figure: ")
  message(FATAL_ERROR "moesim calibrate drew no figure:\n${out}")
endif()
file(SIZE ${WORK}/calibration.png size)
if(size LESS 1000)
  message(FATAL_ERROR "calibration.png is ${size} bytes")
endif()
