#!/usr/bin/python3
"""Recomputes `convlab windows` with numpy, the lecture's way - pixels / 256, an as_strided windows view,
tensordot with the detector, tanh - and prints the same lines, so the two can be compared digit for digit.

The detector's weights are +-2^-m (see common/lecture_windows.hpp), so every product with a pixel / 256 and
every partial sum is exact: numpy's tensordot (BLAS, its own summation order) must give the very same sums
as convlab. tanh is the one rounded step: numpy's np.tanh is its own SIMD code and differs from the C
library's tanh (what C++ std::tanh calls) in the last bit for some arguments, so both are printed.
With --convlab PATH the script runs `PATH windows` with the same options and compares the printed values.

usage: /usr/bin/python3 scripts/check_windows.py [--digit N] [--window K] [--stride S] [--dataset NAME]
                                                 [--convlab build-dir/convlab]
"""
import argparse
import gzip
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def data_dir():
    return os.environ.get("CONVLAB_DATA_DIR") or os.path.join(HERE, "..", "data")


def find(dataset, base):
    dirs = [os.path.join(data_dir(), dataset)]
    if dataset == "fashion-mnist":
        dirs.append("/usr/share/datasets/fashion-mnist")
    for folder in dirs:
        for name in (base, base + ".gz"):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
    sys.exit(f"{base} not found in {dirs}; install it with: bash scripts/install.sh")


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, f"{path}: not an unsigned-byte IDX file"
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def diagonal_detector(k):
    """+scale on the anti-diagonal band |row + col - (k-1)| <= 1, -scale elsewhere; scale = 2^-ceil(log2 k)."""
    scale = 2.0 ** -math.ceil(math.log2(k)) if k > 1 else 1.0
    rows, cols = np.indices((k, k))
    return np.where(np.abs(rows + cols - (k - 1)) <= 1, scale, -scale)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--digit", type=int, default=0)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--convlab", help="path of the convlab program to compare with")
    args = parser.parse_args()

    images = read_idx(find(args.dataset, "train-images-idx3-ubyte"))
    labels = read_idx(find(args.dataset, "train-labels-idx1-ubyte"))
    X = images[args.digit:args.digit + 1].astype(np.float64) / 256  # the lecture's mnist.pkl.gz scaling
    n, rows, cols = X.shape
    k, s = args.window, args.stride
    grid_rows, grid_cols = (rows - k) // s + 1, (cols - k) // s + 1
    e = X.itemsize
    windows = np.lib.stride_tricks.as_strided(
        X, shape=(n, grid_rows, grid_cols, k, k),
        strides=(rows * cols * e, cols * e * s, e * s, cols * e, e))
    weights = diagonal_detector(k)
    sums = np.tensordot(windows, weights, axes=([3, 4], [0, 1]))[0]
    numpy_tanh = np.tanh(sums)
    libm_tanh = np.vectorize(math.tanh)(sums)

    print(f"{args.dataset} training digit {args.digit}: label {labels[args.digit]}")
    print(f"windows of one {rows} x {cols} float64 image (pixels / 256): shape {windows.shape}, "
          f"byte strides {windows.strides}")
    print(f"sums sum(window * weights): min {sums.min():.17g} max {sums.max():.17g} (exact)")
    print(f"response tanh(sum(window * weights)): shape {sums.shape}")
    print(f"min {numpy_tanh.min():.17g}\nmax {numpy_tanh.max():.17g}  (np.tanh)")
    print(f"min {libm_tanh.min():.17g}\nmax {libm_tanh.max():.17g}  (C library tanh, as std::tanh)")

    if args.convlab:
        command = [args.convlab, "windows", "--digit", str(args.digit), "--window", str(k), "--stride", str(s),
                   "--dataset", args.dataset]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        lines = output.splitlines()
        field = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines if line.startswith(("min ", "max "))}
        sums_line = next(line for line in lines if line.startswith("sums "))
        words = sums_line.split()
        convlab_sums = (float(words[words.index("min") + 1]), float(words[words.index("max") + 1]))
        convlab_tanh = (float(field["min"]), float(field["max"]))
        print(f"convlab: sums min {convlab_sums[0]:.17g} max {convlab_sums[1]:.17g}; "
              f"response min {convlab_tanh[0]:.17g} max {convlab_tanh[1]:.17g}")
        checks = {
            "sums, numpy tensordot": (convlab_sums, (sums.min(), sums.max())),
            "response, numpy tensordot + C library tanh": (convlab_tanh, (libm_tanh.min(), libm_tanh.max())),
            "response, numpy tensordot + np.tanh": (convlab_tanh, (numpy_tanh.min(), numpy_tanh.max())),
        }
        for name, (ours, theirs) in checks.items():
            apart = max(abs(int(np.float64(a).view(np.int64)) - int(np.float64(b).view(np.int64)))
                        for a, b in zip(ours, theirs))
            verdict = "agree to all 17 significant digits" if apart == 0 else f"differ by up to {apart} ulp"
            print(f"  convlab vs {name}: {verdict}")


if __name__ == "__main__":
    main()
