#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job: train the lecture's network
# on MNIST (or the dataset given with --dataset) and print the result. Extra arguments go to `convlab train`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --peers
bash scripts/build.sh
./build/convlab train "$@"
