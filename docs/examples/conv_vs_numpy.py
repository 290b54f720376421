# Chapter 7: convlab against numpy from outside, through .npy files and `convlab conv`.
import os, subprocess, sys, tempfile
import numpy as np
from numpy.lib.stride_tricks import as_strided

def numpy_conv(x, w, b, dy, s):
    """The lecture's method: a windows view, then sums of products (forward and both gradients)."""
    n, c, h, wd = x.shape; f, _, kh, kw = w.shape
    oh, ow = (h - kh) // s + 1, (wd - kw) // s + 1
    e = x.strides
    windows = as_strided(x, (n, oh, ow, c, kh, kw), (e[0], e[2] * s, e[3] * s, e[1], e[2], e[3]))
    y = np.einsum("nijckl,fckl->nfij", windows, w) + b[None, :, None, None]
    dw = np.einsum("nfij,nijckl->fckl", dy, windows)
    dx = np.zeros_like(x)
    for ky in range(kh):
        for kx in range(kw):  # every tap scatters dy back onto the pixels it read
            dx[:, :, ky:ky + s * oh:s, kx:kx + s * ow:s] += np.einsum("nfij,fc->ncij", dy, w[:, :, ky, kx])
    return {"y": y, "dx": dx, "dw": dw, "db": dy.sum(axis=(0, 2, 3))}

convlab = sys.argv[1] if len(sys.argv) > 1 else "build/convlab"
rng = np.random.default_rng(7)
ints = lambda *shape: rng.integers(-4, 5, shape).astype(np.float32)  # exact in any summation order
x, w, b, dy = ints(3, 2, 13, 11), ints(4, 2, 5, 5), ints(4), ints(3, 4, 5, 4)
with tempfile.TemporaryDirectory() as folder:
    for name, array in {"x": x, "w": w, "b": b, "dy": dy}.items():
        np.save(os.path.join(folder, name + ".npy"), array)
    for impl in ["naive", "im2col", "simd", "openmp"]:
        subprocess.run([convlab, "conv", "--impl", impl, "--stride", "2", "--out-dir", folder] +
                       [f"--{o}={folder}/{n}.npy" for o, n in
                        [("input", "x"), ("weights", "w"), ("bias", "b"), ("output-grad", "dy")]],
                       check=True, stdout=subprocess.DEVNULL)
        want = numpy_conv(x, w, b, dy, 2)
        got = {name: np.load(os.path.join(folder, name + ".npy")) for name in want}
        print(impl, " ".join(f"{k} {got[k].shape} {'==' if np.array_equal(got[k], want[k]) else '!='} numpy"
                             for k in want))
