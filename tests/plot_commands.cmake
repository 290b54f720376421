# Every `convlab plot` figure from real runs: a small model trained here (with its history), one real
# benchmark case with the peaks it is drawn against, and MNIST training digit 0. Each command must exit 0
# and leave a PNG (its 8-byte signature, an IHDR chunk and a plausible size) at the path it was given, of
# the width and height the figure asks gnuplot for (plots/*_figures.cpp; the IHDR chunk's big-endian
# width and height at bytes 16-23). What each figure draws is checked in tests/test_plots.cpp.
# Run by ctest (tests/CMakeLists.txt) as
#   cmake -DCONVLAB=<convlab> -DCONVLAB_BENCH=<convlab_bench> -DDATA_DIR=<datasets> -DSCRATCH=<folder> -P plot_commands.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(CONVLAB CONVLAB_BENCH DATA_DIR SCRATCH)
include(${CMAKE_CURRENT_LIST_DIR}/require_mnist.cmake)
if(MNIST_MISSING)
  return()
endif()
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")

function(run what)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${DATA_DIR} OMP_NUM_THREADS=1 ${ARGN}
                  WORKING_DIRECTORY "${SCRATCH}" RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 300)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()

run("training a small model" ${CONVLAB} train --arch conv4:5x5,dense8 --train-limit 500 --epochs 2 --threads 1
    --save model.bin --history history.csv)
# One epoch: a curve of one point, whose axes gnuplot cannot range by itself.
run("training one epoch" ${CONVLAB} train --arch conv4:5x5,dense8 --train-limit 300 --epochs 1 --threads 1
    --history one-epoch.csv)
# The benchmark case: the lecture layer's forward pass by the first fast implementation that computes it, as
# `convlab impls` lists them (no implementation is named here).
execute_process(COMMAND ${CONVLAB} impls --names --role fast --shape ic1ih28oc20kh5 RESULT_VARIABLE status
                OUTPUT_VARIABLE bench_impl)
string(REGEX REPLACE "\n.*" "" bench_impl "${bench_impl}")
if(NOT status EQUAL 0 OR bench_impl STREQUAL "")
  message(FATAL_ERROR "convlab impls --names --role fast --shape ic1ih28oc20kh5 (exit ${status}) listed none")
endif()
run("one benchmark case and the peaks" ${CONVLAB_BENCH} --convlab_quick --convlab_no_onednn --benchmark_min_time=0.01
    "--benchmark_filter=^(peak/memory/read/threads:1|peak/fma/float/threads:1|conv/${bench_impl}/forward/lecture1/float/batch:64/threads:1)/"
    --benchmark_out=bench.json)
file(READ "${SCRATCH}/bench.json" bench_json)
if(NOT bench_json MATCHES "\"name\": \"conv/${bench_impl}/forward/lecture1/float/batch:64/threads:1/")
  message(FATAL_ERROR "bench.json holds no conv/${bench_impl}/forward/lecture1 case (the bench figure needs one)")
endif()

# name|width x height in pixels|arguments. The feature maps of conv4's 4 filters take one row of pairs
# (300 + 200 pixels high); the bars of one benchmark case keep the least width, 900.
set(figures
  "digit|640x560|digit --out figures/digit.png"
  "windows|860x800|windows --out figures/windows.png"
  "response|680x600|response --out figures/response.png"
  "weighted-windows|860x800|weighted-windows --out figures/weighted-windows.png"
  "filters|760x700|filters --model model.bin --out figures/filters.png"
  "feature-maps|1100x500|feature-maps --model model.bin --split test --digit 3 --out figures/feature-maps.png"
  "confusion|780x700|confusion --model model.bin --split test --out figures/confusion.png"
  "curve|900x900|curve --history history.csv --history history.csv --title two-lines --out figures/curve.png"
  "curve-one-epoch|900x900|curve --history one-epoch.csv --title one-point --out figures/curve-one-epoch.png"
  "bench|900x620|bench --json bench.json --out figures/bench.png"
  "roofline|1000x760|roofline --json bench.json --out figures/roofline.png")
set(failures "")
foreach(entry ${figures})
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 expected_size)
  list(GET parts 2 arguments)
  separate_arguments(arguments UNIX_COMMAND "${arguments}")
  run("convlab plot ${name}" ${CONVLAB} plot ${arguments})
  set(png "${SCRATCH}/figures/${name}.png")
  if(NOT EXISTS "${png}")
    string(APPEND failures "\n  ${name}: ${png} was not written")
    continue()
  endif()
  file(SIZE "${png}" size)
  file(READ "${png}" header LIMIT 16 HEX)
  if(NOT header STREQUAL "89504e470d0a1a0a0000000d49484452" OR size LESS 2000)
    string(APPEND failures "\n  ${name}: not a PNG of a figure (first bytes ${header}, ${size} bytes)")
    continue()
  endif()
  file(READ "${png}" width_hex OFFSET 16 LIMIT 4 HEX)
  file(READ "${png}" height_hex OFFSET 20 LIMIT 4 HEX)
  math(EXPR width "0x${width_hex}")
  math(EXPR height "0x${height_hex}")
  if(NOT "${width}x${height}" STREQUAL expected_size)
    string(APPEND failures "\n  ${name}: ${width}x${height} pixels, expected ${expected_size}")
  else()
    message(STATUS "ok   ${name}: ${width}x${height}, ${size} bytes")
  endif()
endforeach()
# The animations: an animated GIF with one frame (a graphic control block, 21 f9 04) per output cell, or per
# input cell for the input gradient.
foreach(entry "animation|--input 5 --window 3 --stride 2 --padding 1|9"
              "animation-transposed|--input 4 --window 3 --stride 2 --padding 1 --transposed|16"
              "animation-dilated|--input 6x7 --window 2x3 --dilation 2|12")
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 arguments)
  list(GET parts 2 frames)
  separate_arguments(arguments UNIX_COMMAND "${arguments}")
  run("convlab plot ${name}" ${CONVLAB} plot animation ${arguments} --out figures/${name}.gif)
  set(gif "${SCRATCH}/figures/${name}.gif")
  if(NOT EXISTS "${gif}")
    string(APPEND failures "\n  ${name}: ${gif} was not written")
    continue()
  endif()
  file(READ "${gif}" header LIMIT 6 HEX)
  file(READ "${gif}" bytes HEX)
  string(REGEX MATCHALL "21f904" blocks "${bytes}")
  list(LENGTH blocks counted)
  if(NOT header STREQUAL "474946383961" OR NOT counted EQUAL frames)  # "GIF89a"
    string(APPEND failures "\n  ${name}: header '${header}', ${counted} frames, expected GIF89a and ${frames}")
  else()
    message(STATUS "ok   ${name}: ${counted} frames")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "plot commands that did not write the expected PNG or GIF:${failures}")
endif()
list(LENGTH figures count)
message(STATUS "all ${count} plot commands wrote a PNG of the expected size")
