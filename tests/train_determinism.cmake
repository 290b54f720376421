# The same `convlab train` command with the same seed writes a bitwise-identical model file with 1 and
# 2 threads, for every implementation that can train the lecture's network, with minibatch optimisers (float)
# and with SCG (double) (its dense layer and convolution are large enough to be split between threads). At least
# one of them must parallelise its convolution with OpenMP threads (`convlab impls` says which), or equal files
# would prove nothing about the convolutions; the first of those also trains with --profile. No implementation
# is named here: the lists come from `convlab impls`. Each run's "Convolution <impl>, <n> OpenMP threads,
# seed 5" line must say the threads asked for: were --threads ignored, both runs would use the same count and
# equal files would prove nothing; and its "Parallel loops ran on up to <n> threads" line that the work's loops
# really got that many. Each run trains on 256 images and evaluates 100 test images (--test-limit), so
# the reference implementation is among them too (its convolution made an evaluation of all 10000 test images too
# slow for a test).
# Run by ctest (tests/CMakeLists.txt) as
#   cmake -DCONVLAB=<convlab> -DDATA_DIR=<datasets> -DSCRATCH=<folder> -P train_determinism.cmake
cmake_minimum_required(VERSION 3.25)  # if(... IN_LIST ...)
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(CONVLAB DATA_DIR SCRATCH)
include(${CMAKE_CURRENT_LIST_DIR}/require_mnist.cmake)
if(MNIST_MISSING)
  return()
endif()
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")

# The implementations that can train the lecture's network (its layer: 1x28x28 -> 20, 5x5), as the registry
# lists them.
execute_process(COMMAND ${CONVLAB} impls --names --shape ic1ih28oc20kh5
                RESULT_VARIABLE status OUTPUT_VARIABLE impls)
string(STRIP "${impls}" impls)
if(NOT status EQUAL 0 OR impls STREQUAL "")
  message(FATAL_ERROR "convlab impls --names --shape ic1ih28oc20kh5 failed (${status})")
endif()
string(REPLACE "\n" ";" impls "${impls}")
# Of those, the ones whose "built with:" line ends in "(OpenMP threads)" (the registry's uses_threads).
execute_process(COMMAND ${CONVLAB} impls RESULT_VARIABLE status OUTPUT_VARIABLE details)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "convlab impls failed (${status})")
endif()
string(REPLACE ";" "<semicolon>" details "${details}")  # CMake lists split on ';'
string(REPLACE "\n" ";" details "${details}")
set(current "")
set(threaded "")
foreach(line IN LISTS details)
  if(line MATCHES "^([^ ]+)  +[^ ]")
    set(current "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^ +built with: .*  \\(OpenMP threads\\)$" AND current IN_LIST impls)
    list(APPEND threaded "${current}")
  endif()
endforeach()
if(threaded STREQUAL "")
  message(FATAL_ERROR "none of the implementations that train the lecture's network (${impls}) uses OpenMP threads "
                      "according to `convlab impls`: equal model files with 1 and 2 threads would not test them\n"
                      "${details}")
endif()
list(GET threaded 0 profiled)
set(failures "")
foreach(impl ${impls})
  foreach(optimizer "sgd;--epochs;1" "adam;--epochs;1" "scg;--iterations;3")
    list(GET optimizer 0 name)
    set(digests "")
    foreach(threads 1 2)
      set(model "${SCRATCH}/${impl}-${name}-${threads}.bin")
      execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${DATA_DIR}
                        ${CONVLAB} train --impl ${impl} --optimizer ${optimizer} --threads ${threads}
                        --train-limit 256 --test-limit 100 --seed 5 --save ${model}
                      RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
      if(NOT status EQUAL 0)
        message(FATAL_ERROR "convlab train --impl ${impl} --optimizer ${optimizer} --threads ${threads} failed:\n${err}")
      endif()
      # The run really used the data, implementation and thread count asked for (train prints them on stdout).
      if(NOT out MATCHES "Data mnist: 256 training and 100 test images")
        message(FATAL_ERROR "convlab train --train-limit 256 --test-limit 100: no \"256 training and 100 test "
                            "images\" line on stdout:\n${out}")
      endif()
      if(NOT out MATCHES "(^|\n)Convolution ([^,\n]+), ([0-9]+) OpenMP threads?, seed 5\n")
        message(FATAL_ERROR "convlab train --impl ${impl} --optimizer ${name} --threads ${threads}: no "
                            "\"Convolution ${impl}, ${threads} OpenMP threads, seed 5\" line on stdout:\n${out}")
      endif()
      set(printed_impl "${CMAKE_MATCH_2}")
      set(printed_threads "${CMAKE_MATCH_3}")
      if(NOT printed_impl STREQUAL impl OR NOT printed_threads EQUAL threads)
        message(FATAL_ERROR "convlab train --impl ${impl} --optimizer ${name} --threads ${threads} printed "
                            "\"Convolution ${printed_impl}, ${printed_threads} OpenMP threads\": expected ${impl} "
                            "on ${threads} threads")
      endif()
      # ... and the work really ran on that many: the largest team of the library's parallel loops (the runtime
      # may grant fewer threads than asked, or a loop may run inside another's region on one).
      if(NOT out MATCHES "\nParallel loops ran on up to ([0-9]+) threads?\n")
        message(FATAL_ERROR "convlab train --impl ${impl} --optimizer ${name} --threads ${threads}: no \"Parallel "
                            "loops ran on up to <n> threads\" line on stdout:\n${out}")
      endif()
      if(NOT CMAKE_MATCH_1 EQUAL threads)
        message(FATAL_ERROR "convlab train --impl ${impl} --optimizer ${name} --threads ${threads}: its parallel "
                            "loops ran on up to ${CMAKE_MATCH_1} threads")
      endif()
      file(SHA256 "${model}" digest)
      list(APPEND digests ${digest})
    endforeach()
    list(GET digests 0 one_thread)
    list(GET digests 1 two_threads)
    if(one_thread STREQUAL two_threads)
      message(STATUS "ok   ${impl} ${name}: ${one_thread}")
    else()
      string(APPEND failures "\n  ${impl} ${name}: 1 thread ${one_thread}, 2 threads ${two_threads}")
    endif()
  endforeach()
