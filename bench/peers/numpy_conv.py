#!/usr/bin/python3
"""The lecture's own numpy convolution as a peer: windows from numpy.lib.stride_tricks.as_strided (no copy),
then one tensordot (a BLAS matrix product) over channel and window axes. Times the plan's cases at one
thread count and writes Google-Benchmark-shaped JSON (see peer_common.py).

  forward           y  = tensordot(windows(pad(x)), w)            over (C, kh, kw)
  backward_weights  dw = tensordot(dy, windows(pad(x)))           over (N, oh, ow); db = dy summed
  backward_input    dx = tensordot(windows(pad(dilate(dy))), flip(w)) over (F, kh, kw), then cropped
Results stay in the layout tensordot leaves (channels last, as in the lecture): no transpose is timed.

Run it with Debian's /usr/bin/python3 (python3-numpy). The BLAS thread count must be fixed before numpy is
imported, so scripts/bench.sh runs one process per thread count, with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
unset; the JSON context says which BLAS numpy really loaded and with which kernel."""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common  # noqa: E402

PEER = "numpy_conv"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", required=True, help="JSON from convlab_bench --convlab_list_cases")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (set the environment to match)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds to time each case")
    parser.add_argument("--rounds", type=int, default=1,
                        help="split each case's time into this many rounds and keep the fastest")
    parser.add_argument("--max-call-seconds", type=float, default=2.0,
                        help="skip cases predicted to take longer than this per call")
    parser.add_argument("--check", action="store_true", help="compare with direct loops on small shapes and exit")
    return parser.parse_args()


def pair(value):
    """(height, width) from a per-axis pair or one number for both axes."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def windows(np, x, kernel_height, kernel_width, stride):
    """(N, C, H, W) -> (N, C, oh, ow, kh, kw) view: the lecture's as_strided trick, no copy."""
    n, c, h, w = x.shape
    sn, sc, sh, sw = x.strides
    stride_h, stride_w = pair(stride)
    oh = (h - kernel_height) // stride_h + 1
    ow = (w - kernel_width) // stride_w + 1
    return np.lib.stride_tricks.as_strided(
        x, shape=(n, c, oh, ow, kernel_height, kernel_width),
        strides=(sn, sc, sh * stride_h, sw * stride_w, sh, sw), writeable=False)


def pad(np, x, padding):
    pad_h, pad_w = pair(padding)
    if pad_h == 0 and pad_w == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))


def forward(np, x, w, b, stride, padding):
    """Returns (N, oh, ow, F)."""
    kh, kw = w.shape[2:]
    return np.tensordot(windows(np, pad(np, x, padding), kh, kw, stride), w, axes=([1, 4, 5], [1, 2, 3])) + b


def backward_weights(np, x, dy, kernel_height, kernel_width, stride, padding):
    """dy is (N, F, oh, ow); returns dw (F, C, kh, kw) and db (F)."""
    win = windows(np, pad(np, x, padding), kernel_height, kernel_width, stride)
    return np.tensordot(dy, win, axes=([0, 2, 3], [0, 2, 3])), dy.sum(axis=(0, 2, 3))


def backward_input(np, dy, w, in_height, in_width, stride, padding):
    """dy is (N, F, oh, ow); returns dx (N, H, W, C): a stride-1 correlation of the zero-dilated, zero-padded
    dy with the flipped kernels, cropped to the unpadded input."""
    n, f, oh, ow = dy.shape
    kh, kw = w.shape[2:]
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    padded_h, padded_w = in_height + 2 * ph, in_width + 2 * pw
    # Dilate by the stride and pad by k-1, plus whatever rows/columns the strided windows never reached.
    full = np.zeros((n, f, padded_h + kh - 1, padded_w + kw - 1), dtype=dy.dtype)
    full[:, :, kh - 1:kh - 1 + (oh - 1) * sh + 1:sh, kw - 1:kw - 1 + (ow - 1) * sw + 1:sw] = dy
    dx_padded = np.tensordot(windows(np, full, kh, kw, 1), w[:, :, ::-1, ::-1], axes=([1, 4, 5], [0, 2, 3]))
    return dx_padded[:, ph:ph + in_height, pw:pw + in_width, :]


