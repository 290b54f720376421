#!/usr/bin/env bash
# Runs the whole benchmark suite and writes results/bench-<timestamp>/: convlab_bench's Google Benchmark
# JSON (machine peak, every implementation, oneDNN, XNNPACK), the Python peers' JSON (PyTorch, the lecture's
# numpy method, a PyTorch training epoch), the default `convlab train` run's history (time to 98.24% test), their
# logs, and summary.md / summary.json / speedups-<pass>.png from
# bench/summarize.py.
#   --quick         fewer cases and shorter timing: finishes in about two minutes on an idle machine
#   --shapes FILE   time the layers of this shape file instead of the standard ones (repeatable)
#   --shape DESC    time this benchdnn descriptor's layer, e.g. 'mb64ic20ih24oc50kh5sh2' (repeatable)
# Builds convlab_bench first in build/ (or $CONVLAB_BUILD_DIR). Peers that are not installed are skipped with
# a message. The machine's load (uptime) before and after is recorded: figures are only as good as it.
set -euo pipefail
caller_dir=$PWD
original_args="$*"
cd "$(dirname "$0")/.."

quick=0
shape_flags=()  # passed to convlab_bench as they are, so it and the peers time the same plan
absolute() { if [[ "$1" == /* ]]; then echo "$1"; else echo "$caller_dir/$1"; fi; }
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --shapes|--shape)
      if (($# < 2)); then echo "bench.sh: $1 needs a value" >&2; exit 2; fi
      if [[ "$1" == --shapes ]]; then shape_flags+=(--shapes "$(absolute "$2")"); else shape_flags+=(--shape "$2"); fi
      shift ;;
    --shapes=*) shape_flags+=(--shapes "$(absolute "${1#--shapes=}")") ;;
    --shape=*) shape_flags+=(--shape "${1#--shape=}") ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (known: --quick, --shapes FILE, --shape DESC)" >&2; exit 2 ;;
  esac
  shift
done

build_dir=${CONVLAB_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target convlab_bench convlab >/dev/null
bench="$build_dir/convlab_bench"
# Full mode times every case in `repetitions` short repetitions, interleaved in random order with the other
# cases' (the Python peers: rounds alternating within a case), and summarize.py keeps each case's fastest: on
# a shared virtual machine other tenants' load comes in bursts that only ever slow a run down, and a burst
# then spoils one repetition of several cases rather than every figure of the cases it falls on.
if ((quick)); then
  mode=quick own_flags=(--convlab_quick) min_time=0.05 peer_min_time=0.05 peer_max_call=1 epoch_images=3200
  repetitions=1
else
  mode=full own_flags=() min_time=0.2 peer_min_time=0.6 peer_max_call=3 epoch_images=60000 repetitions=3
fi
repetition_flags=(--benchmark_repetitions="$repetitions")
((repetitions > 1)) && repetition_flags+=(--benchmark_enable_random_interleaving=true)
own_flags+=(${shape_flags[@]+"${shape_flags[@]}"})
# The plan first: a bad --shape or shape file stops here, with convlab_bench's message and exit status 2,
# before any results folder exists.
plan_json=$("$bench" "${own_flags[@]}" --convlab_list_cases)

out="results/bench-$(date +%Y%m%d-%H%M%S)"
while [[ -e "$out" ]]; do out="$out-again"; done
mkdir -p "$out"
log="$out/log.txt"
say() { echo "bench [$(date +%H:%M:%S)]: $*" | tee -a "$log" >&2; }

uptime_before=$(uptime)
say "mode $mode, results in $out; load: $uptime_before"

printf '%s\n' "$plan_json" >"$out/plan.json"
say "convlab_bench (machine peak, convlab's implementations, oneDNN, XNNPACK)"
"$bench" "${own_flags[@]}" --convlab_epoch_images="$epoch_images" --benchmark_min_time="$min_time" \
  "${repetition_flags[@]}" --benchmark_out="$out/convlab_bench.json" --benchmark_out_format=json 2> >(tee -a "$log" >&2) |
  tee "$out/convlab_bench.txt"

# The Python peers use Debian's interpreter, where python3-numpy and python3-torch live (not a pyenv one).
python=/usr/bin/python3
# They allocate fresh result tensors on every call. glibc hands large blocks back to the kernel when they are
# freed, so each call would fault its output in again at ~11 us per page on this VM (6x slower for PyTorch
# on the lecture layer at batch 1000). Keeping freed memory in the heap makes them reuse it, as convlab and
# the oneDNN peer reuse their buffers; the peers record these settings in their JSON context.
peer_allocator=(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736)
run_peer() {  # name, then the command; a failing peer is reported and the suite goes on
  local name=$1
  shift
  local status=0
  "$@" 2> >(tee -a "$log" >&2) || status=$?
  if ((status != 0)); then say "$name failed (exit status $status); its figures are missing"; fi
}
if [[ ! -x "$python" ]]; then
  say "Python peers skipped: $python not found"
else
  if "$python" -c 'import torch' 2>/dev/null; then
    say "PyTorch conv2d peer"
    run_peer torch_conv env "${peer_allocator[@]}" "$python" bench/peers/torch_conv.py --plan "$out/plan.json" \
      --out "$out/torch_conv.json" --min-time "$peer_min_time" --rounds "$repetitions" --max-call-seconds 10
    say "PyTorch training-epoch peer ($epoch_images images)"
    run_peer torch_epoch env "${peer_allocator[@]}" "$python" bench/peers/torch_epoch.py \
      --out "$out/torch_epoch.json" --images "$epoch_images"
  else
    say "PyTorch peers skipped: torch is not installed for $python (apt-get install python3-torch)"
  fi
  if "$python" -c 'import numpy' 2>/dev/null; then
    for threads in 1 2; do
      say "numpy (lecture method) peer, $threads BLAS thread(s); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
      # Only here: those two variables pin OpenBLAS to an older, slower kernel on this machine.
      run_peer numpy_conv env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${peer_allocator[@]}" \
        OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" "$python" bench/peers/numpy_conv.py \
        --plan "$out/plan.json" --threads "$threads" --out "$out/numpy_conv_t$threads.json" \
        --min-time "$peer_min_time" --rounds "$repetitions" --max-call-seconds "$peer_max_call"
    done
  else
    say "numpy peer skipped: numpy is not installed for $python (apt-get install python3-numpy)"
  fi
fi

# Time to the lecture's accuracy: the default `convlab train` recipe at 2 threads, its per-epoch test
# accuracy and training time in the history; summarize.py finds the first epoch at 98.24% and compares it with
# two PyTorch epochs measured above.
say "time to 98.24% test: default convlab train, 2 threads"
# Its progress lines (stderr) and results (stdout) in one file, in the order printed.
run_peer convlab_train bash -c '"$0" "$@" 2>&1' "$build_dir/convlab" train --threads 2 \
  --history "$out/train_default_history.csv" > "$out/train_default.txt"

uptime_after=$(uptime)
say "load after: $uptime_after"
command="scripts/bench.sh${original_args:+ $original_args}"
command=${command//\\/\\\\}  # a JSON string: descriptors' names come in double quotes
command=${command//\"/\\\"}
printf '{"mode": "%s", "command": "%s", "uptime_before": "%s", "uptime_after": "%s", "build_dir": "%s"}\n' \
  "$mode" "$command" "$(echo "$uptime_before" | xargs)" "$(echo "$uptime_after" | xargs)" "$build_dir" >"$out/meta.json"
summarizer=python3
[[ -x "$python" ]] && summarizer=$python
"$summarizer" bench/summarize.py "$out"
echo "bench: summary in $out/summary.md"