endforeach()
# --profile (each step timed operation by operation) changes no weight: train_profiled(NAME ARGS...) trains
# `profiled` (the first implementation above that uses threads) with optimizer NAME (its ARGS) on 2 threads with --profile, saves the model beside the plain run's
# ("${impl}-${name}-2.bin" above) and its --json as profiled-NAME.json, fails unless it ran and printed the profile
# (its stderr in `profile_err`), and adds to `failures` when the two model files differ.
function(train_profiled name)
  set(model "${SCRATCH}/${profiled}-${name}-2-profiled.bin")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${DATA_DIR}
                    ${CONVLAB} train --impl ${profiled} --optimizer ${name} ${ARGN} --threads 2 --train-limit 256
                    --test-limit 100 --seed 5 --profile --json "${SCRATCH}/profiled-${name}.json" --save ${model}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT status EQUAL 0 OR NOT err MATCHES "Step profile: ")
    message(FATAL_ERROR "convlab train --optimizer ${name} --profile failed (${status}) or printed no profile:\n${err}")
  endif()
  file(SHA256 "${model}" profiled_digest)
  file(SHA256 "${SCRATCH}/${profiled}-${name}-2.bin" plain_digest)
  if(NOT profiled_digest STREQUAL plain_digest)
    set(failures "${failures}\n  ${profiled} ${name}, 2 threads: ${plain_digest} without --profile, ${profiled_digest} with it"
        PARENT_SCOPE)
  endif()
  set(profile_err "${err}" PARENT_SCOPE)
endfunction()

# Minibatch: every operation, 2 steps of 128 (the default batch) of the 256 images.
train_profiled(sgd --epochs 1)
if(NOT profile_err MATCHES "Step profile: 2 steps \\(256 examples\\)")
  message(FATAL_ERROR "convlab train --optimizer sgd --profile: no \"2 steps (256 examples)\":\n${profile_err}")
endif()
file(READ "${SCRATCH}/profiled-sgd.json" json)
string(JSON steps GET "${json}" step_profile steps)
string(JSON operations LENGTH "${json}" step_profile operations)
string(JSON update_bytes GET "${json}" step_profile operations update bytes)
if(NOT steps EQUAL 2 OR NOT operations EQUAL 10 OR update_bytes LESS_EQUAL 0)
  message(FATAL_ERROR "--json's step_profile: ${steps} steps, ${operations} operations, update bytes ${update_bytes}")
endif()
# With SCG a step is an iteration: 3 iterations, each of one or two evaluations over the 256 images (the first
# evaluation, before the iterations, is not one of them).
train_profiled(scg --iterations 3)
if(NOT profile_err MATCHES "Step profile: 3 iterations \\(([0-9]+) examples\\), [0-9.]+ ms per iteration")
  message(FATAL_ERROR "convlab train --optimizer scg --profile printed no iteration profile:\n${profile_err}")
endif()
set(printed_examples "${CMAKE_MATCH_1}")
file(READ "${SCRATCH}/profiled-scg.json" json)
string(JSON step GET "${json}" step_profile step)
string(JSON steps GET "${json}" step_profile steps)
string(JSON examples GET "${json}" step_profile examples)
string(JSON update_bytes GET "${json}" step_profile operations update bytes)
string(JSON conv_flops GET "${json}" step_profile operations conv_forward flops)
math(EXPR evaluations "${examples} / 256")
math(EXPR whole "${evaluations} * 256")
# Each evaluation runs the convolution forward over every image: 2 x 20 x 24 x 24 x 25 FLOPs an image.
math(EXPR expected_conv_flops "${examples} * 576000")
if(NOT step STREQUAL "iteration" OR NOT steps EQUAL 3 OR NOT examples EQUAL printed_examples
   OR NOT whole EQUAL examples OR evaluations LESS 3 OR evaluations GREATER 6 OR update_bytes LESS_EQUAL 0
   OR NOT conv_flops EQUAL expected_conv_flops)
  message(FATAL_ERROR "--json's SCG step_profile: step ${step}, ${steps} steps, ${examples} examples (printed "
                      "${printed_examples}), update bytes ${update_bytes}, conv_forward ${conv_flops} FLOPs "
                      "(expected ${expected_conv_flops})")
endif()
if(failures)
  message(FATAL_ERROR "models that depend on the thread count or on --profile:${failures}")
endif()
list(JOIN impls ", " impls)
list(JOIN threaded ", " threaded)
message(STATUS "${impls} with every optimiser: the same model file with 1 and 2 threads (as printed); threaded: "
               "${threaded}; ${profiled} the same with --profile")
