# `convlab lecture` on a small subset: both networks train, the report sets the lecture's printed numbers
# beside convlab's, the shapes follow the strides, the models and curves land in --save-dir, and --json holds
# what the report printed.
include(${CMAKE_CURRENT_LIST_DIR}/require_mnist.cmake)
if(MNIST_MISSING)
  return()
endif()
file(REMOVE_RECURSE "${SCRATCH}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${DATA_DIR}
                        ${CONVLAB} lecture --iterations 2 --train-limit 300 --test-limit 200 --threads 2
                        --save-dir ${SCRATCH} --json ${SCRATCH}/lecture.json
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "convlab lecture exited with ${status}:\n${err}")
endif()
set(expected
  "Not the lecture's settings"
  "Network 1x28x28 -> conv20:5x5:s1 \\(20x24x24\\) -> dense50 -> softmax10, 577080 parameters"
  "Network was trained for 3 iterations that took [0-9.]+ seconds"
  "lecture: 101 iterations that took 9799.2786 seconds, final error 0.002036432373258122"
  "Testing data: Percent Correct  [0-9.]+   \\(lecture: 98.24\\)"
  " 9 \\|  0.3  0.4  0.1  0.2  0.6  0.5  0    0.7  0.3 96.9"
  "filters = nnet.Vs\\[0\\]: shape \\(26, 20\\)"
  "Z\\[0\\] for the test set: shape \\(200, 11520\\) \\(24 x 24 x 20 per image\\)"
  "Network 1x28x28 -> conv20:5x5:s4 \\(20x6x6\\) -> dense50 -> softmax10, 37080 parameters"
  "Z\\[0\\] for the test set: shape \\(200, 720\\) \\(6 x 6 x 20 per image\\)"
  "convlab, strides \\(4, 4\\) honoured: +[0-9.]+ %"
  "windowStrides=\\(4, 4\\) was ignored")
foreach(pattern ${expected})
  if(NOT out MATCHES "${pattern}")
    message(SEND_ERROR "convlab lecture's output lacks /${pattern}/")
  endif()
endforeach()
foreach(file lecture.model lecture-strided.model lecture.csv lecture-strided.csv)
  if(NOT EXISTS "${SCRATCH}/${file}")
    message(SEND_ERROR "convlab lecture --save-dir did not write ${file}")
  endif()
endforeach()
# The curve has one row per iteration after its header, as the error trace has one more (the initial error).
file(STRINGS "${SCRATCH}/lecture.csv" rows)
list(LENGTH rows count)
if(NOT count EQUAL 3)
  message(SEND_ERROR "lecture.csv has ${count} lines, expected a header and 2 iterations")
endif()

# --json: the settings, and per network the error trace and what the report printed.
file(READ "${SCRATCH}/lecture.json" json)
string(JSON train_images GET "${json}" settings train_images)
string(JSON recorded GET "${json}" networks as_ran errors_recorded)
string(JSON trace_length LENGTH "${json}" networks as_ran error_trace)
string(JSON last_error GET "${json}" networks as_ran error_trace 2)
string(JSON final_error GET "${json}" networks as_ran final_error)
string(JSON strides GET "${json}" networks strides_honoured window_strides)
# (The lecture's figure as written: CMake would read 98.24 back as 98.239999999999995.)
string(REGEX MATCH "\"test_percent_correct\": [0-9.]+" lecture_test "${json}")
if(NOT train_images EQUAL 300 OR NOT recorded EQUAL 3 OR NOT trace_length EQUAL 3 OR NOT last_error STREQUAL final_error
   OR NOT strides MATCHES "^\\[[ \n\t]*4,[ \n\t]*4[ \n\t]*\\]$" OR NOT lecture_test STREQUAL "\"test_percent_correct\": 98.24")
  message(SEND_ERROR "lecture.json: train_images ${train_images}, errors_recorded ${recorded}, trace of ${trace_length} "
                     "ending ${last_error} (final_error ${final_error}), strides ${strides}, lecture's test ${lecture_test}")
endif()
# The printed test percentages of both networks, in order, are the JSON's; the test matrix counts 200 images.
string(REGEX MATCHALL "Testing data: Percent Correct  [0-9.]+" printed "${out}")
set(index 0)
foreach(network as_ran strides_honoured)
  list(GET printed ${index} line)
  string(REGEX REPLACE ".* " "" printed_percent "${line}")
  string(JSON percent GET "${json}" networks ${network} test percent_correct)
  set(total 0)
  set(correct 0)
  foreach(row RANGE 9)
    foreach(col RANGE 9)
      string(JSON count GET "${json}" networks ${network} test confusion counts ${row} ${col})
      math(EXPR total "${total} + ${count}")
      if(row EQUAL col)
        math(EXPR correct "${correct} + ${count}")
      endif()
    endforeach()
  endforeach()
  # 200 test images: the printed percentage in hundredths is 50 per correct image.
  string(REPLACE "." "" printed_hundredths "${printed_percent}")
  math(EXPR printed_hundredths "${printed_hundredths}")
  math(EXPR from_matrix "${correct} * 50")
  # The same number as text, trailing zeros dropped ("88.50" and 88.5, "90.00" and 90.0).
  string(REGEX REPLACE "\\.?0+$" "" printed_short "${printed_percent}")
  string(REGEX REPLACE "\\.?0+$" "" json_short "${percent}")
  if(NOT total EQUAL 200 OR NOT printed_hundredths EQUAL from_matrix OR NOT printed_short STREQUAL json_short)
    message(SEND_ERROR "lecture.json, ${network}: the test matrix counts ${total} images (expected 200), ${correct} "
                       "correct; printed ${printed_percent} %, JSON ${percent} %")
  endif()
  math(EXPR index "${index} + 1")
endforeach()
