# bench/summarize.py's section "The training step, operation by operation" on a tiny synthetic run
# (tests/data/summarize_profile, made-up figures): the implementation it shows, milliseconds per step, shares,
# rates and fractions of the bounds are the ones worked out by hand in that folder's README, an operation that
# never ran is left out, the chart's data has one line per thread count, and the targets' epoch scaling and
# fraction of the FLOP bound. The folder is copied first,
# because summarize.py writes into the run's folder. (That a run without the counters gets no such section is
# checked by summarize_suites.cmake.)
#   cmake -DPYTHON=... -DSOURCE_DIR=... -DSCRATCH=... -P summarize_profile.cmake
file(REMOVE_RECURSE "${SCRATCH}")
file(COPY "${SOURCE_DIR}/tests/data/summarize_profile/" DESTINATION "${SCRATCH}")
execute_process(COMMAND "${PYTHON}" "${SOURCE_DIR}/bench/summarize.py" "${SCRATCH}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "summarize.py failed (${status}):\n${output}${errors}")
endif()
file(READ "${SCRATCH}/summary.md" summary)
foreach(expected
    "## The training step, operation by operation"
    "one epoch of 640 images with `simd` (the fastest profiled epoch at 2 threads)"
    "### 1 thread: 10.0 ms per step over 10 steps"
    "| conv_forward | 2.00 | 20.0 % | 50.0 | - | 0.500 | FMA peak 100 GFLOP/s |"
    "| update | 1.00 | 10.0 % | - | 20.0 | 1.00 | copy bandwidth 20.0 GB/s |"
    "| other | 0.500 | 5.00 % | - | - | - | - |"
    "### 2 threads: 6.00 ms per step over 10 steps"
    "| conv_forward | 1.20 | 20.0 % | 100 | - | 0.500 | FMA peak 200 GFLOP/s |"
    "| activations | 0.600 | 10.0 % | - | 15.0 | 0.500 | copy bandwidth 30.0 GB/s |"
    "Never ran (left out): conv_input_grad."
    "| training epoch (lecture network, batch 64): 2 threads / 1 thread, same implementation | 1.67 | 1.70 | no | simd: 10,667 vs 6,400 images/s |"
    "| training epoch (lecture network, batch 64, 2 threads): fraction of its FLOP bound | 0.270 | 0.500 | no | simd: 3.24 GFLOP of products in 0.0600 s; at the 2-thread FMA peak (200 GFLOP/s) 0.0162 s |")
  string(FIND "${summary}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "summary.md lacks '${expected}'; its step section:\n${summary}")
  endif()
endforeach()
string(FIND "${summary}" "| conv_input_grad |" found)
if(NOT found EQUAL -1)
  message(FATAL_ERROR "summary.md lists conv_input_grad, which never ran")
endif()
file(STRINGS "${SCRATCH}/step-profile.dat" lines)
list(LENGTH lines count)
list(GET lines 1 one_thread)
if(NOT count EQUAL 3 OR NOT one_thread STREQUAL "\"1 thread: 10.0 ms/step\" 0.2 0.2 0.1 0.2 0.1 0.01 0.1 0.04 0.05")
  message(FATAL_ERROR "step-profile.dat is not a header and one line per thread count:\n${lines}")
endif()
file(READ "${SCRATCH}/summary.json" json)
string(JSON impl GET "${json}" step_profile "threads:2" impl)
string(JSON first GET "${json}" step_profile "threads:2" operations 0 operation)
string(JSON never GET "${json}" step_profile "threads:2" never_ran 0)
if(NOT impl STREQUAL "simd" OR NOT first STREQUAL "conv_forward" OR NOT never STREQUAL "conv_input_grad")
  message(FATAL_ERROR "summary.json's step_profile: ${impl}, first operation ${first}, never ran ${never}")
endif()
