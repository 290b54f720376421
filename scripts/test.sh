#!/usr/bin/env bash
# README command 2: install what is missing, build, and run the whole test suite through ctest.
# Before it, the unit tests run under AddressSanitizer + UndefinedBehaviorSanitizer (tests tagged [slow]
# are skipped there, and the output says so); CONVLAB_SKIP_SANITIZERS=1 leaves that out. After it, a second
# build with the optional parts off (CONVLAB_BUILD_PLOTS=OFF, CONVLAB_BUILD_BENCH=OFF) must build and pass its
# unit tests (the [no_gnuplot] ones among them); CONVLAB_SKIP_MINIMAL=1 leaves that out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
if [[ "${CONVLAB_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (skipping tests tagged [slow], and [no_gnuplot]: this build draws)"
  # -O1 -g1 (what the sanitizers' own docs advise, with line tables for the reports): at -O2 the instrumented,
  # unrolled kernels took most of the CI time to compile.
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -DCONVLAB_SANITIZE=address,undefined >/dev/null
  cmake --build build-sanitize -j"$(nproc)" --target convlab_tests
  # In two halves on two cores (alternate test cases of the list; Catch reads each half's names from a file,
  # where a comma or bracket of a name must be escaped); both halves must pass.
  sanitized=build-sanitize/tests/convlab_tests
  { "$sanitized" "~[slow]~[no_gnuplot]" --list-test-names-only || true; } |  # Catch's exit code: how many it listed
    sed -e '/^$/d' -e 's/[],[]/\\&/g' > build-sanitize/tests/all.txt
  [[ -s build-sanitize/tests/all.txt ]] || { echo "FAILED: $sanitized listed no tests"; exit 1; }
  awk 'NR % 2 == 1' build-sanitize/tests/all.txt > build-sanitize/tests/half-1.txt
  awk 'NR % 2 == 0' build-sanitize/tests/all.txt > build-sanitize/tests/half-2.txt
  run_half() {
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$sanitized" -f "build-sanitize/tests/half-$1.txt" --order rand --rng-seed 1 >"build-sanitize/tests/half-$1.log" 2>&1
  }
  status=0
  run_half 1 & first=$!
  run_half 2 || status=1
  wait "$first" || status=1
  cat build-sanitize/tests/half-1.log build-sanitize/tests/half-2.log
  if ((status != 0)); then
    echo "FAILED: the sanitized unit tests (see the output above)"
    exit 1
  fi
fi
echo "== the whole suite through ctest"
(cd build && ctest --output-on-failure -j"$(nproc)")
if [[ "${CONVLAB_SKIP_MINIMAL:-0}" != 1 ]]; then
  echo "== a build without figures or benchmarks (CONVLAB_BUILD_PLOTS=OFF, CONVLAB_BUILD_BENCH=OFF): its unit tests"
  cmake -S . -B build-minimal -DCMAKE_BUILD_TYPE=Release -DCONVLAB_BUILD_PLOTS=OFF -DCONVLAB_BUILD_BENCH=OFF >/dev/null
  cmake --build build-minimal -j"$(nproc)"
  (cd build-minimal && ctest --output-on-failure -j"$(nproc)" -L unit)
fi
