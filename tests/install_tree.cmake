# `cmake --install` into a scratch prefix, run by ctest (tests/CMakeLists.txt) as
#   cmake -DBUILD_DIR=<build> -DSCRATCH=<folder> [-DPYTHON=<python> -DPYTHON_SITE=<dir under the prefix>]
#         -P install_tree.cmake
# The installed convlab runs; convlab_bench (when built) lists the standard shapes from the installed copy of
# bench/shapes; the Python package imports from the installed site folder, not from the build.
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(BUILD_DIR SCRATCH)
file(REMOVE_RECURSE "${SCRATCH}")
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${SCRATCH}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${status}):\n${out}${err}")
endif()

execute_process(COMMAND ${SCRATCH}/bin/convlab --version RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL 0 OR NOT out MATCHES "^convlab [0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "installed convlab --version: exit ${status}, '${out}${err}'")
endif()

if(EXISTS ${BUILD_DIR}/convlab_bench)
  foreach(suite mnist resnet deepbench tails)
    if(NOT EXISTS ${SCRATCH}/share/convlab/shapes/${suite}.txt)
      message(FATAL_ERROR "the installed tree lacks share/convlab/shapes/${suite}.txt")
    endif()
  endforeach()
  # A shape only the installed copy has: the installed convlab_bench must read its shapes from there.
  file(APPEND ${SCRATCH}/share/convlab/shapes/resnet.txt "mb2ic8oc8ih9kh3n\"installed_copy_only\"\n")
  execute_process(COMMAND ${SCRATCH}/bin/convlab_bench --convlab_list_cases
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0 OR NOT out MATCHES "installed_copy_only")
    message(FATAL_ERROR "installed convlab_bench --convlab_list_cases (exit ${status}) did not read "
                        "${SCRATCH}/share/convlab/shapes:\n${err}")
  endif()
endif()

if(DEFINED PYTHON_SITE)
  if(IS_ABSOLUTE "${PYTHON_SITE}")
    message(STATUS "CONVLAB_PYTHON_INSTALL_DIR is absolute (${PYTHON_SITE}): the package was not checked")
    return()
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${SCRATCH}/${PYTHON_SITE}
                          ${PYTHON} -c "import convlab; print(convlab.__file__); print(convlab.implementations())"
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0 OR NOT out MATCHES "^${SCRATCH}/${PYTHON_SITE}/convlab/__init__.py")
    message(FATAL_ERROR "import convlab from the installed tree: exit ${status}, '${out}'\n${err}")
  endif()
endif()
message(STATUS "installed tree in ${SCRATCH} checked")
