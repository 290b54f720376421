# Included by the ctest scripts run with `cmake -D... -P <script>`: require_arguments(VARIABLE...) stops the
# script, naming it and the first missing -D argument, unless each VARIABLE was given.
function(require_arguments)
  get_filename_component(script "${CMAKE_CURRENT_LIST_FILE}" NAME)
  foreach(variable ${ARGN})
    if(NOT DEFINED ${variable})
      message(FATAL_ERROR "${script} needs -D${variable}=...")
    endif()
  endforeach()
endfunction()
