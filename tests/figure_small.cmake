# One figure on a small variant: `moesim sweep experiments/NAME.yaml --set model.layers=2`
# (the experiment file itself, with 2-block models), its summary.csv byte-compared with
# tests/golden/figures/NAME.csv (regenerate: scripts/update-golden), then plots/NAME.py on it:
# the PNG and PDF must exist and be non-empty. With JOBS > 1 the sweep runs points in parallel,
# and the CSV must still match.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${MOESIM} sweep ${SOURCE}/experiments/${NAME}.yaml --set model.layers=2
                        -j ${JOBS} -q --out ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "moesim sweep failed:\n${out}")
endif()
file(READ ${WORK}/summary.csv got)
file(READ ${SOURCE}/tests/golden/figures/${NAME}.csv expected)
if(NOT got STREQUAL expected)
  message(FATAL_ERROR "${WORK}/summary.csv differs from tests/golden/figures/${NAME}.csv; "
                      "diff them, and if the change is intended run scripts/update-golden")
endif()
execute_process(COMMAND ${PYTHON} ${SOURCE}/plots/${NAME}.py ${WORK}/summary.csv
                        ${WORK}/${NAME}.png
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "plots/${NAME}.py failed:\n${out}")
endif()
foreach(ext png pdf)
  file(SIZE ${WORK}/${NAME}.${ext} size)
  if(size LESS 1000)
    message(FATAL_ERROR "${NAME}.${ext} is ${size} bytes")
  endif()
endforeach()
