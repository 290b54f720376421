#!/usr/bin/python3
"""Peer: the work of one full-batch SCG iteration of the lecture's ConvNet, done the lecture's numpy way.

The lecture trained its network (conv 1 -> 20 channels, 5x5 windows -> tanh -> dense 11520 -> 50, tanh ->
dense 50 -> 10, softmax) with mlutilities.scg on all training images at once, in float64. One iteration of
that SCG costs one error evaluation and two gradient evaluations (at w + sigma * d for the curvature
estimate, then at the accepted point), so this times exactly that: f(w), then error-and-gradient twice.
Forward: np.lib.stride_tricks.as_strided windows (N, 24, 24, 5, 5) -> tensordot with the 25 x 20 weights,
+ bias -> tanh -> reshape (N, 11520) -> dense 11520 x 50, tanh -> dense 50 x 10 -> softmax. Error
-sum(T * log Y) / (N * K) with indicator targets T; its gradient back through the layers as the lecture's
ConvNet did (windows^T @ delta for the conv weights). Prints seconds for each part, one iteration's total and
the peak resident memory (resource.getrusage), and with --out writes them as JSON.
Needs about 18 GiB for 50000 images (17.7 GiB peak RSS measured on 2026-12-01). Run with Debian's /usr/bin/python3, with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset (they pin OpenBLAS to a slower kernel on this machine)."""

import argparse
import json
import os
import resource
import struct
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_idx(path, rank):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:3] != b"\0\0\x08" or data[3] != rank:
        raise SystemExit(f"numpy_scg_iteration: {path}: not an IDX file of unsigned bytes with rank {rank}")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return dims, np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)


def windows(x, size=5):
    """(N, 1, 28, 28) -> (N, 24, 24, 5, 5) view, the lecture's make_patches."""
    n, _, h, w = x.shape
    s = x.strides
    return as_strided(x, shape=(n, h - size + 1, w - size + 1, size, size),
                      strides=(s[0], s[2], s[3], s[2], s[3]), writeable=False)


class LectureConvNet:
    def __init__(self, rng):
        def uniform(fan_in, shape):
            return rng.uniform(-1, 1, size=shape) / np.sqrt(fan_in)
        self.conv_w = uniform(25, (26, 20))       # 25 window values + bias row, 20 units
        self.dense_w = uniform(11520, (11521, 50))
        self.out_w = uniform(50, (51, 10))

    def forward(self, x):
        patches = windows(x)                                      # view, no copy
        n = x.shape[0]
        conv = np.tensordot(patches, self.conv_w[:-1].reshape(5, 5, 20), axes=([3, 4], [0, 1]))
        conv += self.conv_w[-1]
        conv_out = np.tanh(conv)                                  # (N, 24, 24, 20)
        flat = conv_out.reshape(n, -1)                            # (N, 11520)
        hidden = np.tanh(flat @ self.dense_w[:-1] + self.dense_w[-1])
        logits = hidden @ self.out_w[:-1] + self.out_w[-1]
        logits -= logits.max(axis=1, keepdims=True)
        y = np.exp(logits)
        y /= y.sum(axis=1, keepdims=True)
        return patches, flat, hidden, y

    @staticmethod
    def error(y, t):
        return -np.sum(t * np.log(y + 1e-300)) / y.size

    def error_and_gradient(self, x, t):
        patches, flat, hidden, y = self.forward(x)
        n = x.shape[0]
        err = self.error(y, t)
        delta = -(t - y) / y.size                                 # d error / d logits
        g_out = np.vstack((hidden.T @ delta, delta.sum(axis=0)))
        delta = (delta @ self.out_w[:-1].T) * (1 - hidden ** 2)
        g_dense = np.vstack((flat.T @ delta, delta.sum(axis=0)))
        delta = (delta @ self.dense_w[:-1].T) * (1 - flat ** 2)   # (N, 11520)
        delta = delta.reshape(n * 576, 20)
        patch_rows = patches.reshape(n * 576, 25)                 # copies the windows, as the lecture did
        g_conv = np.vstack((patch_rows.T @ delta, delta.sum(axis=0)))
        return err, (g_conv, g_dense, g_out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50000)
    parser.add_argument("--out", help="JSON file to write")
    args = parser.parse_args()
    folder = os.path.join(os.environ.get("CONVLAB_DATA_DIR", os.path.join(REPO, "data")), "mnist")
    (count, rows, cols), pixels = read_idx(os.path.join(folder, "train-images-idx3-ubyte"), 3)
    _, labels = read_idx(os.path.join(folder, "train-labels-idx1-ubyte"), 1)
    n = min(args.images, count)
    x = pixels[:n * rows * cols].reshape(n, 1, rows, cols).astype(np.float64) / 256.0
    t = np.zeros((n, 10))
    t[np.arange(n), labels[:n]] = 1.0
    net = LectureConvNet(np.random.default_rng(1))

    start = time.perf_counter()
    error = LectureConvNet.error(net.forward(x)[3], t)
    f_seconds = time.perf_counter() - start
    gradient_seconds = []
    for _ in range(2):
        start = time.perf_counter()
        error, gradients = net.error_and_gradient(x, t)
        gradient_seconds.append(time.perf_counter() - start)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    total = f_seconds + sum(gradient_seconds)
    result = {"images": n, "dtype": "float64", "f_seconds": f_seconds, "gradient_seconds": gradient_seconds,
              "iteration_seconds": total, "peak_rss_gib": peak_gib, "error": error,
              "gradient_norm": float(np.sqrt(sum(np.sum(g * g) for g in gradients))),
              "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    print(f"numpy_scg_iteration: {n} images float64: f {f_seconds:.2f} s, gradients "
          f"{gradient_seconds[0]:.2f} + {gradient_seconds[1]:.2f} s, one SCG iteration {total:.2f} s, "
          f"peak RSS {peak_gib:.2f} GiB (error {error:.6f})")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
