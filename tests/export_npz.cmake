# `convlab export`, run by ctest (tests/CMakeLists.txt) as
#   cmake -DCONVLAB=<convlab> -DPYTHON=<python with numpy> -DDATA_DIR=<datasets> -DSCRATCH=<folder> -P export_npz.cmake
# A small model in float and in double, exported: np.load reads every layer's weights and bias in the model's
# precision, equal to the model file's parameters as read back independently (the format of
# common/nn/model_file.hpp, parsed here in numpy), and metadata.json names the architecture. Bad input: an
# error naming the file, nothing written.
include(${CMAKE_CURRENT_LIST_DIR}/script_arguments.cmake)
require_arguments(CONVLAB PYTHON DATA_DIR SCRATCH)
include(${CMAKE_CURRENT_LIST_DIR}/require_mnist.cmake)
if(MNIST_MISSING)
  return()
endif()
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")

function(run)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env CONVLAB_DATA_DIR=${DATA_DIR} ${ARGN}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${ARGN} failed (${status}):\n${out}\n${err}")
  endif()
endfunction()

set(check [=[
import json, struct, sys, zlib
import numpy as np
model_path, npz_path, dtype = sys.argv[1], sys.argv[2], np.dtype(sys.argv[3])
raw = open(model_path, "rb").read()
assert raw[:12] == b"CONVLABMODEL" and zlib.crc32(raw[:-4]) == struct.unpack("<I", raw[-4:])[0]
at = 12 + 4 + 8 + 16
(length,) = struct.unpack_from("<I", raw, at)
layers_text = raw[at + 4:at + 4 + length].decode()
at += 4 + length
size = raw[at]
at += 1 + 1 + 16
(count,) = struct.unpack_from("<Q", raw, at)
parameters = np.frombuffer(raw, dtype="<f4" if size == 4 else "<f8", count=count, offset=at + 8)
archive = np.load(npz_path)
meta = json.loads(archive["metadata.json"])
assert meta["architecture"] == layers_text, (meta["architecture"], layers_text)
assert meta["precision"] == dtype.name, meta["precision"]
flat = []
for layer in meta["layers"]:
    for name in (layer["weights"], layer["bias"]):
        array = archive[name]
        assert array.dtype == dtype, (name, array.dtype)
        flat.append(array.ravel())
assert len(meta["layers"]) == 3 and archive[meta["layers"][0]["weights"]].shape == (4, 1, 5, 5)
assert np.array_equal(np.concatenate(flat), parameters), "the arrays differ from the model file's parameters"
print(f"{npz_path}: {len(archive.files) - 1} arrays, {count} parameters, {dtype.name}")
]=])
foreach(precision float double)
  set(model "${SCRATCH}/${precision}.bin")
  set(npz "${SCRATCH}/${precision}.npz")
  run(${CONVLAB} train --arch conv4:5x5,dense8 --train-limit 300 --epochs 1 --threads 1 --precision ${precision} --save ${model})
  run(${CONVLAB} export --model ${model} --out ${npz})
  if(precision STREQUAL "float")
    set(dtype float32)
  else()
    set(dtype float64)
  endif()
  execute_process(COMMAND ${PYTHON} -c "${check}" ${model} ${npz} ${dtype}
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "np.load of ${npz}:\n${out}${err}")
  endif()
  message(STATUS "${out}")
endforeach()

# Bad input: a damaged model, a missing folder. One clear line, a non-zero exit, no archive.
file(WRITE "${SCRATCH}/damaged.bin" "CONVLABMODEL but nothing after")
foreach(case "damaged.bin|out.npz|damaged.bin" "float.bin|missing/out.npz|missing")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 model)
  list(GET parts 1 out)
  list(GET parts 2 named)
  execute_process(COMMAND ${CONVLAB} export --model ${SCRATCH}/${model} --out ${SCRATCH}/${out}
                  RESULT_VARIABLE status OUTPUT_VARIABLE stdout ERROR_VARIABLE err)
  if(status EQUAL 0 OR NOT err MATCHES "^convlab: error: [^\n]*${named}[^\n]*\n$" OR EXISTS ${SCRATCH}/${out})
    message(FATAL_ERROR "export --model ${model} --out ${out}: exit ${status}, stderr '${err}'")
  endif()
endforeach()
