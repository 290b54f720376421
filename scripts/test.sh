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
  # On every core, as jobs that each take the next job when they finish: first every case tagged [heavy] (the
  # longest under the sanitizers) on its own, then the others in four groups per core, so that the cores finish
  # together. Catch reads a job's names from a file, where a comma or bracket of a name must be escaped. Every
  # job must pass, and together they must have run every case listed.
  sanitized=build-sanitize/tests/convlab_tests
  jobs=build-sanitize/tests/sanitized-jobs
  rm -rf "$jobs" && mkdir -p "$jobs"
  list_cases() {
    { "$sanitized" "$1" --list-test-names-only || true; } |  # Catch's exit code: how many it listed
      sed -e '/^$/d' -e 's/[],[]/\\&/g'
  }
  list_cases "[heavy]~[slow]~[no_gnuplot]" > "$jobs/heavy.txt"
  list_cases "~[heavy]~[slow]~[no_gnuplot]" > "$jobs/rest.txt"
  [[ -s "$jobs/rest.txt" ]] || { echo "FAILED: $sanitized listed no tests"; exit 1; }
  listed=$(cat "$jobs/heavy.txt" "$jobs/rest.txt" | wc -l)
  split -l 1 -d -a 3 "$jobs/heavy.txt" "$jobs/job-a"
  groups=$(($(nproc) * 4))
  for ((group = 0; group < groups; group++)); do
    awk -v group="$group" -v groups="$groups" 'NR % groups == group' "$jobs/rest.txt" > "$jobs/job-b$(printf %03d "$group")"
  done
  find "$jobs" -name 'job-*' -empty -delete
  run_job() {
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$sanitized" -f "$1" --order rand --rng-seed 1 >"$1.log" 2>&1 || echo "$1" >>"$jobs/failed.txt"
  }
  export -f run_job
  export sanitized jobs
  find "$jobs" -name 'job-*' | sort | xargs -P "$(nproc)" -I{} bash -c 'run_job "$1"' _ {}
  cat "$jobs"/job-*.log
  ran=$(sed -n 's/^All tests passed (.* in \([0-9]*\) test cases\?)$/\1/p' "$jobs"/job-*.log | awk '{ n += $1 } END { print n + 0 }')
  if [[ -s "$jobs/failed.txt" ]]; then
    echo "FAILED: the sanitized unit tests of $(tr '\n' ' ' < "$jobs/failed.txt")(see the output above)"
    exit 1
  fi
  if ((ran != listed)); then
    echo "FAILED: the sanitized jobs passed $ran test cases of the $listed listed"
    exit 1
  fi
  echo "Sanitized unit tests: all $listed test cases passed, in $(find "$jobs" -name 'job-*.log' | wc -l) jobs"
fi
echo "== the whole suite through ctest"
(cd build && ctest --output-on-failure -j"$(nproc)")
if [[ "${CONVLAB_SKIP_MINIMAL:-0}" != 1 ]]; then
  echo "== a build without figures or benchmarks (CONVLAB_BUILD_PLOTS=OFF, CONVLAB_BUILD_BENCH=OFF): its unit tests"
  cmake -S . -B build-minimal -DCMAKE_BUILD_TYPE=Release -DCONVLAB_BUILD_PLOTS=OFF -DCONVLAB_BUILD_BENCH=OFF >/dev/null
  cmake --build build-minimal -j"$(nproc)"
  (cd build-minimal && ctest --output-on-failure -j"$(nproc)" -L unit)
fi
