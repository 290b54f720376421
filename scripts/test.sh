#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test suite through ctest;
# then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)")
if [[ "${CONVLAB_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== the unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (tests tagged [slow] skipped)"
  CONVLAB_BUILD_DIR=build-sanitize bash scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCONVLAB_SANITIZE=address,undefined --target convlab_tests
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    build-sanitize/tests/convlab_tests "~[slow]" --order rand --rng-seed 1
fi
