# `convlab lecture` on a small subset: both networks train, the report sets the lecture's printed numbers
# beside convlab's, the shapes follow the strides, and the models and curves land in --save-dir.
file(REMOVE_RECURSE "${SCRATCH}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${DATA_DIR}
                        ${CONVLAB} lecture --iterations 2 --train-limit 300 --test-limit 200 --threads 2
                        --save-dir ${SCRATCH}
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
