# Chapter 7: the same checks from Python, through the convlab module (build/python) instead of .npy files.
import numpy as np
import convlab

x = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
windows = convlab.windows(x, 2)  # the lecture's as_strided view, zero copy, bounds-checked
print("windows", windows.shape, windows.strides, "shares memory:", np.shares_memory(windows, x))
try:
    convlab.windows(x, 4)
except ValueError as error:
    print("refused:", error)

rng = np.random.default_rng(7)
ints = lambda *shape: rng.integers(-4, 5, shape).astype(np.float32)  # exact in any summation order
images, w, b = ints(3, 2, 13, 11), ints(4, 2, 5, 5), ints(4)
view = convlab.windows(images.reshape(6, 13, 11), 5, 2).reshape(3, 2, 5, 4, 5, 5)  # (n, c, rows, cols, kh, kw)
by_hand = np.einsum("ncijkl,fckl->nfij", view, w) + b[None, :, None, None]
for impl in [entry["name"] for entry in convlab.implementations()]:
    if convlab.unsupported(impl, images.shape, w.shape, stride=2):  # Winograd: 3x3 windows at stride 1 only
        continue
    y = convlab.conv2d(images, w, b, stride=2, impl=impl)
    dx = convlab.conv2d_backward_input(np.ones_like(y), w, (13, 11), stride=2, impl=impl)
    dw, db = convlab.conv2d_backward_weights(images, np.ones_like(y), (5, 5), stride=2, impl=impl)
    print(f"{impl:7s} y {y.shape} equal to the windows' sums: {np.array_equal(y, by_hand)}; "
          f"dx {dx.shape}, dw {dw.shape}, db = {db.tolist()}")
