# convlab_bench's --shape and --shapes flags, run by ctest (tests/CMakeLists.txt) as
#   cmake -DCONVLAB_BENCH=<binary> -DCHECK=<list|errors> -DSCRATCH=<folder> -P bench_shapes_cli.cmake
#   list:   --convlab_list_cases --shape DESC prints the plan JSON with that layer at its batch and at 1
#   errors: a bad descriptor, a bad shape-file line, a folder, CSV output and an unknown flag each exit 2 with
#           one line naming the problem
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(CONVLAB_BENCH CHECK SCRATCH)
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")

function(run_bench)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=1 ${CONVLAB_BENCH} ${ARGN}
                  WORKING_DIRECTORY "${SCRATCH}" RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 60)
  set(status "${status}" PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

if(CHECK STREQUAL "list")
  run_bench(--convlab_list_cases --shape mb2ic3ih9oc5kh3sh2)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "exit status '${status}', stderr: ${err}")
  endif()
  string(JSON cases LENGTH "${out}" cases)
  if(NOT cases EQUAL 6)
    message(FATAL_ERROR "expected 6 cases (3 passes at batch 1 and 2), got ${cases}:\n${out}")
  endif()
  set(expected shape_id mb2ic3ih9oc5kh3sh2 suite user name mb2ic3ih9oc5kh3sh2 pass forward batch 2 in_channels 3
      in_height 9 in_width 9 out_channels 5 kernel_height 3 kernel_width 3 stride_height 2 stride_width 2
      pad_height 0 pad_width 0 stride 2 padding 0)
  while(expected)
    list(POP_FRONT expected key value)
    string(JSON got GET "${out}" cases 1 ${key})
    if(NOT got STREQUAL value)
      message(FATAL_ERROR "cases[1].${key} is '${got}', expected '${value}':\n${out}")
    endif()
  endwhile()
  string(JSON first_batch GET "${out}" cases 0 batch)
  if(NOT first_batch EQUAL 1)
    message(FATAL_ERROR "the first case should run at batch 1, got ${first_batch}")
  endif()
  message(STATUS "the plan holds the --shape layer at batch 1 and 2")
elseif(CHECK STREQUAL "errors")
  file(WRITE "${SCRATCH}/bad.txt" "# one good line, then a bad one\nic1ih5oc1kh1\n\nic1ih5oc1kh1sh0\n")
  set(known "(known: mb g ic ih iw oc oh ow kh kw sh sw ph pw dh dw n\"name\")")
  set(failures 0)
  foreach(case
      "--shape|mb2ic3ih9oc5kh3sh2x|descriptor 'mb2ic3ih9oc5kh3sh2x': at character 19: unknown field 'x' ${known}"
      "--shapes|bad.txt|bad.txt:4: descriptor 'ic1ih5oc1kh1sh0': at character 13: 'sh' must be at least 1, got sh0"
      "--shapes|.|.: cannot open: it is a folder"
      "--shape|ic1ih5oc1oh3kh1ph0|descriptor 'ic1ih5oc1oh3kh1ph0': at character 10: oh3 does not match the output height 5 that ih5, kh1, sh1, ph0 give")
    string(REPLACE "|" ";" parts "${case}")
    list(GET parts 0 flag)
    list(GET parts 1 value)
    list(GET parts 2 expected)
    run_bench(--convlab_list_cases ${flag} ${value})
    if(NOT status EQUAL 2 OR NOT err STREQUAL "convlab_bench: ${expected}\n" OR NOT out STREQUAL "")
      message(SEND_ERROR "FAIL ${flag} ${value}: exit '${status}', stdout '${out}'\n  stderr:   '${err}'\n"
                         "  expected: 'convlab_bench: ${expected}\\n'")
      math(EXPR failures "${failures} + 1")
    else()
      message(STATUS "ok   ${flag} ${value}")
    endif()
  endforeach()
  # Google Benchmark's CSV reporter would abort midway through the run: refused before anything runs.
  foreach(format_flag --benchmark_format=csv --benchmark_out_format=csv)
    run_bench(--convlab_list_cases ${format_flag})
    set(expected "convlab_bench: ${format_flag}: CSV cannot hold these benchmarks (their counters differ from row to row); use json or console\n")
    if(NOT status EQUAL 2 OR NOT err STREQUAL expected OR NOT out STREQUAL "")
      message(SEND_ERROR "FAIL ${format_flag}: exit '${status}', stdout '${out}'\n  stderr:   '${err}'\n  expected: '${expected}'")
      math(EXPR failures "${failures} + 1")
    else()
      message(STATUS "ok   ${format_flag}")
    endif()
  endforeach()
  # A flag neither convlab_bench nor Google Benchmark knows: a usage error like the others, before anything runs.
  run_bench(--no_such_flag)
  if(NOT status EQUAL 2 OR NOT err MATCHES "unrecognized command-line flag: --no_such_flag\n$" OR NOT out STREQUAL "")
    message(SEND_ERROR "FAIL --no_such_flag: exit '${status}', stdout '${out}'\n  stderr:   '${err}'")
    math(EXPR failures "${failures} + 1")
  else()
    message(STATUS "ok   --no_such_flag")
  endif()
  if(failures GREATER 0)
    message(FATAL_ERROR "${failures} bad --shape/--shapes values were not refused as expected")
  endif()
else()
  message(FATAL_ERROR "CHECK must be list or errors, got '${CHECK}'")
endif()
