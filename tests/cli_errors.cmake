# Bad command-line values: each case runs the built `convlab` in a fresh scratch folder and requires a
# non-zero exit, exactly one line on stderr with the expected text, nothing on stdout and no output file.
# Run by ctest (tests/CMakeLists.txt) as
#   cmake -DCONVLAB=<convlab binary> -DDATA_DIR=<datasets> -DSOURCE_DIR=<repo> -DSCRATCH=<folder>
#         -DWITH_PLOTS=<CONVLAB_BUILD_PLOTS> -P cli_errors.cmake
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(CONVLAB DATA_DIR SOURCE_DIR SCRATCH WITH_PLOTS)

set(failures 0)
set(cases 0)
set(model_seeds "${SOURCE_DIR}/tests/fuzz/corpus/model")
set(npy_fixtures "${SOURCE_DIR}/tests/data/cli")

# Copies the fixtures a case needs into the scratch folder; everything else found there afterwards is an
# output the failed command should not have left behind.
function(prepare_scratch)
  file(REMOVE_RECURSE "${SCRATCH}")
  file(MAKE_DIRECTORY "${SCRATCH}")
  file(COPY "${npy_fixtures}/x.npy" "${npy_fixtures}/w.npy" "${model_seeds}/conv_f32.bin" DESTINATION "${SCRATCH}")
  # A real model cut short: the first 200 of its 318 bytes.
  execute_process(COMMAND head -c 200 "${model_seeds}/conv_f32.bin" OUTPUT_FILE "${SCRATCH}/truncated.bin")
  file(WRITE "${SCRATCH}/a-file" "")
endfunction()

# Cases run on the real data folder need MNIST: without it they are left out, and the summary says how many.
include(${CMAKE_CURRENT_LIST_DIR}/require_mnist.cmake)
set(skipped 0)

# expect_error(<name> <data dir> <expected stderr line> <arguments...>)
function(expect_error name data_dir expected)
  if(MNIST_MISSING AND data_dir STREQUAL DATA_DIR)
    math(EXPR count "${skipped} + 1")
    set(skipped ${count} PARENT_SCOPE)
    message(STATUS "skip ${name}: it reads MNIST")
    return()
  endif()
  math(EXPR count "${cases} + 1")
  set(cases ${count} PARENT_SCOPE)
  prepare_scratch()
  file(GLOB_RECURSE before RELATIVE "${SCRATCH}" "${SCRATCH}/*")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${data_dir} OMP_NUM_THREADS=1 ${CONVLAB} ${ARGN}
                  WORKING_DIRECTORY "${SCRATCH}" RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 60)
  file(GLOB_RECURSE after RELATIVE "${SCRATCH}" "${SCRATCH}/*")
  file(GLOB after_folders LIST_DIRECTORIES true RELATIVE "${SCRATCH}" "${SCRATCH}/*")
  set(problems "")
  if(status EQUAL 0 OR NOT status MATCHES "^[0-9]+$")
    string(APPEND problems "\n  exit status '${status}', expected a non-zero exit code")
  endif()
  if(NOT err STREQUAL "convlab: error: ${expected}\n")
    string(APPEND problems "\n  stderr:   '${err}'\n  expected: 'convlab: error: ${expected}\\n'")
  endif()
  if(NOT out STREQUAL "")
    string(APPEND problems "\n  stdout not empty: '${out}'")
  endif()
  if(NOT before STREQUAL after)
    string(APPEND problems "\n  files before: ${before}\n  files after:  ${after}")
  endif()
  list(LENGTH after_folders entries)
  list(LENGTH before expected_entries)
  if(NOT entries EQUAL expected_entries)
    string(APPEND problems "\n  a folder was created: ${after_folders}")
  endif()
  if(EXISTS "/nonexistent")
    string(APPEND problems "\n  /nonexistent was created")
  endif()
  if(problems)
    message(SEND_ERROR "FAIL ${name}: convlab ${ARGN}${problems}")
    math(EXPR failed "${failures} + 1")
    set(failures ${failed} PARENT_SCOPE)
  else()
    message(STATUS "ok   ${name}")
  endif()
endfunction()

set(d "${DATA_DIR}")
# The registry's names, as the error message lists them (space-separated), from the program itself.
execute_process(COMMAND ${CONVLAB} impls --names RESULT_VARIABLE status OUTPUT_VARIABLE known_impls)
if(NOT status EQUAL 0 OR known_impls STREQUAL "")
  message(FATAL_ERROR "convlab impls --names failed (${status})")
