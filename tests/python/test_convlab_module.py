"""The `convlab` Python module against numpy: the lecture's windows, every implementation's three passes,
and the errors a caller gets for bad input. Run by ctest (python_module_tests) with PYTHONPATH=build/python.

Tolerances come from the error bound of a sum of n products, each rounded once: |computed - exact| <=
gamma(n) * sum |terms|, gamma(n) = n u / (1 - n u), u the unit roundoff of the dtype; the exact value and
sum |terms| are computed in float64 from the very same inputs (for float64 inputs the reference's own
error, also bounded by gamma(n) * sum |terms| with u = 2^-53, is added)."""

import os
import re
import subprocess
import threading

import numpy as np
import pytest

import convlab

IMPLS = [entry["name"] for entry in convlab.implementations()]
DATA_DIR = os.environ.get("CONVLAB_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "data"))


# ------------------------------------------------------------------------------------------ references

def padded(x, padding):
    ph, pw = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def patches(x, kernel, stride, padding):
    """(N, C, oh, ow, kh, kw) windows of the padded input, a copy (numpy's own as_strided, checked)."""
    xp = padded(x, padding)
    n, c, h, w = xp.shape
    kh, kw = kernel
    sh, sw = stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s = xp.strides
    view = np.lib.stride_tricks.as_strided(xp, (n, c, oh, ow, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2], s[3]),
                                           writeable=False)
    return view.copy()


def forward_reference(x, w, b, stride, padding):
    p = patches(x.astype(np.float64), w.shape[2:], stride, padding)
    exact = np.einsum("ncyxij,fcij->nfyx", p, w.astype(np.float64))
    magnitude = np.einsum("ncyxij,fcij->nfyx", np.abs(p), np.abs(w.astype(np.float64)))
    if b is not None:
        exact += b.astype(np.float64)[None, :, None, None]
        magnitude += np.abs(b.astype(np.float64))[None, :, None, None]
    return exact, magnitude, w.shape[1] * w.shape[2] * w.shape[3] + (b is not None)


def backward_input_reference(dy, w, input_size, stride, padding):
    """dx = the transpose of the forward map: every window adds w * dy back where it read."""
    n, f, oh, ow = dy.shape
    _, c, kh, kw = w.shape
    (h, wd), (sh, sw), (ph, pw) = input_size, stride, padding
    exact = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    magnitude = np.zeros_like(exact)
    dy64, w64 = dy.astype(np.float64), w.astype(np.float64)
    for ky in range(kh):
        for kx in range(kw):
            rows = slice(ky, ky + sh * (oh - 1) + 1, sh)
            cols = slice(kx, kx + sw * (ow - 1) + 1, sw)
            exact[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", dy64, w64[:, :, ky, kx])
            magnitude[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", np.abs(dy64), np.abs(w64[:, :, ky, kx]))
    crop = (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + wd))
    return exact[crop], magnitude[crop], f * kh * kw


def backward_weights_reference(x, dy, kernel, stride, padding):
    p = patches(x.astype(np.float64), kernel, stride, padding)
    dy64 = dy.astype(np.float64)
    exact = np.einsum("ncyxij,nfyx->fcij", p, dy64)
    magnitude = np.einsum("ncyxij,nfyx->fcij", np.abs(p), np.abs(dy64))
    terms = dy.shape[0] * dy.shape[2] * dy.shape[3]
    return exact, magnitude, dy64.sum(axis=(0, 2, 3)), np.abs(dy64).sum(axis=(0, 2, 3)), terms


def assert_within_bound(computed, exact, magnitude, terms, dtype, what):
    u = np.finfo(dtype).eps / 2
    gamma = terms * u / (1 - terms * u)
    bound = gamma * magnitude
    if dtype == np.float64:
        bound = 2 * bound  # the float64 reference rounds too
    error = np.abs(computed.astype(np.float64) - exact)
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), (f"{what}: error {error[worst]:.3g} above its bound {bound[worst]:.3g} at {worst} "
                                    f"(n = {terms})")


