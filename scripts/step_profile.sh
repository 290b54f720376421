#!/usr/bin/env bash
# Profiles the training step of the lecture's network (batch 64) operation by operation, at 1 and 2 threads,
# in a run of its own: convlab_bench's peak benchmarks (FMA peak, memory bandwidth) and its epoch benchmarks
# (every implementation that trains the network, on the first N MNIST images), then bench/summarize.py, whose
# section "The training step, operation by operation" and step-profile.png are the result. Writes
# results/profile-<timestamp>/ (convlab_bench.json, its console output, log.txt, meta.json, the summary).
# A short run at the default 6400 images; the full scripts/bench.sh has the same
# section, on 60000 images.
#   --images N   train the epoch benchmarks on the first N MNIST images (default 6400)
# Builds convlab_bench first in build/ (or $CONVLAB_BUILD_DIR).
set -euo pipefail
original_args="$*"
cd "$(dirname "$0")/.."

images=6400
while (($#)); do
  case "$1" in
    --images)
      if (($# < 2)); then echo "step_profile.sh: --images needs a value" >&2; exit 2; fi
      images=$2
      shift ;;
    --images=*) images=${1#--images=} ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "step_profile.sh: unknown argument '$1' (known: --images N)" >&2; exit 2 ;;
  esac
  shift
done
if [[ ! "$images" =~ ^[1-9][0-9]*$ ]]; then echo "step_profile.sh: --images must be a positive count, got '$images'" >&2; exit 2; fi

build_dir=${CONVLAB_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target convlab_bench >/dev/null
bench="$build_dir/convlab_bench"

out="results/profile-$(date +%Y%m%d-%H%M%S)"
while [[ -e "$out" ]]; do out="$out-again"; done
mkdir -p "$out"
log="$out/log.txt"
say() { echo "step_profile [$(date +%H:%M:%S)]: $*" | tee -a "$log" >&2; }

uptime_before=$(uptime)
say "results in $out; load: $uptime_before"
say "convlab_bench: machine peak, then one profiled training epoch per implementation and thread count ($images images)"
"$bench" --convlab_epoch_images="$images" --benchmark_filter='^(peak|epoch)/' \
  --benchmark_out="$out/convlab_bench.json" --benchmark_out_format=json 2> >(tee -a "$log" >&2) |
  tee "$out/convlab_bench.txt"
uptime_after=$(uptime)
say "load after: $uptime_after"

command="scripts/step_profile.sh${original_args:+ $original_args}"
printf '{"mode": "step profile", "command": "%s", "uptime_before": "%s", "uptime_after": "%s", "build_dir": "%s"}\n' \
  "$command" "$(echo "$uptime_before" | xargs)" "$(echo "$uptime_after" | xargs)" "$build_dir" >"$out/meta.json"
summarizer=python3
[[ -x /usr/bin/python3 ]] && summarizer=/usr/bin/python3
"$summarizer" bench/summarize.py "$out"
echo "step_profile: summary in $out/summary.md"
