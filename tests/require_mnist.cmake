# Included at the top of the ctest scripts that train on or read MNIST (-DDATA_DIR=<datasets>): without the
# files scripts/install.sh fetches, it prints "SKIPPED: ..." and sets MNIST_MISSING, and the script returns;
# ctest then counts the test as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt).
set(MNIST_MISSING FALSE)
foreach(file train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
  if(NOT EXISTS "${DATA_DIR}/mnist/${file}" AND NOT EXISTS "${DATA_DIR}/mnist/${file}.gz")
    message("SKIPPED: ${DATA_DIR}/mnist/${file}[.gz] not found (bash scripts/install.sh fetches MNIST)")
    set(MNIST_MISSING TRUE)
    break()
  endif()
endforeach()