endif()
string(STRIP "${known_impls}" known_impls)
string(REPLACE "\n" ";" known_impls_list "${known_impls}")
string(REPLACE "\n" ", " known_impls_commas "${known_impls}")  # as compare lists them
string(REPLACE "\n" " " known_impls "${known_impls}")
# Two valid names for the --impls lists below (the first and the last registered, one when only one is).
list(GET known_impls_list 0 first_impl)
list(GET known_impls_list -1 last_impl)

# train
expect_error("train: zero batch size" ${d} "--batch-size must be at least 1, got 0"
             train --batch-size 0 --save m.bin)
expect_error("train: negative epochs" ${d} "--epochs must be at least 1, got -1"
             train --epochs -1 --save m.bin)
expect_error("train: zero SCG iterations" ${d} "--iterations must be at least 1, got 0"
             train --optimizer scg --iterations 0 --save m.bin)
expect_error("train: zero threads" ${d} "--threads must be at least 1, got 0"
             train --threads 0 --save m.bin)
expect_error("train: zero training images" ${d} "--train-limit must be at least 1, got 0"
             train --train-limit 0 --save m.bin)
expect_error("train: zero test images" ${d} "--test-limit must be at least 1, got 0"
             train --test-limit 0 --save m.bin)
expect_error("train: negative learning rate" ${d} "--lr must be a positive number, got -1"
             train --lr -1 --save m.bin)
expect_error("train: window larger than the image" ${d}
             "layer 1 (conv4:30x30:s1): window 30x30 is larger than the input it sees, 28x28"
             train --arch conv4:30x30 --save m.bin)
expect_error("train: stride 0" ${d} "layer 1 (conv4:5x5:s0): stride must be at least 1, got 0"
             train --arch conv4:5x5:s0 --save m.bin)
expect_error("train: zero units" ${d} "layer 1 (conv0:5x5:s1): units must be at least 1, got 0"
             train --arch conv0:5x5 --save m.bin)
expect_error("train: unknown implementation" ${d} "unknown implementation 'nosuch' (known: ${known_impls})"
             train --impl nosuch --save m.bin)
expect_error("train: unwritable model path" ${d}
             "cannot save model to '/nonexistent/dir/m.bin': folder '/nonexistent/dir' does not exist"
             train --train-limit 10 --epochs 1 --save /nonexistent/dir/m.bin)
expect_error("train: model path under a file" ${d}
             "cannot save model to 'a-file/m.bin': folder 'a-file' does not exist"
             train --train-limit 10 --epochs 1 --save a-file/m.bin)
expect_error("train: missing data folder" /nonexistent
             "dataset 'mnist' (train split) not found: looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in /nonexistent/mnist; install it with: bash scripts/install.sh (or set CONVLAB_DATA_DIR to a folder holding mnist/)"
             train --train-limit 10 --epochs 1 --save m.bin)

# evaluate
expect_error("evaluate: truncated model" ${d} "truncated.bin: truncated: the header says 318 bytes, the file has 200"
             evaluate --model truncated.bin)
expect_error("evaluate: missing model" ${d} "absent.bin: cannot open: No such file or directory"
             evaluate --model absent.bin)
expect_error("evaluate: not a model" ${d} "x.npy: not a convlab model (bad magic)"
             evaluate --model x.npy)
expect_error("evaluate: model for another input shape" ${d}
             "the model takes 1x5x5 images in 2 classes; mnist has 1x28x28 in 10"
             evaluate --model conv_f32.bin)
expect_error("evaluate: unknown implementation" ${d} "unknown implementation 'nosuch' (known: ${known_impls})"
             evaluate --model conv_f32.bin --impl nosuch)
expect_error("evaluate: missing data folder" /nonexistent
             "dataset 'mnist' (test split) not found: looked for t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] in /nonexistent/mnist; install it with: bash scripts/install.sh (or set CONVLAB_DATA_DIR to a folder holding mnist/)"
             evaluate --model conv_f32.bin)

# conv
expect_error("conv: stride 0" ${d} "--stride: expected N or ROWS,COLS with integers of at least 1, got '0'"
             conv --input x.npy --weights w.npy --out-dir out --stride 0)
