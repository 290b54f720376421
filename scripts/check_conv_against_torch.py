#!/usr/bin/python3
"""Checks `convlab conv` against PyTorch: forward output and the gradients from autograd.

For each implementation, shape and dtype it writes random x, w, b, dy as .npy files, runs
`convlab conv --impl NAME ...`, and compares y, dx, dw, db with torch.nn.functional.conv2d evaluated in
float64 on the very same values. Per element the difference must stay within
    c * n * u * sum_i |a_i b_i|,   c = 2.5
where n is the number of products summed (C*kh*kw + 1 for y, the +1 being the bias; F*kh*kw for dx;
N*oh*ow for dw and db), u the unit roundoff of the dtype and sum|a b| the same sum over absolute values
(computed in float64 by torch). Each result carries at most gamma_n * sum|a b| of rounding error
(gamma_n = n u / (1 - n u)), so two of them differ by at most 2 gamma_n sum|a b|; 2.5 leaves room for the
1/(1 - n u) factor. It prints, per case, the largest |difference| relative to the largest |reference|
and the largest difference as a fraction of its bound, and exits 1 if any bound is exceeded.

Usage: /usr/bin/python3 scripts/check_conv_against_torch.py [--convlab build/convlab] [--impls naive,im2col]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

C_FACTOR = 2.5
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, N, C, H, W, F, kh, kw, (stride rows, cols), (padding rows, cols))
CASES = [
    ("lecture layer", 2, 1, 28, 28, 20, 5, 5, (1, 1), (0, 0)),
    ("second layer", 2, 20, 24, 24, 50, 5, 5, (2, 2), (0, 0)),
    ("padded 3x3", 2, 8, 14, 14, 16, 3, 3, (1, 1), (1, 1)),
    ("odd everything", 3, 2, 7, 9, 5, 3, 2, (2, 1), (1, 0)),
]


def registered_impls(convlab):
    listing = subprocess.run([convlab, "impls"], check=True, capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line and not line[0].isspace()]


def direct_sum_impls(convlab):
    """The implementations `convlab impls` does not mark as held to an error bound of their own."""
    listing = subprocess.run([convlab, "impls"], check=True, capture_output=True, text=True).stdout
    names, own_bound = [], set()
    for line in listing.splitlines():
        if line and not line[0].isspace():
            names.append(line.split()[0])
        elif line.strip().startswith("error bound: its own") and names:
            own_bound.add(names[-1])
    return [name for name in names if name not in own_bound]


def torch_reference(x, w, b, dy, stride, padding):
    """y, dx, dw, db in float64, and the matching sums over absolute values."""
    t = lambda a: torch.tensor(a.astype(np.float64))
    xt, wt, bt, dyt = (t(a).requires_grad_(True) for a in (x, w, b, dy))
    y = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
    y.backward(dyt.detach())
    ref = {"y": y.detach().numpy(), "dx": xt.grad.numpy(), "dw": wt.grad.numpy(), "db": bt.grad.numpy()}

    ax, aw, ab, ady = (t(np.abs(a)) for a in (x, w, b, dy))
    ax.requires_grad_(True)
    aw.requires_grad_(True)
    magnitude_y = torch.nn.functional.conv2d(ax, aw, ab, stride=stride, padding=padding)
    magnitude_y.backward(ady)  # gradients of sum(|dy| * conv(|x|, |w|)): sum |dy||w| and sum |dy||x|
    sums = {"y": magnitude_y.detach().numpy(), "dx": ax.grad.numpy(), "dw": aw.grad.numpy(),
            "db": np.abs(dy.astype(np.float64)).sum(axis=(0, 2, 3))}
    return ref, sums


def check_case(convlab, impl, case, dtype, rng, workdir):
    name, n, c, h, w_, f, kh, kw, stride, padding = case
    x = rng.uniform(-1, 1, (n, c, h, w_)).astype(dtype)
    w = rng.uniform(-1, 1, (f, c, kh, kw)).astype(dtype)
    b = rng.uniform(-1, 1, (f,)).astype(dtype)
    oh = (h + 2 * padding[0] - kh) // stride[0] + 1
    ow = (w_ + 2 * padding[1] - kw) // stride[1] + 1
    dy = rng.uniform(-1, 1, (n, f, oh, ow)).astype(dtype)
    for label, array in (("x", x), ("w", w), ("b", b), ("dy", dy)):
        np.save(os.path.join(workdir, label + ".npy"), array)
    out_dir = os.path.join(workdir, "out")
    command = [convlab, "conv", "--impl", impl, "--input", os.path.join(workdir, "x.npy"),
               "--weights", os.path.join(workdir, "w.npy"), "--bias", os.path.join(workdir, "b.npy"),
               "--output-grad", os.path.join(workdir, "dy.npy"), "--stride", "%d,%d" % stride,
               "--padding", "%d,%d" % padding, "--out-dir", out_dir]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        print("convlab conv failed: " + " ".join(command) + "\n" + run.stderr, file=sys.stderr)
        return False

    ref, sums = torch_reference(x, w, b, dy, stride, padding)
    u = np.finfo(dtype).eps / 2
    terms = {"y": c * kh * kw + 1, "dx": f * kh * kw, "dw": n * oh * ow, "db": n * oh * ow}
    fields = []
    passed = True
    for key in ("y", "dx", "dw", "db"):
        got = np.load(os.path.join(out_dir, key + ".npy"))
        if got.dtype != dtype or got.shape != ref[key].shape:
            print("%s: %s.npy has dtype %s shape %s, expected %s %s" % (impl, key, got.dtype, got.shape,
                  np.dtype(dtype), ref[key].shape), file=sys.stderr)
            return False
        difference = np.abs(got.astype(np.float64) - ref[key])
        bound = C_FACTOR * terms[key] * u * sums[key]
        relative = difference.max() / max(np.abs(ref[key]).max(), np.finfo(np.float64).tiny)
        # Where the bound is 0 the result must be exact; report such a miss as an infinite ratio.
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(difference == 0, 0.0, difference / bound)
        worst = float(np.nan_to_num(ratio.max(), nan=np.inf)) if ratio.size else 0.0
        passed &= bool(np.all(difference <= bound))
        fields.append("%s %.1e (%.3f of bound)" % (key, relative, worst))
    print("%-8s %-7s %-15s %s  %s" % (impl, np.dtype(dtype).name, name, "ok  " if passed else "FAIL", "  ".join(fields)))
    return passed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--convlab", default=os.environ.get("CONVLAB", os.path.join(REPO, "build", "convlab")))
    parser.add_argument("--impls", default="", help="comma-separated names (default: every registered one)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    impls = args.impls.split(",") if args.impls else registered_impls(args.convlab)
    if not args.impls:
        # Only the implementations whose sums are direct sums, bounded as this check bounds them (Winograd
        # has a bound of its own and runs 3x3 windows at stride 1 only): `convlab impls` says which.
        impls = [impl for impl in impls if impl in direct_sum_impls(args.convlab)]
    rng = np.random.default_rng(args.seed)
    torch.set_num_threads(1)
    print("max |difference| / max |reference| per output, and the worst difference as a fraction of its bound")
    all_passed = True
    with tempfile.TemporaryDirectory(prefix="convlab_torch_") as workdir:
        for impl in impls:
            for dtype in (np.float32, np.float64):
                for case in CASES:
                    all_passed &= check_case(args.convlab, impl, case, dtype, rng, workdir)
    print("all within bounds" if all_passed else "DISAGREEMENT beyond the rounding-error bound")
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
