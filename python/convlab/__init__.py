"""convlab from Python: the lecture's windows as a checked zero-copy view of numpy arrays, every convolution
implementation's forward pass and both gradients (NCHW, float32 or float64), the lecture's classifier, and
convlab model files as numpy arrays. `convlab.torch` (needs PyTorch) wraps the convolution as an autograd
function. Everything is implemented in C++ (the _convlab extension, python/convlab_module.cpp)."""

from ._convlab import (  # noqa: F401
    __version__,
    NeuralNetworkConvolutionalClassifier,
    confusion_matrix,
    conv2d,
    conv2d_backward_input,
    conv2d_backward_weights,
    default_impl,
    implementations,
    load_model,
    unsupported,
    windows,
)

__all__ = ["windows", "conv2d", "conv2d_backward_input", "conv2d_backward_weights", "implementations",
           "default_impl", "unsupported", "NeuralNetworkConvolutionalClassifier", "load_model", "confusion_matrix"]