expect_error("conv: negative padding" ${d} "--padding: expected N or ROWS,COLS with integers of at least 0, got '-1'"
             conv --input x.npy --weights w.npy --out-dir out --padding -1)
expect_error("conv: window larger than the input" ${d}
             "input (1, 1, 2, 2) with weights (1, 1, 3, 3): window of 3 is larger than the padded input of 2 (input 2, padding 0)"
             conv --input w.npy --weights x.npy --out-dir out)
expect_error("conv: unknown implementation" ${d} "unknown implementation 'nosuch' (known: ${known_impls})"
             conv --impl nosuch --input x.npy --weights w.npy --out-dir out)
expect_error("conv: missing input" ${d} "absent.npy: cannot open for reading"
             conv --input absent.npy --weights w.npy --out-dir out)
expect_error("conv: output folder under a file" ${d} "cannot save results to 'a-file/out': Not a directory"
             conv --input x.npy --weights w.npy --out-dir a-file/out)
expect_error("conv: input is a folder" ${d} ".: cannot open: it is a folder"
             conv --input . --weights w.npy --out-dir out)
expect_error("evaluate: model is a folder" ${d} ".: cannot open: it is a folder"
             evaluate --model .)
expect_error("evaluate: model is a device" ${d} "/dev/zero: cannot open: not a regular file"
             evaluate --model /dev/zero)

# lecture
expect_error("lecture: zero iterations" ${d}
             "--iterations: must be an integer of at least 1, got '0' (run with --help for more information)"
             lecture --iterations 0)
expect_error("lecture: unknown implementation" ${d} "unknown implementation 'nosuch' (known: ${known_impls})"
             lecture --impl nosuch --save-dir out)
expect_error("lecture: zero training images" ${d}
             "--train-limit: must be an integer of at least 1, got '0' (run with --help for more information)"
             lecture --train-limit 0)

# windows
expect_error("windows: unknown detector" ${d}
             "--detector: sobel not in {lecture,band} (run with --help for more information)"
             windows --detector sobel)
expect_error("windows: window 0" ${d}
             "--window: must be an integer of at least 1, got '0' (run with --help for more information)"
             windows --window 0)
expect_error("windows: negative window" ${d}
             "--window: must be an integer of at least 1, got '-3' (run with --help for more information)"
             windows --window -3)
expect_error("windows: stride 0" ${d}
             "--stride: must be an integer of at least 1, got '0' (run with --help for more information)"
             windows --stride 0)
expect_error("windows: window larger than the image" ${d} "window 29x29 is larger than the image 28x28"
             windows --window 29)
expect_error("windows: digit out of range" ${d}
             "--digit 70000 is out of range: the mnist training split holds 60000 images"
             windows --digit 70000)
expect_error("windows: missing data folder" /nonexistent
             "dataset 'mnist' (train split) not found: looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in /nonexistent/mnist; install it with: bash scripts/install.sh (or set CONVLAB_DATA_DIR to a folder holding mnist/)"
             windows)

# plot
expect_error("plot: window 0" ${d}
             "--window: must be an integer of at least 1, got '0' (run with --help for more information)"
             plot windows --window 0 --out w.png)
expect_error("plot: window larger than the image" ${d} "window 40x40 is larger than the image 28x28"
             plot windows --window 40 --out w.png)
if(WITH_PLOTS)
  expect_error("plot: unwritable output path" ${d}
               "a-file/d.png: cannot create directory ${SCRATCH}/a-file: Not a directory"
               plot digit --out a-file/d.png)
else()
  expect_error("plot: built without figures" ${d}
               "d.png: not drawn: this convlab was built without figures (CMake option CONVLAB_BUILD_PLOTS=OFF); for PNG output, install gnuplot-iostream and Boost (bash scripts/install.sh) and build with -DCONVLAB_BUILD_PLOTS=ON"
               plot digit --out d.png)
endif()
expect_error("plot: truncated model" ${d} "truncated.bin: truncated: the header says 318 bytes, the file has 200"
             plot filters --model truncated.bin --out f.png)

# compare (the missing-data case uses the default --out: no results/ folder may be left behind)
expect_error("compare: unknown implementation" ${d}
             "unknown implementation 'nosuch' in --impls (known: ${known_impls_commas})"
             compare --impls ${first_impl},nosuch --train-limit 10 --out c)
