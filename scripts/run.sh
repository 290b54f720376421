#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job: train the lecture's network
# on MNIST (or the dataset given with --dataset), print the result, and write the report folder
# (results/report-<timestamp>/README.md with its figures, copied to report/) with scripts/report.sh.
# Extra arguments go to `convlab train` (and --no-bench to report.sh). The build dir is build/ or
# $CONVLAB_BUILD_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --peers
bash scripts/build.sh
bash scripts/report.sh "$@"
