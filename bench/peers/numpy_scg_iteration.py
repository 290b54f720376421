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
The lecture's way (--method lecture) needs about 18 GiB for 50000 images (17.7 GiB peak RSS measured on
2026-12-01). --method fast is the same arithmetic done the fastest honest numpy way, so that a ratio against
numpy is not won against a slow peer: the windows as one strided view reshaped to (images x 576, 25) rows
for a single BLAS product per layer, every elementwise step in place (tanh, the derivative, the softmax),
and the batch taken in chunks of --chunk images whose gradients are added (the same full-batch sums; the
working set of a chunk stays in cache and memory small). --method both runs both and checks that they agree
(error and every gradient to 1e-9 relative), which is what the ctest does on a few hundred images.
Run with Debian's /usr/bin/python3, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (they pin OpenBLAS to
a slower kernel on this machine); the JSON records the kernel OpenBLAS chose (peer_common.blas_description)."""

import argparse
import json
import os
import resource
import struct
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

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


class FastLectureConvNet(LectureConvNet):
    """The same network and weights; the forward and backward passes chunk by chunk into buffers made once.

    Fresh arrays of hundreds of megabytes cost a page fault per 4 KiB on first touch (about 11 us each in this
    VM), more than the products that fill them, so every large array of a chunk is allocated once and written
    with out=. The windows are copied window offset by window offset (25 copies of 24-value runs) into a
    (25, pixels) matrix instead of through the 5-D strided view, whose generic copy is several times slower;
    the products read it transposed, as BLAS allows without a copy."""

    def __init__(self, net, chunk):
        self.conv_w, self.dense_w, self.out_w = net.conv_w, net.dense_w, net.out_w
        self.chunk = chunk
        self.buffers = {}

    def _buffers(self, n):
        if n not in self.buffers:
            self.buffers[n] = {"rows": np.empty((25, n, 24, 24)), "conv": np.empty((n * 576, 20)),
                               "conv_delta": np.empty((n, 11520)), "hidden": np.empty((n, 50)),
                               "logits": np.empty((n, 10)), "back": np.empty((n, 50))}
        return self.buffers[n]

    def _forward_chunk(self, x):
        n = x.shape[0]
        b = self._buffers(n)
        rows = b["rows"]
        for ky in range(5):
            for kx in range(5):
                rows[ky * 5 + kx] = x[:, 0, ky:ky + 24, kx:kx + 24]
        rows = rows.reshape(25, n * 576)                          # window value x pixel
        conv = b["conv"]
        np.matmul(rows.T, self.conv_w[:-1], out=conv)             # (n * 576, 20): one BLAS product
        conv += self.conv_w[-1]
        np.tanh(conv, out=conv)
        flat = conv.reshape(n, 11520)                             # channels last, as the lecture's reshape
        hidden = b["hidden"]
        np.matmul(flat, self.dense_w[:-1], out=hidden)
        hidden += self.dense_w[-1]
        np.tanh(hidden, out=hidden)
        logits = b["logits"]
        np.matmul(hidden, self.out_w[:-1], out=logits)
        logits += self.out_w[-1]
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return rows, flat, hidden, logits

    def _chunks(self, count):
        return [(begin, min(count, begin + self.chunk)) for begin in range(0, count, self.chunk)]

    def error_only(self, x, t):
        total = 0.0
        for begin, end in self._chunks(x.shape[0]):
            y = self._forward_chunk(x[begin:end])[3]
            np.log(y + 1e-300, out=y)
            total -= float(np.sum(t[begin:end] * y))
        return total / (x.shape[0] * 10)

    def error_and_gradient(self, x, t):
        size = x.shape[0] * 10                                    # y.size of the whole batch
        err = 0.0
        g_conv, g_dense, g_out = (np.zeros_like(w) for w in (self.conv_w, self.dense_w, self.out_w))
        for begin, end in self._chunks(x.shape[0]):
            rows, flat, hidden, y = self._forward_chunk(x[begin:end])
            b = self._buffers(end - begin)
            tc = t[begin:end]
            err -= float(np.sum(tc * np.log(y + 1e-300)))
            delta = y                                             # d error / d logits = (y - t) / size, in place
            delta -= tc
            delta /= size
            g_out[:-1] += hidden.T @ delta
            g_out[-1] += delta.sum(axis=0)
            back = b["back"]
            np.matmul(delta, self.out_w[:-1].T, out=back)
            np.multiply(hidden, hidden, out=hidden)               # 1 - hidden^2, in place
            np.subtract(1.0, hidden, out=hidden)
            back *= hidden
            g_dense[:-1] += flat.T @ back
            g_dense[-1] += back.sum(axis=0)
            conv_delta = b["conv_delta"]                          # (n, 11520)
            np.matmul(back, self.dense_w[:-1].T, out=conv_delta)
            np.multiply(flat, flat, out=flat)
            np.subtract(1.0, flat, out=flat)
            conv_delta *= flat
            conv_delta = conv_delta.reshape(-1, 20)               # (n * 576, 20)
            g_conv[:-1] += rows @ conv_delta
            g_conv[-1] += conv_delta.sum(axis=0)
        return err / size, (g_conv, g_dense, g_out)


def time_iteration(net, x, t, error_only):
    """One SCG iteration's work: an error, then error and gradient twice. Returns (times, error, gradients)."""
    start = time.perf_counter()
    error_only(x, t)
    f_seconds = time.perf_counter() - start
    gradient_seconds = []
    for _ in range(2):
        start = time.perf_counter()
        error, gradients = net.error_and_gradient(x, t)
        gradient_seconds.append(time.perf_counter() - start)
    return f_seconds, gradient_seconds, error, gradients


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50000)
    parser.add_argument("--method", choices=["lecture", "fast", "both"], default="both")
    parser.add_argument("--chunk", type=int, default=2000, help="images per chunk of the fast method")
    parser.add_argument("--out", help="JSON file to write")
    parser.add_argument("--skip-without-data", action="store_true",
                        help="print SKIPPED and succeed when the MNIST files are missing (ctest)")
    args = parser.parse_args()
    folder = os.path.join(os.environ.get("CONVLAB_DATA_DIR", os.path.join(REPO, "data")), "mnist")
    images_file = os.path.join(folder, "train-images-idx3-ubyte")
    if not os.path.exists(images_file):
        if args.skip_without_data:
            print(f"SKIPPED: {images_file} not found (install it with: bash scripts/install.sh)")
            return 0
        raise SystemExit(f"numpy_scg_iteration: {images_file} not found: install it with: bash scripts/install.sh "
                         "(or set CONVLAB_DATA_DIR to a folder holding mnist/)")
    (count, rows, cols), pixels = read_idx(os.path.join(folder, "train-images-idx3-ubyte"), 3)
    _, labels = read_idx(os.path.join(folder, "train-labels-idx1-ubyte"), 1)
    n = min(args.images, count)
    x = pixels[:n * rows * cols].reshape(n, 1, rows, cols).astype(np.float64) / 256.0
    t = np.zeros((n, 10))
    t[np.arange(n), labels[:n]] = 1.0
    net = LectureConvNet(np.random.default_rng(1))
    fast = FastLectureConvNet(net, args.chunk)
    methods = ["lecture", "fast"] if args.method == "both" else [args.method]
    result = {"images": n, "dtype": "float64", "chunk": args.chunk, "openblas_kernel": peer_common.blas_description().get("blas_kernel", "unknown"),
              "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"), "methods": {}}
    found = {}
    for method in methods:
        model = net if method == "lecture" else fast
        error_only = (lambda xs, ts: LectureConvNet.error(net.forward(xs)[3], ts)) if method == "lecture" \
            else fast.error_only
        f_seconds, gradient_seconds, error, gradients = time_iteration(model, x, t, error_only)
        total = f_seconds + sum(gradient_seconds)
        found[method] = (error, gradients)
        result["methods"][method] = {
            "f_seconds": f_seconds, "gradient_seconds": gradient_seconds, "iteration_seconds": total,
            "error": error, "gradient_norm": float(np.sqrt(sum(np.sum(g * g) for g in gradients)))}
        print(f"numpy_scg_iteration ({method}): {n} images float64: f {f_seconds:.2f} s, gradients "
              f"{gradient_seconds[0]:.2f} + {gradient_seconds[1]:.2f} s, one SCG iteration {total:.2f} s "
              f"(error {error:.6f})", flush=True)
    # Peak resident memory of the whole process (the larger method's, when both ran).
    result["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"numpy_scg_iteration: peak RSS {result['peak_rss_gib']:.2f} GiB, OpenBLAS kernel "
          f"{result['openblas_kernel']}")
    if len(found) == 2:
        (e1, g1), (e2, g2) = found["lecture"], found["fast"]
        worst = max([abs(e1 - e2) / abs(e1)] +
                    [float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-300)) for a, b in zip(g1, g2)])
        result["largest_relative_difference"] = worst
        print(f"numpy_scg_iteration: the two methods differ by at most {worst:.3g} (relative to each quantity's largest)")
        if worst > 1e-9:
            print("numpy_scg_iteration: the fast method does not compute the lecture's numbers", file=sys.stderr)
            return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