LAYERS = [  # (N, C, H, W, F, kh, kw, stride, padding)
    (2, 3, 9, 11, 4, 3, 3, (1, 1), (1, 1)),
    (3, 1, 28, 28, 20, 5, 5, (4, 4), (0, 0)),  # the lecture's layer with its strides honoured
    (1, 17, 12, 10, 33, 3, 2, (2, 1), (1, 0)),
    (2, 20, 13, 13, 50, 5, 5, (2, 2), (2, 2)),
    (1, 5, 7, 7, 9, 7, 7, (3, 3), (3, 3)),
    (2, 16, 6, 6, 16, 1, 1, (2, 2), (0, 0)),
]


# --------------------------------------------------------------------------------------------- windows

def test_windows_of_the_lectures_2x3x4_example():
    x = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    w = convlab.windows(x, 2)
    assert w.shape == (2, 2, 3, 2, 2)
    assert w.strides == (96, 32, 8, 32, 8)
    assert w[1, 0, 1].tolist() == [[13, 14], [17, 18]]
    assert np.shares_memory(w, x)  # a view, not a copy
    with pytest.raises(ValueError):
        w[0, 0, 0, 0, 0] = 5  # read-only, as writing through overlapping windows would be a trap


def test_windows_equal_numpys_as_strided_for_any_input_strides():
    random = np.random.default_rng(1)
    images = random.random((3, 20, 17)).astype(np.float32)
    for x in (images, images[:, ::2, :], images[:, :, ::-1]):  # contiguous, strided rows, reversed columns
        for window, stride in ((5, 1), ((3, 4), (2, 3)), (4, 4)):
            wr, wc = (window, window) if isinstance(window, int) else window
            sr, sc = (stride, stride) if isinstance(stride, int) else stride
            s = x.strides
            shape = (x.shape[0], (x.shape[1] - wr) // sr + 1, (x.shape[2] - wc) // sc + 1, wr, wc)
            expected = np.lib.stride_tricks.as_strided(x, shape, (s[0], s[1] * sr, s[2] * sc, s[1], s[2]))
            got = convlab.windows(x, window, stride)
            assert got.shape == expected.shape and got.strides == expected.strides
            assert np.array_equal(got, expected)


def test_windows_refuse_what_as_strided_would_read_past_the_array():
    x = np.zeros((1, 28, 28), dtype=np.float32)
    with pytest.raises(ValueError, match="as_strided would read outside the array"):
        convlab.windows(x, 29)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        convlab.windows(x, 5, 0)
    with pytest.raises(ValueError, match="must be 3-D"):
        convlab.windows(np.zeros((28, 28)), 5)
    with pytest.raises(TypeError, match="an int or a pair of ints"):
        convlab.windows(x, 2.5)


def read_idx_images(path, count):
    with open(path, "rb") as f:
        header = np.frombuffer(f.read(16), dtype=">u4")
        assert header[0] == 2051
        return np.frombuffer(f.read(count * 28 * 28), dtype=np.uint8).reshape(count, 28, 28)


def test_the_lectures_digit_walk_through():
    """Training image 15 / 256 as float32 (the lecture's first 7), its 10x10 windows and anti-diagonal
    detector: numpy's own product over convlab's view gives the extremes the lecture printed."""
    path = os.path.join(DATA_DIR, "mnist", "train-images-idx3-ubyte")
    if not os.path.exists(path):
        pytest.skip(f"{path} missing (scripts/install.sh fetches MNIST)")
    digit = (read_idx_images(path, 16)[15:16] / 256).astype(np.float32)
    windows = convlab.windows(digit, 10)
    assert windows.shape == (1, 19, 19, 10, 10)
    assert windows.strides == (3136, 112, 4, 112, 4)
    detector = np.zeros((10, 10))
    detector[range(9, -1, -1), range(10)] = 1
    detector *= 0.05
    response = np.tanh(np.sum(windows * detector, axis=(3, 4)))
    assert (float(response.min()), float(response.max())) == (0.0, 0.4244643684778938)


# --------------------------------------------------------------------------------------- convolutions

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: "N{}C{}_{}x{}_F{}_{}x{}_s{}_p{}".format(*layer))
def test_every_pass_against_numpy(impl, dtype, layer):
    n, c, h, w, f, kh, kw, stride, padding = layer
    info = next(entry for entry in convlab.implementations() if entry["name"] == impl)
    why = convlab.unsupported(impl, (n, c, h, w), (f, c, kh, kw), stride=stride, padding=padding)
    if why:
        with pytest.raises(ValueError, match=re.escape(why)):
            convlab.conv2d(np.zeros((n, c, h, w), dtype), np.zeros((f, c, kh, kw), dtype), stride=stride,
                           padding=padding, impl=impl)
        return
    if not info["direct_sums"]:
        pytest.skip(f"{impl} is held to an error bound of its own, not the direct sum's used here (its C++ test)")
    random = np.random.default_rng(abs(hash((n, c, h, w, f, kh, kw))) % 2**32)
    x = random.standard_normal((n, c, h, w)).astype(dtype)
    weights = random.standard_normal((f, c, kh, kw)).astype(dtype)
    bias = random.standard_normal(f).astype(dtype)
    y = convlab.conv2d(x, weights, bias, stride=stride, padding=padding, impl=impl)
    assert y.dtype == dtype
    exact, magnitude, terms = forward_reference(x, weights, bias, stride, padding)
    assert y.shape == exact.shape
    assert_within_bound(y, exact, magnitude, terms, dtype, f"{impl} forward")

    dy = random.standard_normal(y.shape).astype(dtype)
    dx = convlab.conv2d_backward_input(dy, weights, (h, w), stride=stride, padding=padding, impl=impl)
    exact, magnitude, terms = backward_input_reference(dy, weights, (h, w), stride, padding)
    assert dx.shape == x.shape
    assert_within_bound(dx, exact, magnitude, terms, dtype, f"{impl} backward_input")

    dw, db = convlab.conv2d_backward_weights(x, dy, (kh, kw), stride=stride, padding=padding, impl=impl)
    exact, magnitude, bias_exact, bias_magnitude, terms = backward_weights_reference(x, dy, (kh, kw), stride, padding)
    assert dw.shape == weights.shape and db.shape == bias.shape
    assert_within_bound(dw, exact, magnitude, terms, dtype, f"{impl} backward_weights")
    assert_within_bound(db, bias_exact, bias_magnitude, terms, dtype, f"{impl} bias gradient")
    only_weights = convlab.conv2d_backward_weights(x, dy, (kh, kw), stride=stride, padding=padding, bias=False,
                                                   impl=impl)
    assert isinstance(only_weights, np.ndarray) and np.array_equal(only_weights, dw)


