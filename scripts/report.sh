#!/usr/bin/env bash
# Writes the main job's report: results/report-<timestamp>/README.md with its PNGs and the raw outputs they
# come from, and a copy of that folder in report/. The page holds the lecture's windows walk-through, the
# main job (`convlab train`, the lecture's network on MNIST; extra arguments go to it) with its confusion
# matrices and figures and its step profile (each minibatch step, or each SCG iteration), `convlab compare`'s table (when this build has that command), and a quick benchmark
# of the lecture layer. Every number in it is read from this run's output files.
#   --no-bench   leave out the benchmark (its section then says so)
# Uses the convlab built in build/ (or $CONVLAB_BUILD_DIR): run scripts/build.sh first (scripts/run.sh does).
# Any failing step stops the script with a message naming it; the page is written only once all succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."

bench=1
train_args=()
for arg in "$@"; do
  case "$arg" in
    --no-bench) bench=0 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) train_args+=("$arg") ;;
  esac
done

build_dir=${CONVLAB_BUILD_DIR:-build}
convlab="$build_dir/convlab"
if [[ ! -x "$convlab" ]]; then
  echo "report: $convlab not found: build first (bash scripts/build.sh)" >&2
  exit 1
fi

stamp=$(date +%Y%m%d-%H%M%S)
out="results/report-$stamp"
while [[ -e "$out" ]]; do out="$out-again"; done
mkdir -p "$out"
log="$out/log.txt"
say() { echo "report [$(date +%H:%M:%S)]: $*" | tee -a "$log" >&2; }