def self_check(np):
    """Against direct loops, on small shapes with stride and padding (the last one different per axis): the
    peer must compute the real thing."""
    rng = np.random.default_rng(1)
    # (n, c, h, w, f, kh, kw, (stride_h, stride_w), (pad_h, pad_w))
    for shape in [(2, 1, 8, 8, 3, 3, 3, (1, 1), (0, 0)), (2, 2, 9, 9, 3, 3, 3, (2, 2), (1, 1)),
                  (1, 3, 7, 7, 2, 5, 5, (2, 2), (2, 2)), (2, 2, 9, 11, 3, 3, 5, (1, 2), (2, 1))]:
        n, c, h, w_, f, kh, kw, (sh, sw), (ph, pw) = shape
        x = rng.standard_normal((n, c, h, w_))
        w = rng.standard_normal((f, c, kh, kw))
        b = rng.standard_normal(f)
        xp = pad(np, x, (ph, pw))
        oh, ow = (h + 2 * ph - kh) // sh + 1, (w_ + 2 * pw - kw) // sw + 1
        y_ref = np.zeros((n, f, oh, ow))
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                y_ref[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
        y = forward(np, x, w, b, (sh, sw), (ph, pw)).transpose(0, 3, 1, 2)
        dy = rng.standard_normal(y_ref.shape)
        dxp_ref = np.zeros_like(xp)
        dw_ref = np.zeros_like(w)
        for i in range(oh):
            for j in range(ow):
                window = (slice(None), slice(None), slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw))
                dxp_ref[window] += np.tensordot(dy[:, :, i, j], w, axes=([1], [0]))
                dw_ref += np.tensordot(dy[:, :, i, j], xp[window], axes=([0], [0]))
        dx_ref = dxp_ref[:, :, ph:ph + h, pw:pw + w_]
        dx = backward_input(np, dy, w, h, w_, (sh, sw), (ph, pw)).transpose(0, 3, 1, 2)
        dw, db = backward_weights(np, x, dy, kh, kw, (sh, sw), (ph, pw))
        for name, got, want in [("forward", y, y_ref), ("backward_input", dx, dx_ref), ("backward_weights", dw, dw_ref),
                                ("bias_grad", db, dy.sum(axis=(0, 2, 3)))]:
            if got.shape != want.shape or not np.allclose(got, want, rtol=1e-10, atol=1e-10):
                raise SystemExit(f"{PEER}: self-check failed: {name} for shape {shape}")
    peer_common.log(PEER, "self-check passed (forward, backward_input, backward_weights vs direct loops)")


def main():
    args = parse_args()
    try:
        import numpy as np
    except ImportError:
        peer_common.log(PEER, "skipped: numpy is not installed for this python (apt-get install python3-numpy)")
        return 0
    if args.check:
        self_check(np)
        return 0
    blas = peer_common.blas_description()
    if args.threads > 1 and blas.get("blas_threads") == "1":
        peer_common.log(PEER, f"skipped threads={args.threads}: numpy's BLAS runs one thread ({blas['blas_kernel']})")
        return 0
    plan = peer_common.load_plan(args.plan)
    budget = peer_common.CallBudget(args.max_call_seconds)
    rng = np.random.default_rng(0)
    results = []
    for case in plan["cases"]:
        if not budget.allows(case, args.threads):
            peer_common.log(PEER, f"skipped {peer_common.case_name('numpy', case, args.threads)}: would take "
                                  f"~{budget.predicted(case, args.threads):.1f} s per call")
            continue
        n, c, f = case["batch"], case["in_channels"], case["out_channels"]
        h, w_, kh, kw = case["in_height"], case["in_width"], case["kernel_height"], case["kernel_width"]
        sh, sw, ph, pw = peer_common.geometry(case)
        s, p = (sh, sw), (ph, pw)
        oh, ow = (h + 2 * ph - kh) // sh + 1, (w_ + 2 * pw - kw) // sw + 1
        x = rng.standard_normal((n, c, h, w_), dtype=np.float32)
        w = rng.standard_normal((f, c, kh, kw), dtype=np.float32)
        b = rng.standard_normal(f, dtype=np.float32)
        dy = rng.standard_normal((n, f, oh, ow), dtype=np.float32)
        call = {
            "forward": lambda: forward(np, x, w, b, s, p),
            "backward_input": lambda: backward_input(np, dy, w, h, w_, s, p),
            "backward_weights": lambda: backward_weights(np, x, dy, kh, kw, s, p),
        }[case["pass"]]
        iterations, seconds = peer_common.time_calls(call, args.min_time, args.rounds)
        budget.record(case, args.threads, seconds)
        entry = peer_common.conv_entry("numpy", case, args.threads, iterations, seconds,
                                       "as_strided windows + tensordot, channels-last result")
        entry["repetitions"] = args.rounds
        results.append(entry)
    context = {"peer": "numpy (the lecture's as_strided + tensordot method)", "numpy_version": np.__version__,
               "threads": args.threads,
               "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
               "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)")}
    context.update(blas)
    peer_common.write_results(args.out, context, results)
    peer_common.log(PEER, f"{len(results)} cases, BLAS: {blas.get('blas_library')} ({blas.get('blas_kernel')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