def test_no_bias_and_the_default_implementation():
    random = np.random.default_rng(5)
    x = random.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = random.standard_normal((4, 3, 3, 3)).astype(np.float32)
    assert convlab.default_impl in IMPLS
    assert np.array_equal(convlab.conv2d(x, w), convlab.conv2d(x, w, None, impl=convlab.default_impl))
    exact, magnitude, terms = forward_reference(x, w, None, (1, 1), (0, 0))
    assert_within_bound(convlab.conv2d(x, w), exact, magnitude, terms, np.float32, "no bias")


def test_threads_of_python_get_the_same_results():
    """Each Python thread has its own implementation objects; the GIL is released while they compute."""
    random = np.random.default_rng(9)
    x = random.standard_normal((8, 16, 20, 20)).astype(np.float32)
    w = random.standard_normal((32, 16, 3, 3)).astype(np.float32)
    expected = convlab.conv2d(x, w, padding=1)
    results = [None] * 4

    def work(slot):
        results[slot] = [convlab.conv2d(x, w, padding=1) for _ in range(3)]

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for per_thread in results:
        for y in per_thread:
            assert np.array_equal(y, expected)


def test_implementations_list_what_convlab_impls_prints():
    assert convlab.__version__.count(".") == 2 and all(part.isdigit() for part in convlab.__version__.split("."))
    entries = convlab.implementations()
    names = [entry["name"] for entry in entries]
    assert names and len(set(names)) == len(names) and all(re.fullmatch(r"[a-z0-9_]+", name) for name in names)
    for entry in entries:
        assert entry["summary"] and entry["build_flags"] and isinstance(entry["uses_threads"], bool)
        assert entry["role"] in ("reference", "fast") and isinstance(entry["direct_sums"], bool)
    # One reference, summing directly, which says so (what the others are checked against); the fast ones besides
    # it, the default among them, and at least one of them parallel (no name is written here: roles and properties).
    references = [entry for entry in entries if entry["role"] == "reference"]
    fast = [entry for entry in entries if entry["role"] == "fast"]
    assert len(references) == 1, f"reference implementations: {[entry['name'] for entry in references]}"
    assert references[0]["direct_sums"] and "reference" in references[0]["summary"]
    assert convlab.default_impl in [entry["name"] for entry in fast]
    assert any(entry["uses_threads"] for entry in fast)
    assert references[0]["bitwise_reference"] == []  # the reference is not listed as its own copy