now() { date +%s.%N; }
seconds_since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }
# shell_words ARGS...: the command line as one would type it, arguments with spaces or quotes in '...'
shell_words() {
  local word words=()
  for word in "$@"; do
    if [[ "$word" =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then words+=("$word"); else words+=("'${word//\'/\'\\\'\'}'"); fi
  done
  echo "${words[*]}"
}
commands=()   # every command run, in order, for the page
step_times=() # "what|seconds"
# step WHAT STDOUT_FILE COMMAND...: runs COMMAND with its output into STDOUT_FILE (- : the log only),
# records it for the page, and stops the report with a message naming WHAT if it fails.
step() {
  local what=$1 stdout=$2
  shift 2
  commands+=("$(shell_words "$@")")
  say "$what: $(shell_words "$@")"
  local start status=0
  start=$(now)
  # Progress goes to stderr: into the log, and also into $step_progress when the caller sets it.
  local progress=${step_progress:-/dev/null}
  if [[ "$stdout" == - ]]; then
    "$@" >>"$log" 2> >(tee -a "$log" "$progress" >&2) || status=$?
  else
    "$@" 2> >(tee -a "$log" "$progress" >&2) | tee "$stdout" || status=$?
  fi
  if ((status != 0)); then
    say "FAILED: $what (exit status $status): $*; see $log. No page was written."
    exit 1
  fi
  step_times+=("$what|$(seconds_since "$start")")
}
# fail WHAT: stops the report when an output it needs is missing or malformed.
fail() {
  say "FAILED: $*; see $log. No page was written."
  exit 1
}

report_start=$(now)
uptime_before=$(uptime | xargs)
say "writing $out; load: $uptime_before"

# 1. The lecture's windows walk-through (its digit: MNIST training image 15, a 7).
step "windows walk-through" "$out/windows.txt" "$convlab" windows
for figure in digit windows response weighted-windows; do
  step "figure $figure" - "$convlab" plot "$figure" --out "$out/$figure.png"
done

# 2. The main job, profiled operation by operation (each minibatch step, or each SCG iteration).
step_progress="$out/train-progress.txt" step "training (the main job)" "$out/train.txt" "$convlab" train \
  --save "$out/lecture.model" --history "$out/lecture-network.csv" --json "$out/train.json" --profile \
  "${train_args[@]}"
step "figure training curve" - "$convlab" plot curve --history "$out/lecture-network.csv" \
  --title "the main job: convlab train ${train_args[*]:-(defaults)}" --out "$out/curve.png"
step "figure confusion" - "$convlab" plot confusion --model "$out/lecture.model" --split test --out "$out/confusion.png"
step "figure filters" - "$convlab" plot filters --model "$out/lecture.model" --out "$out/filters.png"
step "figure feature maps" - "$convlab" plot feature-maps --model "$out/lecture.model" --split test --digit 4 \
  --out "$out/feature-maps.png"

# 3. `convlab compare`, when this build has it: 3 epochs on 2000 training images (not its default single
# epoch: one point per curve draws no overlay), tested on 2000 (naive's per-epoch test evaluation would
# take longer than its training), every implementation, naive the reference.
compare_args=(--epochs 3 --train-limit 2000 --test-limit 2000)
has_compare=0
if "$convlab" compare --help >/dev/null 2>&1; then
  has_compare=1
  step "compare" "$out/compare.txt" "$convlab" compare "${compare_args[@]}" --out "$out/compare" --history
  compare_histories=()
  for impl in $(tail -n +2 "$out/compare/compare.csv" | cut -d, -f1); do
    compare_histories+=(--history "$out/compare/history/$impl.csv")
  done
  ((${#compare_histories[@]})) || fail "$out/compare/compare.csv lists no implementation"
  step "figure compare curves" - "$convlab" plot curve "${compare_histories[@]}" \
    --title "convlab compare ${compare_args[*]}: one curve per implementation" --out "$out/compare-curves.png"
fi

# 4. The quick benchmark (its own results/bench-<timestamp>/ folder).
bench_dir=
if ((bench)); then
  step "quick benchmark" "$out/bench.txt" env CONVLAB_BUILD_DIR="$build_dir" bash scripts/bench.sh --quick
  bench_dir=$(sed -n 's/^bench: summary in \(.*\)\/summary.md$/\1/p' "$out/bench.txt")
  [[ -n "$bench_dir" && -f "$bench_dir/summary.md" ]] || fail "scripts/bench.sh --quick did not name its summary.md"
  cp "$bench_dir/summary.md" "$out/bench-summary.md"
  if [[ -f "$bench_dir/step-profile.png" ]]; then cp "$bench_dir/step-profile.png" "$out/bench-step-profile.png"; fi
  bench_json=()
  for file in "$bench_dir"/*.json; do
    case "$(basename "$file")" in plan.json|meta.json|summary.json|torch_epoch.json) ;; *) bench_json+=("$file") ;; esac
  done
  step "figure bench" - "$convlab" plot bench --json "${bench_json[@]}" --pass forward --out "$out/bench.png"
  step "figure roofline" - "$convlab" plot roofline --json "${bench_json[@]}" --out "$out/roofline.png"
fi

uptime_after=$(uptime | xargs)
report_seconds=$(seconds_since "$report_start")

# The page. Numbers are read from the files above; a line that cannot be found stops the report.
# section FILE TITLE_PATTERN: a "## " section of a Markdown file, its headings one level deeper
section() {
  awk -v pattern="$2" '/^## / { inside = ($0 ~ pattern) } inside { if (/^#/) $0 = "#" $0; print }' "$1"
}
# compare_table FILE: compare.json as a Markdown table
compare_table() {
  /usr/bin/python3 - "$1" <<'PYTHON' || fail "cannot read the comparison table from $1"
import json, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
tested = report["context"]["test_examples"]
print("| implementation | training s | speed-up vs " + report["reference"] + " | train % | test % "
      "| max \\|p - p_ref\\| | test predictions differing |")
print("|---|---|---|---|---|---|---|")
for row in report["rows"]:
    name = row["impl"] + (" (reference)" if row["reference"] else "")
    print(f"| {name} | {row['training_seconds']:.2f} | {row['speedup']:.2f} | {row['train_percent']:.2f} "
          f"| {row['test_percent']:.2f} | {row['max_probability_deviation']:.2e} "
          f"| {row['differing_predictions']} / {tested} |")
PYTHON
}
# step_profile_table TRAIN_JSON [BENCH_SUMMARY_JSON]: the main job's step profile as bench/summarize.py's
# table, each operation against its bound at the job's thread count from the quick benchmark's measured peak
# (without one: no fractions)
step_profile_table() {
  /usr/bin/python3 - "$@" <<'PYTHON' || fail "cannot read the step profile from $1"
import json, sys
sys.path.insert(0, "bench")
import summarize
train = json.load(open(sys.argv[1], encoding="utf-8"))
profile, threads = train["step_profile"], train["threads"]
peak = bandwidth = None
if len(sys.argv) > 2:
    bench = json.load(open(sys.argv[2], encoding="utf-8"))
    peak = bench["fma_peak_gflops"].get(f"{train['precision']}/threads:{threads}")
    bandwidth = bench["memory_gbps"].get(f"copy/threads:{threads}")
rows, never = summarize.step_profile_table_rows(profile, peak, bandwidth)
step = profile.get("step", "step")  # "iteration" for SCG
print(f"{profile['steps']} {step}s ({profile['examples']} examples), "
      f"{summarize.fmt(1e3 * profile['step_seconds'] / profile['steps'])} ms per {step} on {threads} thread(s):")
print()
print("\n".join(summarize.step_profile_table(rows, never, step)))
PYTHON
}
json_value() {  # FILE KEY...: the value at that path of the JSON file (numbers to 2 decimals), or fail
  /usr/bin/python3 -c '
import json, sys
value = json.load(open(sys.argv[1], encoding="utf-8"))
for key in sys.argv[2:]:
    value = value[key]
print(f"{value:.2f}" if isinstance(value, float) else value)' "$@" ||
    fail "cannot read $(echo "${@:2}") from $1"
}
# The main job's figures from its --json file.
train_result() { json_value "$out/train.json" "$@"; }
# The comparison's first line (its settings), as compare.json holds it.
if ((has_compare)); then compare_context=$(json_value "$out/compare/compare.json" context description); fi
training_time="Training took $(train_result training_seconds) s"
if [[ "$(train_result optimizer)" != scg ]]; then training_time+=" (not counting the per-epoch test evaluation)"; fi
percent_correct="Percent correct: train $(train_result train percent_correct)%, test $(train_result test percent_correct)%"
cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
compiler_version=$("${compiler:-c++}" --version | head -1)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")

page="$out/README.md.partial"
{
  echo "# convlab: the main job's report"
  echo
  echo "Written by \`scripts/report.sh\` (the end of \`scripts/run.sh\`) on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo "Every figure and number below comes from this run's output files, which sit beside this page."
  echo
  echo "- machine: $cpu_model (lscpu model name), $(nproc) cores ($(lscpu | sed -n 's/^CPU(s): *//p') CPUs in lscpu), $(free -g | awk '/^Mem:/ { print $2 }') GiB"
  echo "- load (uptime) at the start: $uptime_before; at the end: $uptime_after"
  echo "- build: \`$build_dir\`, $build_type, $compiler_version; per implementation (\`convlab impls\`):"
  echo
  echo '```text'
  "$convlab" impls
  echo '```'
  echo
  echo "- the report's steps took $(printf '%.0f' "$report_seconds") s in all:"
  echo
  echo "| step | seconds |"
  echo "|---|---|"
  for entry in "${step_times[@]}"; do printf '| %s | %.1f |\n' "${entry%%|*}" "${entry##*|}"; done
  echo
  echo "Contents: [1. Windows walk-through](#1-the-lectures-windows-walk-through) ·"
  echo "[2. The main job](#2-the-main-job-training-the-lectures-network) ·"
  echo "[3. compare](#3-compare-implementations-side-by-side) ·"
  echo "[4. Quick benchmark](#4-quick-benchmark) · [Commands run](#commands-run)"
  echo
  echo "## 1. The lecture's windows walk-through"
  echo
  echo "The lecture's \`as_strided\` examples - a 2 x 3 x 4 array, then its digit (MNIST training image 15, a 7)"
  echo "as a grid of 10 x 10 windows - and its diagonal detector swept over the windows (\`convlab windows\`,"
  echo "with the values the lecture printed beside convlab's):"
  echo
  echo '```text'
  cat "$out/windows.txt"
  echo '```'
  echo
  echo "| the digit | its windows |"
  echo "|---|---|"
  echo "| ![digit](digit.png) | ![windows](windows.png) |"
  echo "| **the detector's response** | **each window x its response** |"
  echo "| ![response](response.png) | ![weighted windows](weighted-windows.png) |"
  echo
  echo "## 2. The main job: training the lecture's network"
  echo
  if ((${#train_args[@]})); then
    echo "\`convlab train $(shell_words "${train_args[@]}")\` (with \`--save\` and \`--history\` into this folder)."
  else
    echo "\`convlab train\` with its defaults, the lecture's network on MNIST (with \`--save\` and \`--history\` into this"
    echo "folder); its network, data and optimiser settings head its output below."
  fi
  echo
  echo "- **$percent_correct**"
  echo "- **$training_time**"
  echo
  echo "Its progress lines, on stderr ([train-progress.txt](train-progress.txt)), and its results, on stdout"
  echo "([train.txt](train.txt); as JSON: [train.json](train.json)):"
  echo
  echo '```text'
  cat "$out/train-progress.txt"
  echo '```'
  echo
  echo '```text'
  cat "$out/train.txt"
  echo '```'
  echo
  if [[ "$(train_result optimizer)" == scg ]]; then
    echo "Its SCG iterations operation by operation (each iteration's evaluations over the full batch, and SCG's own"
    echo "vector arithmetic as \"update\"; \`--profile\`, \"step_profile\" in [train.json](train.json); share of"
  else
    echo "Its training step operation by operation (\`--profile\`, \"step_profile\" in [train.json](train.json); share of"
  fi
  echo "their wall time, \"other\" the rest; the products in GFLOP/s against the FMA peak, the elementwise"
  if [[ -n "$bench_dir" ]]; then
    echo "operations in GB/s against the copy bandwidth, both measured by the quick benchmark of section 4):"
    echo
    step_profile_table "$out/train.json" "$bench_dir/summary.json"
  else
    echo "operations in GB/s; no fraction of the bounds: the benchmark, which measures them, was left out):"
    echo
    step_profile_table "$out/train.json"
  fi
  echo "The training curve ([lecture-network.csv](lecture-network.csv)) and the test set's confusion matrix:"
  echo
  echo "![training curve](curve.png)"
  echo
  echo "![confusion](confusion.png)"
  echo
  echo "The first layer's learned filters ([lecture.model](lecture.model)):"
  echo
  echo "![filters](filters.png)"
  echo
  echo "Each filter beside its feature map for test image 4 (the lecture's digit, a 4):"
  echo
  echo "![feature maps](feature-maps.png)"
  echo
  echo "## 3. compare: implementations side by side"
  echo
  if ((has_compare)); then
    echo "\`convlab compare ${compare_args[*]}\` trains the same network from the same seed with every implementation,"
    echo "naive first as the reference ([compare.json](compare/compare.json), [compare.csv](compare/compare.csv),"
    echo "[its output](compare.txt)). $compare_context"
    echo
    compare_table "$out/compare/compare.json"
    echo
    echo "Training time leaves out the per-epoch test evaluation. Where the curves lie on top of each other the"
    echo "implementations trained the same classifier:"
    echo
    echo "![compare curves](compare-curves.png)"
  else
    echo "Not run: this build of convlab has no \`compare\` command yet."
  fi
  echo
  echo "## 4. Quick benchmark"
  echo
  if ((bench)); then
    echo "\`scripts/bench.sh --quick\` wrote \`$bench_dir/\`; its whole summary is"
    echo "[bench-summary.md](bench-summary.md). Below: its header, the machine's measured peak, the targets and the"
    echo "lecture layer (every implementation and peer, against the measured FMA peak, PyTorch and oneDNN)."
    echo
    sed -n '3,/^## /p' "$bench_dir/summary.md" | sed '$d'
    section "$bench_dir/summary.md" '^## Machine peak'
    section "$bench_dir/summary.md" '^## Targets'
    section "$bench_dir/summary.md" '^## lecture1'
    # The training epoch's step profile (bench/summarize.py writes the section when the epochs were profiled).
    if grep -q '^## The training step, operation by operation' "$bench_dir/summary.md"; then
      section "$bench_dir/summary.md" '^## The training step, operation by operation'
      if [[ -f "$out/bench-step-profile.png" ]]; then
        echo "![the training step, operation by operation](bench-step-profile.png)"
        echo
      fi
    fi
    echo "The forward pass of every case, GFLOP/s per implementation and peer, and the roofline (float32, 1 thread):"
    echo
    echo "![bench](bench.png)"
    echo
    echo "![roofline](roofline.png)"
  else
    echo "Not run (\`--no-bench\`)."
  fi
  echo
  echo "## Commands run"
  echo
  echo "From the repository's root, in this order:"
  echo
  echo '```sh'
  printf '%s\n' "${commands[@]}"
  echo '```'
} >"$page"
mv "$page" "$out/README.md"

# report/: a stable copy of the newest report, replaced whole.
rm -rf report.partial
cp -r "$out" report.partial
rm -rf report.previous
if [[ -e report ]]; then mv report report.previous; fi
mv report.partial report
rm -rf report.previous
say "done in $(printf '%.0f' "$report_seconds") s: $out/README.md (copy in report/)"
