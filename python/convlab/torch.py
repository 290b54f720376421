"""convlab's convolutions as a torch.autograd.Function: `conv2d(x, w, b, stride, padding, impl)` takes and
returns CPU tensors (float32 or float64, NCHW) and its backward pass runs convlab's two gradient passes, so
a PyTorch model can train on any convlab implementation, and torch.autograd.gradcheck can check convlab's
gradients. Imports torch: only when this submodule is imported."""

import numpy as np
import torch

from . import _convlab


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _numpy(tensor, name):
    if tensor.device.type != "cpu":
        raise ValueError(f"{name} is on {tensor.device}; convlab computes on the CPU")
    return np.ascontiguousarray(tensor.detach().numpy())


class Conv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, stride, padding, impl):
        ctx.stride, ctx.padding, ctx.impl = stride, padding, impl
        ctx.has_bias = b is not None
        ctx.save_for_backward(x, w)
        y = _convlab.conv2d(_numpy(x, "x"), _numpy(w, "w"), None if b is None else _numpy(b, "b"),
                            stride=stride, padding=padding, impl=impl)
        return torch.from_numpy(y)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dy_array = _numpy(dy, "dy")
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = torch.from_numpy(_convlab.conv2d_backward_input(
                dy_array, _numpy(w, "w"), tuple(x.shape[2:]), stride=ctx.stride, padding=ctx.padding, impl=ctx.impl))
        if ctx.needs_input_grad[1] or (ctx.has_bias and ctx.needs_input_grad[2]):
            dw_array, db_array = _convlab.conv2d_backward_weights(
                _numpy(x, "x"), dy_array, tuple(w.shape[2:]), stride=ctx.stride, padding=ctx.padding, bias=True,
                impl=ctx.impl)
            dw = torch.from_numpy(dw_array) if ctx.needs_input_grad[1] else None
            db = torch.from_numpy(db_array) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db, None, None, None


def conv2d(x, w, b=None, stride=1, padding=0, impl=_convlab.default_impl):
    """torch.nn.functional.conv2d's arithmetic (groups=1, dilation=1) on convlab's implementation `impl`."""
    return Conv2dFunction.apply(x, w, b, _pair(stride), _pair(padding), impl)
