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
# No epoch here carries the step profile's counters (as in runs from before it): no such section or chart.
string(FIND "${summary}" "operation by operation" found)
if(NOT found EQUAL -1 OR EXISTS "${SCRATCH}/step-profile.dat")
  message(FATAL_ERROR "summary.md has a step profile section (or step-profile.dat exists) without profiled epochs")
endif()

# Repetitions (scripts/bench.sh runs each case several times, interleaved): a case keeps its fastest one. The
# same run with two more repetitions: a slower one of the oneDNN primitive on resnet_c (ignored) and a faster
# one of openmp's held forward pass there (36 images/s: 36/40 = 0.90 replaces 0.80).
set(REPEATED "${SCRATCH}/repeated")
file(REMOVE_RECURSE "${REPEATED}")
file(COPY "${SOURCE_DIR}/tests/data/summarize_suites/" DESTINATION "${REPEATED}")
execute_process(COMMAND "${PYTHON}" -c [=[
import json, sys
path = sys.argv[1] + "/convlab_bench.json"
run = json.load(open(path))
def repetition(name, images_per_second):
    entry = dict(next(b for b in run["benchmarks"] if b["name"].startswith(name)))
    entry["images_per_second"] = images_per_second
    entry["real_time"] = 64 / images_per_second * 1e6
    entry["repetitions"] = 3
    return entry
run["benchmarks"] += [repetition("conv/onednn/forward/resnet_c/float/batch:64/threads:2", 20.0),
                      repetition("conv/openmp/forward_held/resnet_c/float/batch:64/threads:2", 36.0)]
json.dump(run, open(path, "w"))
]=] "${REPEATED}" RESULT_VARIABLE status ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "could not add repetitions: ${errors}")
endif()
execute_process(COMMAND "${PYTHON}" "${SOURCE_DIR}/bench/summarize.py" "${REPEATED}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "summarize.py failed on the repeated run (${status}):\n${output}${errors}")
endif()
string(FIND "${output}" "forward resnet: convlab's best vs oneDNN primitive geomean 0.90x over 1 of 1 shapes" found)
if(found EQUAL -1)
  message(FATAL_ERROR "summarize.py did not keep each case's fastest repetition; it printed:\n${output}")
endif()
file(READ "${REPEATED}/summary.md" summary)
string(FIND "${summary}" "every case ran 3 times" found)
if(found EQUAL -1)
  message(FATAL_ERROR "summary.md of the repeated run does not say how many repetitions each case had")
endif()

# The padding table's share of window taps inside the image, against a hand count: a 14x14 image, 5x5 window,
# padding 2 at stride 1 gives output rows whose windows keep 3, 4, 5 (ten times), 4, 3 of their 5 rows: 64/70
# per dimension; at stride 2 (7 outputs, rows 3, 5, 5, 5, 5, 5, 4): 32/35.
execute_process(COMMAND "${PYTHON}" -c [=[
import sys
sys.path.insert(0, sys.argv[1])
import summarize
def case(stride):
    return {"in_height": 14, "in_width": 14, "kernel_height": 5, "kernel_width": 5, "stride_height": stride,
            "stride_width": stride, "pad_height": 2, "pad_width": 2}
for stride, expected in ((1, (64 / 70) ** 2), (2, (32 / 35) ** 2)):
    got = summarize.valid_tap_share(case(stride))
    if abs(got - expected) > 1e-12:
        sys.exit(f"valid_tap_share at stride {stride}: {got}, expected {expected}")
]=] "${SOURCE_DIR}/bench" RESULT_VARIABLE status ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "valid_tap_share: ${errors}")
endif()
