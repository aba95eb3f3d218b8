# moesim run on the small golden study, then plots/breakdown.py on its summary.csv: both must
# succeed and the PNG and PDF must exist and be non-empty.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${MOESIM} run -q ${SOURCE}/tests/golden/moe_small.yaml --out ${WORK}/run
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "moesim run failed:\n${out}")
endif()
execute_process(COMMAND ${PYTHON} ${SOURCE}/plots/breakdown.py ${WORK}/run/summary.csv
                        ${WORK}/breakdown.png
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plots/breakdown.py failed:\n${out}")
endif()
foreach(ext png pdf)
  file(SIZE ${WORK}/breakdown.${ext} size)
  if(size LESS 1000)
    message(FATAL_ERROR "breakdown.${ext} is ${size} bytes")
  endif()
endforeach()
