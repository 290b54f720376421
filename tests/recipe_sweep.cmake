# scripts/recipe_sweep.py --summarize on made-up runs: each recipe's row counts the seeds whose final test
# accuracy reaches the lecture's 98.24 %, lists every seed's, and takes medians of the training time and of the
# time at which a seed first reached the goal (the seed that reached it at epoch 1 and ended below counts there,
# not among those at the goal at the end); a file that is not a run's JSON stops it with the file's name.
#   cmake -DPYTHON=... -DSOURCE_DIR=... -DSCRATCH=... -P recipe_sweep.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(PYTHON SOURCE_DIR SCRATCH)
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")
file(WRITE "${SCRATCH}/meta.json"
  "{\"date\": \"2026-01-01 00:00 UTC\", \"cpu\": \"a test CPU\", \"threads\": 2, \"commit\": \"abc1234\", \"recipes\": [\"64:0.05:2\", \"128:0.1:1\"], \"seeds\": 2}")
file(WRITE "${SCRATCH}/b64-lr0.05-e2-seed1.json"
  "{\"training_seconds\": 2.0, \"history\": [{\"seconds\": 1.0, \"test_percent_correct\": 97.0}, {\"seconds\": 2.0, \"test_percent_correct\": 98.30}]}")
file(WRITE "${SCRATCH}/b64-lr0.05-e2-seed2.json"
  "{\"training_seconds\": 2.2, \"history\": [{\"seconds\": 1.0, \"test_percent_correct\": 98.25}, {\"seconds\": 2.2, \"test_percent_correct\": 98.10}]}")
file(WRITE "${SCRATCH}/b128-lr0.1-e1-seed1.json"
  "{\"training_seconds\": 0.9, \"history\": [{\"seconds\": 0.9, \"test_percent_correct\": 97.50}]}")
execute_process(COMMAND "${PYTHON}" "${SOURCE_DIR}/scripts/recipe_sweep.py" --summarize "${SCRATCH}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "recipe_sweep.py --summarize failed (${status}):\n${output}${errors}")
endif()
file(READ "${SCRATCH}/sweep.md" table)
foreach(expected
    "on a test CPU, 2 thread(s), commit abc1234."
    "| batch 64, lr 0.05, 2 epochs | 1 of 2 | 98.30 / 98.10 | 2.1 | 1.5 |"
    "| batch 128, lr 0.1, 1 epochs | 0 of 1 | 97.50 | 0.9 | - |")
  string(FIND "${table}" "${expected}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "sweep.md lacks '${expected}':\n${table}")
  endif()
endforeach()
string(FIND "${table}" "batch 64" first)
string(FIND "${table}" "batch 128" second)
if(first GREATER second)
  message(FATAL_ERROR "sweep.md does not list the recipes in meta.json's order:\n${table}")
endif()
file(WRITE "${SCRATCH}/b128-lr0.1-e1-seed2.json" "{\"history\": []}")
execute_process(COMMAND "${PYTHON}" "${SOURCE_DIR}/scripts/recipe_sweep.py" --summarize "${SCRATCH}"
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE errors)
if(status EQUAL 0 OR NOT errors MATCHES "b128-lr0.1-e1-seed2.json: not a convlab train --json result")
  message(FATAL_ERROR "a run without results was not refused by name (exit ${status}):\n${output}${errors}")
endif()
