# A user who binds OpenMP threads (OMP_PROC_BIND, OMP_PLACES) keeps every CPU the environment gives. The programs
# re-execute themselves once to bound libgomp's spinning (common/machine/openmp_spin.hpp), and libgomp binds the
# initial thread to the first place while it loads: a re-executed program inherited that one place as its whole
# affinity mask, and both threads of every team ran on one CPU. With OMP_DISPLAY_ENV set libgomp prints its
# places as each process starts; every process of the run must print the same ones (on a one-CPU machine there is
# only one place to keep, and the check cannot fail). Also checked: the spin bound still applies when threads are
# not bound (OMP_DISPLAY_ENV=verbose prints GOMP_SPINCOUNT; the value is read from the header that sets it).
# Run by ctest (tests/CMakeLists.txt) as
#   cmake -DCONVLAB=<convlab> -P openmp_binding.cmake
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(CONVLAB)
set(header "${CMAKE_CURRENT_LIST_DIR}/../common/machine/openmp_spin.hpp")
file(STRINGS "${header}" spin_line REGEX "kDefaultOpenMpSpinCount = \"[0-9]+\"")
if(NOT spin_line MATCHES "kDefaultOpenMpSpinCount = \"([0-9]+)\"")
  message(FATAL_ERROR "no kDefaultOpenMpSpinCount = \"<count>\" in ${header}")
endif()
set(SPIN_COUNT "${CMAKE_MATCH_1}")

# run_convlab(<output variable> [NAME=VALUE...]): convlab --version with only those of libgomp's variables set.
function(run_convlab out_var)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=OMP_WAIT_POLICY --unset=GOMP_SPINCOUNT
                    --unset=GOMP_CPU_AFFINITY --unset=OMP_PROC_BIND --unset=OMP_PLACES OMP_DISPLAY_ENV=verbose ${ARGN}
                    ${CONVLAB} --version
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "convlab --version with ${ARGN}: exit ${status}\n--- stdout\n${out}--- stderr\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

# Bound threads: every process reports the places of the first.
run_convlab(bound OMP_PROC_BIND=true OMP_PLACES=cores)
string(REGEX MATCHALL "OMP_PLACES = '[^']*'" places "${bound}")
list(LENGTH places count)
if(count EQUAL 0)
  message(FATAL_ERROR "OMP_DISPLAY_ENV=verbose printed no OMP_PLACES line:\n${bound}")
endif()
list(GET places 0 first)
foreach(place IN LISTS places)
  if(NOT place STREQUAL first)
    message(FATAL_ERROR "with OMP_PROC_BIND=true OMP_PLACES=cores the program started as ${first} and went on as "
                        "${place}: a re-executed process lost the other places\n${bound}")
  endif()
endforeach()

# Unbound threads: the re-executed process runs with convlab's spin count.
run_convlab(unbound)
if(NOT unbound MATCHES "GOMP_SPINCOUNT = '${SPIN_COUNT}'")
  message(FATAL_ERROR "without bound threads the program should re-execute itself with GOMP_SPINCOUNT=${SPIN_COUNT}; "
                      "libgomp printed:\n${unbound}")
endif()
