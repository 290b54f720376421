"""Chapter 1: what numpy's as_strided can do wrong, and the safe way to get the lecture's windows."""
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

a = np.arange(6, dtype=np.int64)  # 48 bytes
s = a.itemsize

# 1. It trusts the shape and strides it is given. Windows of 3 in an array of 6, but asked for 5 of them:
#    the last window would start at element 4 and read elements 4, 5, 6 - and element 6 is not in the array.
shape, strides = (5, 3), (s, s)
last = sum((n - 1) * st for n, st in zip(shape, strides))
print(f"as_strided(shape={shape}, strides={strides}) would read up to byte {last + s} of a {a.nbytes}-byte array")

# 2. Its windows overlap in memory, and the view is writable: one write changes every window that sees it.
w = as_strided(a.copy(), shape=(4, 3), strides=(s, s))
w[0, 2] = 100
print("after w[0, 2] = 100:", w.tolist())

# 3. sliding_window_view computes shape and strides itself and returns a read-only view.
v = sliding_window_view(a, 3)
print("sliding_window_view(a, 3):", v.shape, v.strides, v.tolist())
try:
    v[0, 0] = 1
except ValueError as error:
    print("writing to it:", error)

# The lecture's digit windows, the safe way: (1, 28, 28) -> (1, 19, 19, 10, 10), the same shape and byte
# strides as the lecture's as_strided call.
digit = np.zeros((1, 28, 28), dtype=np.float32)
windows = sliding_window_view(digit, (10, 10), axis=(1, 2))
print("digit windows:", windows.shape, windows.strides)
