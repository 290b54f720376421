#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test suite through ctest.
# Before it, the unit tests run under AddressSanitizer + UndefinedBehaviorSanitizer (tests tagged [slow]
# are skipped there, and the output says so); CONVLAB_SKIP_SANITIZERS=1 leaves that out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
if [[ "${CONVLAB_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (skipping tests tagged [slow])"
  # -O1 -g1 (what the sanitizers' own docs advise, with line tables for the reports): at -O2 the instrumented,
  # unrolled kernels compiled about twenty times slower than at -O1, most of the CI time.
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -DCONVLAB_SANITIZE=address,undefined >/dev/null
  cmake --build build-sanitize -j"$(nproc)" --target convlab_tests
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    build-sanitize/tests/convlab_tests "~[slow]" --order rand --rng-seed 1
fi
echo "== the whole suite through ctest"
cd build && ctest --output-on-failure -j"$(nproc)"
