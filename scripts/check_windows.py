#!/usr/bin/python3
"""Runs the lecture's windows walk-through in numpy, the lecture's own way, and checks that `convlab windows`
prints the same: every array numpy prints (repr, character for character), the digit's pixel range, the
windows' shape and byte strides, and the response's minimum and maximum.

The lecture's digit is float32 pixels / 256 (its mnist.pkl.gz); the windows are an as_strided view; the
response is np.tanh(Xw.reshape((windows, taps)) @ W.reshape((-1, 1))). convlab adds each window's products
in row-major order in float64 and takes the C library's tanh; numpy's product (BLAS) may add in another
order and np.tanh is numpy's own SIMD code, so each may differ from convlab in the last bit for some
inputs. The script therefore checks convlab against the same arithmetic done in Python (row-major sums,
math.tanh), and reports separately whether numpy's own product and tanh agree: for the lecture's settings
they must, since that is what the lecture printed.

usage: /usr/bin/python3 scripts/check_windows.py --convlab build/convlab [--digit N] [--window K] [--stride S]
                                                 [--dataset NAME] [--detector lecture|band]
Exit status 0 when everything agrees, 1 otherwise.
"""
import argparse
import gzip
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LECTURE = {"digit": 15, "window": 10, "stride": 1, "dataset": "mnist", "detector": "lecture"}
LECTURE_PRINTED = {"pixel range": "(-0.99609375, -0.0)", "response range": "(0.0, 0.4244643684778938)"}


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
    # ctest counts this as a skip (SKIP_REGULAR_EXPRESSION in docs/CMakeLists.txt), not a failure.
    print(f"SKIPPED: {base} not found in {dirs}; install it with: bash scripts/install.sh")
    sys.exit(0)


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, f"{path}: not an unsigned-byte IDX file"
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def detector(name, k):
    if name == "lecture":
        W = np.zeros((k, k))
        W[range(k - 1, -1, -1), range(k)] = 1
        return W * 0.05
    scale = 2.0 ** -math.ceil(math.log2(k)) if k > 1 else 1.0
    rows, cols = np.indices((k, k))
    return np.where(np.abs(rows + cols - (k - 1)) <= 1, scale, -scale)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--convlab", required=True, help="path of the convlab program to check")
    for name, default in LECTURE.items():
        parser.add_argument("--" + name, type=type(default), default=default)
    args = parser.parse_args()
    settings = {name: getattr(args, name) for name in LECTURE}
    is_lectures = settings == LECTURE

    image_file = find(args.dataset, "train-images-idx3-ubyte")  # before convlab, which would fail without it
    label_file = find(args.dataset, "train-labels-idx1-ubyte")
    command = [args.convlab, "windows"] + [f"--{name}={value}" for name, value in settings.items()]
    printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    failures = []

    def expect(what, text):
        if text not in printed:
            failures.append(f"{what}: convlab does not print\n{text}")

    # 1. The small example.
    a = np.arange(2 * 3 * 4).reshape((2, 3, 4))
    s = a.itemsize
    w = np.lib.stride_tricks.as_strided(a, shape=(2, 2, 3, 2, 2), strides=(12 * s, 4 * s, 1 * s, 4 * s, s))
    expect("a", repr(a))
    expect("w", repr(w))
    expect("w's strides", f"strides={w.strides}")
    expect("w[1, 0, 1, :, :]", repr(w[1, 0, 1, :, :]))

    # 2. The digit, as the lecture loaded it: float32 pixels / 256.
    images = read_idx(image_file)
    labels = read_idx(label_file)
    digit = (images[args.digit].astype(np.float32) / np.float32(256)).reshape((1, -1))[0]
    rows, cols = images.shape[1:]
    pixel_range = repr((np.min(-digit), np.max(-digit)))
    expect("label", f"training image {args.digit}, label {labels[args.digit]}")
    expect("np.min(-digit), np.max(-digit)", pixel_range)
    digit = digit.reshape((1, rows, cols, 1))
    k, step = args.window, args.stride
    grid_rows, grid_cols = (rows - k) // step + 1, (cols - k) // step + 1
    e = digit.itemsize
    Xw = np.lib.stride_tricks.as_strided(digit, shape=(1, grid_rows, grid_cols, k, k),
                                         strides=(rows * cols * e, cols * e * step, e * step, cols * e, e))
    expect("Xw", f"Xw = as_strided(digit, shape={Xw.shape}, strides={Xw.strides})")

    # 3. The detector and the response.
    W = detector(args.detector, k)
    expect("W", repr(W))
    windows = Xw.reshape((grid_rows * grid_cols, k * k)).astype(np.float64)
    numpy_sums = (windows @ W.reshape((-1, 1)))[:, 0]
    numpy_response = np.tanh(numpy_sums)
    row_major_sums = np.array([sum_row_major(window, W.reshape(-1)) for window in windows])
    libm_response = np.array([math.tanh(x) for x in row_major_sums])
    response_range = repr((np.min(libm_response), np.max(libm_response)))
    expect("np.min(Yw), np.max(Yw) (row-major sums, C library tanh)", response_range)
    numpy_range = repr((np.min(numpy_response), np.max(numpy_response)))

    print(f"convlab windows {' '.join(command[2:])}: compared with numpy {np.__version__}")
    print(f"  pixel range {pixel_range}; response range {response_range}")
    if numpy_range != response_range:
        print(f"  numpy's own product and np.tanh give {numpy_range}: another summation order or tanh")
    if is_lectures:
        for what, value in (("pixel range", pixel_range), ("response range", response_range),
                            ("response range with numpy's product and np.tanh", numpy_range)):
            expected = LECTURE_PRINTED[what.split(" with")[0]]
            if value != expected:
                failures.append(f"{what} {value} is not the lecture's {expected}")
    for failure in failures:
        print("MISMATCH " + failure)
    print("agree" if not failures else f"{len(failures)} mismatch(es)")
    return 1 if failures else 0


def sum_row_major(window, weights):
    """Adds the products one by one in row-major order, each product rounded first (no fused multiply-add)."""
    total = 0.0
    for x, weight in zip(window.tolist(), weights.tolist()):
        total += weight * x
    return total


if __name__ == "__main__":
    sys.exit(main())
