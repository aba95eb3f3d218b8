# moesim profile --sweep, then plots/gemm_efficiency.py on that CSV: both must succeed and the
# PNG and PDF must exist and be non-empty.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${MOESIM} profile ${SOURCE}/calibrate/profiles/a100_sxm.yaml
                        --sweep ${WORK}/a100.csv
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "moesim profile failed:\n${out}")
endif()
execute_process(COMMAND ${PYTHON} ${SOURCE}/plots/gemm_efficiency.py ${WORK}/a100.csv
                        --out ${WORK}/gemm_efficiency
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plots/gemm_efficiency.py failed:\n${out}")
endif()
foreach(ext png pdf)
  file(SIZE ${WORK}/gemm_efficiency.${ext} size)
  if(size LESS 1000)
    message(FATAL_ERROR "gemm_efficiency.${ext} is ${size} bytes")
  endif()
endforeach()