def parse_impls_listing(text):
    """`convlab impls` as {name: {summary, build_flags, uses_threads, role, bitwise_reference}}."""
    listed, name = {}, None
    for line in text.splitlines():
        if not line.startswith(" "):
            name, summary = line.split(None, 1)
            listed[name] = {"summary": summary, "bitwise_reference": []}
            continue
        detail = line.strip()
        if detail.startswith("built with: "):
            flags = detail[len("built with: "):]
            listed[name]["uses_threads"] = flags.endswith("(OpenMP threads)")
            listed[name]["build_flags"] = flags.removesuffix("(OpenMP threads)").rstrip()
        elif detail.startswith("role: "):
            listed[name]["role"] = detail[len("role: "):].split(" (")[0]
        elif detail.startswith("bitwise "):
            listed[name]["bitwise_reference"] = detail.split(": ", 1)[1].split(", ")
    return listed


@pytest.mark.skipif("CONVLAB_CLI" not in os.environ, reason="CONVLAB_CLI (the convlab binary) not set: ctest sets it")
def test_implementations_agree_with_the_cli():
    text = subprocess.run([os.environ["CONVLAB_CLI"], "impls"], check=True, capture_output=True, text=True).stdout
    listed = parse_impls_listing(text)
    entries = convlab.implementations()
    assert [entry["name"] for entry in entries] == list(listed)
    for entry in entries:
        cli = listed[entry["name"]]
        for key in ("summary", "build_flags", "uses_threads", "role", "bitwise_reference"):
            assert entry[key] == cli[key], f"{entry['name']}: {key} is {entry[key]!r} here, {cli[key]!r} in convlab impls"
    assert any(entry["bitwise_reference"] for entry in entries)  # some implementation keeps the reference's order


# -------------------------------------------------------------------------------------------- errors

def test_errors_name_what_is_wrong():
    x = np.zeros((1, 3, 8, 8), dtype=np.float32)
    w = np.zeros((4, 3, 3, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="dtype int64 is not supported; use float32 or float64"):
        convlab.conv2d(x.astype(np.int64), w)
    with pytest.raises(TypeError, match="w has dtype float64 but the input has float32"):
        convlab.conv2d(x, w.astype(np.float64))
    with pytest.raises(ValueError, match="x is not C-contiguous"):
        convlab.conv2d(np.zeros((1, 3, 8, 16), dtype=np.float32)[:, :, :, ::2], w)
    with pytest.raises(ValueError, match=r"x: the input \(N, C, H, W\) must be 4-D but has shape \(3, 8, 8\)"):
        convlab.conv2d(x[0], w)
    with pytest.raises(ValueError, match=re.escape("w: weights of shape (4, 2, 3, 3) expect 2 input channels but x has 3")):
        convlab.conv2d(x, w[:, :2].copy())
    with pytest.raises(ValueError, match="b has 3 values but w has 4 filters"):
        convlab.conv2d(x, w, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="larger than the padded input"):
        convlab.conv2d(x, np.zeros((4, 3, 9, 9), dtype=np.float32))
    with pytest.raises(ValueError, match="stride must be at least 1"):
        convlab.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be at least 0"):
        convlab.conv2d(x, w, padding=(-1, 0))
    with pytest.raises(ValueError, match=re.escape(f"'fastest' (known: {' '.join(IMPLS)})")):  # lists the known names
        convlab.conv2d(x, w, impl="fastest")
    with pytest.raises(ValueError, match=r"dy has shape \(1, 4, 5, 5\) but this layer's output is 6x6"):
        convlab.conv2d_backward_input(np.zeros((1, 4, 5, 5), dtype=np.float32), w, (8, 8))
    with pytest.raises(ValueError, match="dy has 2 images but x has 1"):
        convlab.conv2d_backward_weights(x, np.zeros((2, 4, 6, 6), dtype=np.float32), 3)
