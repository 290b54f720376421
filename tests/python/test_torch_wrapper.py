"""convlab.torch.conv2d (an autograd function over convlab's passes) against torch.nn.functional.conv2d:
values, gradients, and torch.autograd.gradcheck in float64, for every implementation. Skipped without torch."""

import pytest

torch = pytest.importorskip("torch")

import convlab  # noqa: E402
import convlab.torch as convlab_torch  # noqa: E402

IMPLS = [entry["name"] for entry in convlab.implementations()]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((2, 1), (0, 2))])
def test_values_and_gradients_equal_torchs(impl, stride, padding):
    if convlab.unsupported(impl, (2, 3, 9, 8), (4, 3, 3, 3), stride=stride, padding=padding):
        pytest.skip(f"{impl} does not run this layer")
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64, generator=generator, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, generator=generator, requires_grad=True)
    y = convlab_torch.conv2d(x, w, b, stride=stride, padding=padding, impl=impl)
    reference = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)
    assert y.shape == reference.shape
    # 28 products per output, float64: far inside 1e-12 relative to the sum of absolute products.
    assert torch.allclose(y, reference, rtol=1e-12, atol=1e-12)
    weights = torch.randn(reference.shape, dtype=torch.float64, generator=generator)
    got = torch.autograd.grad((y * weights).sum(), (x, w, b))
    want = torch.autograd.grad((reference * weights).sum(), (x, w, b))
    for mine, theirs in zip(got, want):
        assert torch.allclose(mine, theirs, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("impl", IMPLS)
def test_gradcheck(impl):
    if convlab.unsupported(impl, (1, 2, 6, 5), (3, 2, 3, 2), stride=2, padding=1):
        pytest.skip(f"{impl} does not run this layer")
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    w = torch.randn(3, 2, 3, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, generator=generator, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: convlab_torch.conv2d(x, w, b, stride=2, padding=1, impl=impl),
                                    (x, w, b))


def test_float32_without_bias_and_only_some_gradients():
    x = torch.randn(2, 1, 28, 28)
    w = torch.randn(20, 1, 5, 5, requires_grad=True)
    y = convlab_torch.conv2d(x, w, stride=4)
    assert y.dtype == torch.float32 and y.shape == (2, 20, 6, 6)
    y.sum().backward()
    assert w.grad.shape == w.shape and x.grad is None
