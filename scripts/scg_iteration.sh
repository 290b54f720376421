#!/bin/bash
# One full-batch SCG iteration of the lecture's network on 50000 MNIST images in float64, by convlab and by
# numpy (the lecture's way and the fastest honest way: bench/peers/numpy_scg_iteration.py), in one run:
# results/scg-iteration-<timestamp>/ with summary.md (bench/scg_iteration_summary.py). The numpy side
# needs about 18 GiB and a few minutes, so scripts/bench.sh does not run it. convlab's side runs with --profile,
# and the machine's float64 FMA peak is measured after it (convlab_bench), so the summary can set each operation
# of the iteration against its bound.
# OPENBLAS_CORETYPE, when set, is passed to numpy's OpenBLAS only (Debian's OpenBLAS 0.3.21 does not know
# every CPU of this machine kind and may fall back to an SSE3 kernel: pick the one the CPU has, e.g. SKYLAKEX).
# An environment that sets it for every program (this machine kind's sets Haswell, an AVX2 kernel, on AVX-512
# CPUs) slows the peer down: run the script under `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` there, and read
# the kernel numpy used in the summary's first line.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${CONVLAB_BUILD_DIR:-build}
THREADS=${THREADS:-2}
CORETYPE=${OPENBLAS_CORETYPE:-}
unset OPENBLAS_CORETYPE
OUT=${1:-results/scg-iteration-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
cpu=$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //')
family=$(grep -m1 "cpu family" /proc/cpuinfo | sed 's/.*: //')
model=$(grep -m1 "^model\s" /proc/cpuinfo | sed 's/.*: //')
env ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS \
  /usr/bin/python3 bench/peers/numpy_scg_iteration.py --images 50000 --method both \
  --out "$OUT/numpy_scg_iteration.json" | tee "$OUT/numpy_log.txt"
# --profile: each iteration operation by operation (the same weights as without), in convlab_train.json.
/usr/bin/time -v "$BUILD_DIR/convlab" train --optimizer scg --iterations 3 --train-limit 50000 --scaling lecture \
  --threads "$THREADS" --history "$OUT/convlab_scg_history.csv" --profile --json "$OUT/convlab_train.json" \
  > "$OUT/convlab_log.txt" 2> "$OUT/convlab_time.txt"
# The machine's float64 FMA peak at the same thread count, the bound of the profile's products.
"$BUILD_DIR/convlab_bench" --convlab_no_onednn --convlab_no_xnnpack "--benchmark_filter=^peak/fma/double/threads:$THREADS/" \
  --benchmark_repetitions=3 --benchmark_out="$OUT/fma_peak.json" --benchmark_out_format=json > /dev/null
rss_kib=$(grep "Maximum resident" "$OUT/convlab_time.txt" | awk '{print $NF}')
/usr/bin/python3 - "$OUT" "$cpu (cpu family $family, model $model), $(nproc) logical CPUs" "$THREADS" "$CORETYPE" \
  "$(git rev-parse --short HEAD)" "$rss_kib" <<'PY'
import json, sys, datetime, numpy
out, cpu, threads, coretype, commit, rss = sys.argv[1:]
json.dump({"cpu": cpu, "threads": int(threads), "openblas_coretype": coretype, "commit": commit,
           "numpy": numpy.__version__, "convlab_peak_rss_gib": int(rss) / 2**20,
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")},
          open(f"{out}/meta.json", "w"), indent=1)
PY
/usr/bin/python3 bench/scg_iteration_summary.py "$OUT"
