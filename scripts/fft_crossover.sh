#!/bin/bash
# Where FFT convolution overtakes the direct kernels on this machine (tutorial chapter 9): convlab_bench's
# forward pass of fft, simd and openmp on bench/shapes/fft_windows.txt, each case in 3 repetitions interleaved
# at random, then bench/fft_crossover.py's table and chart, in results/fft-crossover-<timestamp>/ (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${CONVLAB_BUILD_DIR:-build}
OUT=${1:-results/fft-crossover-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
cpu="$(grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //') (cpu family $(grep -m1 "cpu family" /proc/cpuinfo | sed 's/.*: //'), model $(grep -m1 "^model\s" /proc/cpuinfo | sed 's/.*: //'))"
"$BUILD_DIR/convlab_bench" --shapes bench/shapes/fft_windows.txt \
  --benchmark_filter='conv/(simd|openmp|fft)/forward/fft_k[0-9]+/float/batch:8/' \
  --benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
  --benchmark_context="cpu=${cpu//,/;},commit=$(git rev-parse --short HEAD)" \
  --benchmark_out="$OUT/convlab_bench.json" --benchmark_out_format=json > "$OUT/log.txt"
/usr/bin/python3 bench/fft_crossover.py "$OUT"
