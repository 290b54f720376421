# bench/summarize.py on a tiny synthetic run (tests/data/summarize_suites, made-up figures): the per-suite
# geomeans it prints are the ones worked out by hand in that folder's README, a peer or pass without figures
# says "not measured", and summary.md and summary.json are written. The folder is copied first, because
# summarize.py writes into the run's folder.
#   cmake -DPYTHON=... -DSOURCE_DIR=... -DSCRATCH=... -P summarize_suites.cmake
file(REMOVE_RECURSE "${SCRATCH}")
file(COPY "${SOURCE_DIR}/tests/data/summarize_suites/" DESTINATION "${SCRATCH}")
execute_process(COMMAND "${PYTHON}" "${SOURCE_DIR}/bench/summarize.py" "${SCRATCH}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "summarize.py failed (${status}):\n${output}${errors}")
endif()
foreach(expected
    "forward mnist: convlab's best vs oneDNN primitive geomean 1.00x over 2 of 2 shapes, worst b 0.50x"
    "forward mnist: convlab's best vs PyTorch geomean 2.83x over 2 of 2 shapes, worst b 2.00x"
    "forward mnist: convlab's best vs XNNPACK not measured"
    "forward resnet: convlab's best vs oneDNN primitive geomean 0.80x over 1 of 1 shapes"
    "backward_input mnist: convlab's best vs PyTorch not measured")
  string(FIND "${output}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "summarize.py did not print '${expected}'; it printed:\n${output}")
  endif()
endforeach()
file(READ "${SCRATCH}/summary.md" summary)
foreach(expected
    "| forward, deepbench shapes: geomean of convlab's best (2 threads) / oneDNN primitive at its best | - | 1.00 | n/a | not measured"
    "| forward: openmp / simd at 1 thread, every shape (within 5 %) | 0.750 | 0.950 | no | lowest at mnist/b batch 64"
    "| b | 64 | 0.100 | openmp (2t) | 0.156 | openmp (2t) | 0.156 | 1t | 0.312 | 0.500 |"
    "| c | 64 | 0.100 | openmp (2t) | 0.0312 | openmp held (2t) | 0.0500 | 2t | 0.0625 | 0.800 |")
  string(FIND "${summary}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "summary.md lacks '${expected}'")
  endif()
endforeach()
if(NOT EXISTS "${SCRATCH}/summary.json" OR NOT EXISTS "${SCRATCH}/speedups-forward.dat")
  message(FATAL_ERROR "summary.json or speedups-forward.dat missing in ${SCRATCH}")
endif()
