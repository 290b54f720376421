#!/usr/bin/env bash
# Times the tutorial's ladder (docs/ladder: the forward pass one idea per step) and this machine's FMA peak
# in one convlab_bench run, and summarises it: results/ladder-<timestamp>/summary.md has a table per layer
# (the lecture's first layer and the second layer of the mnist shape file, batch 64) and ladder.png the
# chart that tutorial chapters 4 and 5 show. About a minute; run it on an otherwise idle machine.
# usage: bash scripts/ladder.sh   (the build dir is build/ or $CONVLAB_BUILD_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${CONVLAB_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target convlab_bench >/dev/null
out="results/ladder-$(date +%Y%m%d-%H%M%S)"
while [[ -e "$out" ]]; do out="$out-again"; done
mkdir -p "$out"
uptime_before=$(uptime)
echo "ladder: results in $out; load: $uptime_before" >&2
# Three runs one after the other: on a shared VM a step's rate moves between runs far more than between
# the repetitions of one run, so the summary gives each step's median over the runs and their range.
for round in 1 2 3; do
  "$build_dir/convlab_bench" --convlab_quick --convlab_no_onednn --convlab_no_xnnpack \
    --benchmark_filter='^(ladder/|peak/fma/float)' --benchmark_min_time=0.5 \
    --benchmark_out="$out/ladder-run$round.json" --benchmark_out_format=json >"$out/ladder-run$round.txt"
done
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs || true)
family=$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs || true)
model=$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs || true)
/usr/bin/python3 - "$out/meta.json" "$uptime_before" "$(uptime)" "$commit" "$cpu (cpu family $family, model $model)" <<'PY'
import json, sys
path, before, after, commit, cpu = sys.argv[1:]
json.dump({"mode": "ladder", "command": "scripts/ladder.sh", "uptime_before": before, "uptime_after": after,
           "commit": commit, "cpu": cpu}, open(path, "w"))
PY
/usr/bin/python3 bench/summarize.py "$out" >/dev/null
echo "ladder: wrote $out/summary.md and $out/ladder.png" >&2