expect_error("compare: repeated implementation" ${d} "--impls lists '${last_impl}' twice"
             compare --impls ${last_impl},${last_impl} --train-limit 10 --out c)
expect_error("compare: zero test images" ${d} "--test-limit must be at least 1, got 0"
             compare --test-limit 0 --train-limit 10 --out c)
expect_error("compare: output folder under a file" ${d} "cannot save comparison to 'a-file/c': Not a directory"
             compare --train-limit 10 --test-limit 10 --out a-file/c)
expect_error("compare: missing data folder" /nonexistent
             "dataset 'mnist' (train split) not found: looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in /nonexistent/mnist; install it with: bash scripts/install.sh (or set CONVLAB_DATA_DIR to a folder holding mnist/)"
             compare --train-limit 10)

# accuracy (reads no data: the cases run without MNIST too)
expect_error("accuracy: unknown implementation" /nonexistent
             "unknown implementation 'nosuch' in --impls (known: ${known_impls_commas})"
             accuracy --impls ${first_impl},nosuch --quick --out a)
expect_error("accuracy: empty implementation entry" /nonexistent "--impls '${first_impl},,${last_impl}' has an empty entry"
             accuracy --impls ${first_impl},,${last_impl} --quick --out a)
expect_error("accuracy: zero threads" /nonexistent "--threads must be at least 1, got 0"
             accuracy --threads 0 --quick --out a)
expect_error("accuracy: negative seed" /nonexistent "--seed must be at least 0, got -1"
             accuracy --seed -1 --quick --out a)
expect_error("accuracy: output folder is a file" /nonexistent
             "cannot save accuracy results to 'a-file': it is a file, not a folder"
             accuracy --quick --out a-file)
expect_error("accuracy: output folder under a file" /nonexistent
             "cannot save accuracy results to 'a-file/a': Not a directory"
             accuracy --quick --out a-file/a)
expect_error("accuracy: unwritable JSON path" /nonexistent
             "cannot save JSON results to '/nonexistent/dir/a.json': folder '/nonexistent/dir' does not exist"
             accuracy --quick --json /nonexistent/dir/a.json)

# Usage errors (what the command line itself gets wrong) exit 2 in every subcommand; errors in what the
# command then finds (files, data) exit 1. --version names the project's version and exits 0.
foreach(usage "train --bogus" "evaluate" "plot filters --nosuch 1" "windows --window" "lecture --iterations x"
              "conv" "compare --impls" "impls extra" "accuracy --seed x" "")
  math(EXPR cases "${cases} + 1")
  separate_arguments(arguments UNIX_COMMAND "${usage}")
  execute_process(COMMAND ${CONVLAB} ${arguments} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  if(NOT status EQUAL 2 OR NOT err MATCHES "^convlab: error: .*run with --help")
    message(SEND_ERROR "FAIL usage error 'convlab ${usage}': exit ${status}, stderr '${err}' (expected exit 2)")
    math(EXPR failures "${failures} + 1")
  else()
    message(STATUS "ok   usage error 'convlab ${usage}' exits 2")
  endif()
endforeach()
math(EXPR cases "${cases} + 1")
execute_process(COMMAND ${CONVLAB} evaluate --model nosuch.bin WORKING_DIRECTORY "${SCRATCH}" RESULT_VARIABLE status
                OUTPUT_QUIET ERROR_QUIET TIMEOUT 60)
if(NOT status EQUAL 1)
  message(SEND_ERROR "FAIL a missing model file: exit ${status}, expected 1")
  math(EXPR failures "${failures} + 1")
endif()
math(EXPR cases "${cases} + 1")
execute_process(COMMAND ${CONVLAB} --version RESULT_VARIABLE status OUTPUT_VARIABLE out TIMEOUT 60)
if(NOT status EQUAL 0 OR NOT out MATCHES "^convlab [0-9]+\\.[0-9]+\\.[0-9]+\n$")
  message(SEND_ERROR "FAIL convlab --version: exit ${status}, '${out}'")
  math(EXPR failures "${failures} + 1")
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} of ${cases} command-line error cases failed")
endif()
message(STATUS "all ${cases} command-line error cases gave one clear line, a non-zero exit and no output file")
if(skipped GREATER 0)
  message(STATUS "(${skipped} cases that read MNIST were left out: it is not in ${DATA_DIR}/mnist)")
endif()
