// The `convlab` Python package's extension (_convlab): the lecture's windows as a zero-copy numpy view, and every registered
// convolution implementation's three passes on numpy arrays (NCHW, float32 or float64).
//
// Arrays are taken as they are, never converted: a wrong dtype, a non-contiguous array or a bad shape
// raises TypeError or ValueError with the words the C++ side uses (ConvShapeError's messages), instead of a
// silent copy that would hide what a caller passed. The computing happens without the GIL. Each Python
// thread keeps its own implementation objects (their scratch buffers are reused from call to call, and an
// object must not be shared by two threads at once).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/conv/conv_shape.hpp"
#include "common/io/npy.hpp"
#include "python/classifier_bindings.hpp"

namespace py = pybind11;
using convlab::ConvShape;
using convlab::Index;

namespace {

// (rows, cols) from an int or a pair of ints, each at least `minimum`.
// Python ints and numpy integers (anything with __index__), never floats or bools.
bool is_integer(const py::handle& value) {
  return !py::isinstance<py::bool_>(value) && !py::isinstance<py::float_>(value) && PyIndex_Check(value.ptr());
}

std::pair<Index, Index> pair_argument(const py::handle& value, const char* name, Index minimum) {
  std::pair<Index, Index> result;
  if (is_integer(value)) {
    const Index both = py::int_(py::reinterpret_borrow<py::object>(value)).cast<Index>();
    result = {both, both};
  } else if (py::isinstance<py::sequence>(value) && !py::isinstance<py::str>(value) && py::len(value) == 2) {
    const auto items = value.cast<py::sequence>();
    if (!is_integer(items[0]) || !is_integer(items[1]))
      throw py::type_error(std::string(name) + ": expected an int or a pair of ints");
    result = {py::int_(items[0]).cast<Index>(), py::int_(items[1]).cast<Index>()};
  } else {
    throw py::type_error(std::string(name) + ": expected an int or a pair of ints, got " +
                         std::string(py::str(value.get_type().attr("__name__"))));
  }
  if (result.first < minimum || result.second < minimum)
    throw py::value_error(std::string(name) + " must be at least " + std::to_string(minimum) + ", got (" +
                          std::to_string(result.first) + ", " + std::to_string(result.second) + ")");
  return result;
}

std::string shape_text(const py::array& array) {
  std::string text = "(";
  for (py::ssize_t axis = 0; axis < array.ndim(); ++axis)
    text += (axis ? ", " : "") + std::to_string(array.shape(axis));
  return text + (array.ndim() == 1 ? ",)" : ")");
}

void require_rank(const py::array& array, const char* name, py::ssize_t rank, const char* meaning) {
  if (array.ndim() != rank)
    throw py::value_error(std::string(name) + ": " + meaning + " must be " + std::to_string(rank) +
                          "-D but has shape " + shape_text(array));
}

bool is_float32(const py::array& array) { return array.dtype().is(py::dtype::of<float>()); }
bool is_float64(const py::array& array) { return array.dtype().is(py::dtype::of<double>()); }

// The array as the kernels read it: float32 or float64, C-contiguous, of the same dtype as `like`.
void require_dense(const py::array& array, const char* name, const py::array* like = nullptr) {
  if (!is_float32(array) && !is_float64(array))
    throw py::type_error(std::string(name) + ": dtype " + std::string(py::str(array.dtype())) +
                         " is not supported; use float32 or float64");
  if (like && !array.dtype().is(like->dtype()))
    throw py::type_error(std::string(name) + " has dtype " + std::string(py::str(array.dtype())) + " but the input has " +
                         std::string(py::str(like->dtype())) + "; all arrays of one call share a dtype");
  if (!(array.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " is not C-contiguous; pass numpy.ascontiguousarray(" + name + ")");
}

// One implementation object per (Python thread, name), kept for the scratch buffers it reuses.
convlab::ConvImpl& implementation(const std::string& name) {
  thread_local std::map<std::string, std::unique_ptr<convlab::ConvImpl>> objects;
  auto found = objects.find(name);
  if (found == objects.end()) found = objects.emplace(name, convlab::make_conv_impl(name)).first;
  return *found->second;
}

// The layer's shape, validated (ConvShapeError, a std::invalid_argument, reaches Python as ValueError).
ConvShape layer_shape(Index batch, Index channels, Index height, Index width, Index filters,
                      std::pair<Index, Index> kernel, std::pair<Index, Index> stride, std::pair<Index, Index> padding) {
  const ConvShape s{.batch = batch, .in_channels = channels, .in_height = height, .in_width = width,
                    .out_channels = filters, .kernel_height = kernel.first, .kernel_width = kernel.second,
                    .stride_height = stride.first, .stride_width = stride.second, .pad_height = padding.first,
                    .pad_width = padding.second};
  s.validate();
  return s;
}

template <typename T>
T* data_of(py::array& array) { return static_cast<T*>(array.mutable_data()); }
template <typename T>
const T* data_of(const py::array& array) { return static_cast<const T*>(array.data()); }

py::array windows(const py::array& x, const py::handle& window, const py::handle& stride) {
  require_rank(x, "x", 3, "the images (images, rows, cols)");
  const auto [window_rows, window_cols] = pair_argument(window, "window", 1);
  const auto [stride_rows, stride_cols] = pair_argument(stride, "stride", 1);
  const Index rows = x.shape(1), cols = x.shape(2);
  // The lecture's as_strided would read past the array here; convlab refuses.
  if (window_rows > rows || window_cols > cols)
    throw py::value_error("window " + std::to_string(window_rows) + "x" + std::to_string(window_cols) +
                          " is larger than the " + std::to_string(rows) + "x" + std::to_string(cols) +
                          " image: as_strided would read outside the array");
  const Index grid_rows = (rows - window_rows) / stride_rows + 1, grid_cols = (cols - window_cols) / stride_cols + 1;
  const std::vector<py::ssize_t> shape{x.shape(0), grid_rows, grid_cols, window_rows, window_cols};
  const std::vector<py::ssize_t> strides{x.strides(0), x.strides(1) * stride_rows, x.strides(2) * stride_cols,
                                         x.strides(1), x.strides(2)};
  py::array view(x.dtype(), shape, strides, x.data(), x);  // shares x's memory and keeps x alive
  view.attr("flags").attr("writeable") = false;
  return view;
}

// dy must have the layer's output rows and columns.
void require_output_shape(const py::array& dy, const ConvShape& s) {
  if (dy.shape(2) != s.out_height() || dy.shape(3) != s.out_width())
    throw py::value_error("dy has shape " + shape_text(dy) + " but this layer's output is " + std::to_string(s.out_height()) +
                          "x" + std::to_string(s.out_width()) + " (" + s.describe() + ")");
}

struct Geometry {
  std::pair<Index, Index> stride, padding;
};

Geometry geometry(const py::handle& stride, const py::handle& padding) {
  return {pair_argument(stride, "stride", 1), pair_argument(padding, "padding", 0)};
}

py::array conv2d(const py::array& x, const py::array& w, const std::optional<py::array>& b, const py::handle& stride,
                 const py::handle& padding, const std::string& impl) {
  require_rank(x, "x", 4, "the input (N, C, H, W)");
  require_rank(w, "w", 4, "the weights (F, C, kh, kw)");
  require_dense(x, "x");
  require_dense(w, "w", &x);
  if (b) {
    require_rank(*b, "b", 1, "the bias (F,)");
    require_dense(*b, "b", &x);
    if (b->shape(0) != w.shape(0))
      throw py::value_error("b has " + std::to_string(b->shape(0)) + " values but w has " +
                            std::to_string(w.shape(0)) + " filters");
  }
  if (w.shape(1) != x.shape(1)) {
    // The CLI's words (`convlab conv`), the arrays' names in place of its files'.
    const std::vector<Index> w_shape(w.shape(), w.shape() + w.ndim());
    throw py::value_error("w: weights of shape " + convlab::shape_text(w_shape) + " expect " +
                          std::to_string(w.shape(1)) + " input channels but x has " + std::to_string(x.shape(1)));
  }
  const Geometry g = geometry(stride, padding);
  const ConvShape s = layer_shape(x.shape(0), x.shape(1), x.shape(2), x.shape(3), w.shape(0), {w.shape(2), w.shape(3)},
                                  g.stride, g.padding);
  convlab::ConvImpl& conv = implementation(impl);
  py::array y(x.dtype(), std::vector<py::ssize_t>{s.batch, s.out_channels, s.out_height(), s.out_width()});
  const auto run = [&](auto zero) {
    using T = decltype(zero);
    const T* bias = b ? data_of<T>(*b) : nullptr;
    T* out = data_of<T>(y);
    py::gil_scoped_release unlocked;
    conv.forward(s, data_of<T>(x), data_of<T>(w), bias, out);
  };
  if (is_float32(x)) run(float()); else run(double());
  return y;
}

py::array conv2d_backward_input(const py::array& dy, const py::array& w, const py::handle& input_size,
                                const py::handle& stride, const py::handle& padding, const std::string& impl) {
  require_rank(dy, "dy", 4, "the output gradient (N, F, oh, ow)");
  require_rank(w, "w", 4, "the weights (F, C, kh, kw)");
  require_dense(dy, "dy");
  require_dense(w, "w", &dy);
  if (w.shape(0) != dy.shape(1))
    throw py::value_error("w has " + std::to_string(w.shape(0)) + " filters but dy has " + std::to_string(dy.shape(1)) +
                          " channels");
  const auto [height, width] = pair_argument(input_size, "input_size", 1);
  const Geometry g = geometry(stride, padding);
  const ConvShape s = layer_shape(dy.shape(0), w.shape(1), height, width, w.shape(0), {w.shape(2), w.shape(3)},
                                  g.stride, g.padding);
  require_output_shape(dy, s);
  convlab::ConvImpl& conv = implementation(impl);
  py::array dx(dy.dtype(), std::vector<py::ssize_t>{s.batch, s.in_channels, s.in_height, s.in_width});
  const auto run = [&](auto zero) {
    using T = decltype(zero);
    T* out = data_of<T>(dx);
    py::gil_scoped_release unlocked;
    conv.backward_input(s, data_of<T>(dy), data_of<T>(w), out);
  };
  if (is_float32(dy)) run(float()); else run(double());
  return dx;
}

py::object conv2d_backward_weights(const py::array& x, const py::array& dy, const py::handle& kernel_size,
                                   const py::handle& stride, const py::handle& padding, bool bias, const std::string& impl) {
  require_rank(x, "x", 4, "the input (N, C, H, W)");
  require_rank(dy, "dy", 4, "the output gradient (N, F, oh, ow)");
  require_dense(x, "x");
  require_dense(dy, "dy", &x);
  if (dy.shape(0) != x.shape(0))
    throw py::value_error("dy has " + std::to_string(dy.shape(0)) + " images but x has " + std::to_string(x.shape(0)));
  const auto kernel = pair_argument(kernel_size, "kernel_size", 1);
  const Geometry g = geometry(stride, padding);
  const ConvShape s = layer_shape(x.shape(0), x.shape(1), x.shape(2), x.shape(3), dy.shape(1), kernel, g.stride, g.padding);
  require_output_shape(dy, s);
  convlab::ConvImpl& conv = implementation(impl);
  py::array dw(x.dtype(), std::vector<py::ssize_t>{s.out_channels, s.in_channels, s.kernel_height, s.kernel_width});
  py::array db(x.dtype(), std::vector<py::ssize_t>{s.out_channels});
  const auto run = [&](auto zero) {
    using T = decltype(zero);
    T* weights_out = data_of<T>(dw);
    T* bias_out = bias ? data_of<T>(db) : nullptr;
    py::gil_scoped_release unlocked;
    conv.backward_weights(s, data_of<T>(x), data_of<T>(dy), weights_out, bias_out);
  };
  if (is_float32(x)) run(float()); else run(double());
  if (bias) return py::make_tuple(dw, db);
  return dw;
}

py::list implementations() {
  py::list result;
  for (const convlab::ConvImplInfo& info : convlab::conv_implementations()) {
    py::dict entry;
    entry["name"] = info.name;
    entry["summary"] = info.summary;
    entry["build_flags"] = info.build_flags;
    entry["uses_threads"] = info.uses_threads;
    entry["role"] = std::string(info.role_name());
    entry["direct_sums"] = info.direct_sums;
    entry["delegates"] = info.delegates;
    entry["bitwise_reference"] = info.reference_order.pass_names();
    result.append(entry);
  }
  return result;
}

}  // namespace

// Why `impl` leaves out a pass of the layer of x (N, C, H, W) and w (F, C, kh, kw) shapes: "" when it runs them all.
std::string unsupported(const std::string& impl, const py::sequence& x_shape, const py::sequence& w_shape,
                        const py::handle& stride, const py::handle& padding) {
  const auto dims = [](const py::sequence& shape, const char* name) {
    if (py::len(shape) != 4) throw py::value_error(std::string(name) + ": expected 4 dimensions");
    std::vector<Index> d;
    for (const py::handle& value : shape) d.push_back(value.cast<Index>());
    return d;
  };
  const std::vector<Index> x = dims(x_shape, "x_shape"), w = dims(w_shape, "w_shape");
  if (w[1] != x[1]) throw py::value_error("w_shape: its input channels differ from x_shape's");
  const ConvShape s = layer_shape(x[0], x[1], x[2], x[3], w[0], {w[2], w[3]}, pair_argument(stride, "stride", 1),
                                  pair_argument(padding, "padding", 0));
  return convlab::conv_implementation(impl).why_unsupported(s);
}

PYBIND11_MODULE(_convlab, m) {
  m.doc() = "convlab: the lecture's stride tricks, checked, and fast 2-D convolutions on numpy arrays (NCHW).";
  m.attr("default_impl") = std::string(convlab::kDefaultConvImpl);
  m.attr("__version__") = CONVLAB_VERSION;
  m.def("windows", &windows, py::arg("x"), py::arg("window"), py::arg("stride") = 1,
        R"(The lecture's windows of images x (images, rows, cols): a read-only view sharing x's memory.

Shape (images, window rows, window cols, rows in window, cols in window); byte strides
(x.strides[0], x.strides[1]*stride rows, x.strides[2]*stride cols, x.strides[1], x.strides[2]), as the
lecture built them with numpy's as_strided. Unlike as_strided, a window larger than the image raises
ValueError instead of reading outside the array. window and stride: an int or (rows, cols).)");
  m.def("conv2d", &conv2d, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("stride") = 1,
        py::arg("padding") = 0, py::arg("impl") = std::string(convlab::kDefaultConvImpl),
        R"(y = conv(x, w) + b: x (N, C, H, W), w (F, C, kh, kw), b (F,) or None; float32 or float64, C-contiguous.

Cross-correlation (no kernel flip), as in the lecture and deep-learning libraries. stride and padding: an
int or (rows, cols); the strides are honoured (the lecture's code ignored its windowStrides). impl: a name
from implementations().)");
  m.def("conv2d_backward_input", &conv2d_backward_input, py::arg("dy"), py::arg("w"), py::arg("input_size"),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("impl") = std::string(convlab::kDefaultConvImpl),
        "dL/dx from dL/dy = dy (N, F, oh, ow) and w (F, C, kh, kw); input_size: (H, W) of x.");
  m.def("conv2d_backward_weights", &conv2d_backward_weights, py::arg("x"), py::arg("dy"), py::arg("kernel_size"),
        py::arg("stride") = 1, py::arg("padding") = 0, py::arg("bias") = true,
        py::arg("impl") = std::string(convlab::kDefaultConvImpl),
        "(dL/dw, dL/db) from x (N, C, H, W) and dy (N, F, oh, ow); kernel_size: (kh, kw). bias=False: dL/dw only.");
  m.def("implementations", &implementations,
        "The registered implementations (what `convlab impls` prints): name, summary, build_flags, uses_threads, "
        "role ('reference' or 'fast'), direct_sums (False: held to an error bound of its own, as Winograd), "
        "delegates (passes it hands to another algorithm) and bitwise_reference (the passes summed in the reference's "
        "order, so bitwise equal to it).");
  m.def("unsupported", &unsupported, py::arg("impl"), py::arg("x_shape"), py::arg("w_shape"), py::arg("stride") = 1,
        py::arg("padding") = 0,
        "Why implementation impl leaves out a pass of this layer (the words its calls raise ValueError with); '' "
        "when it computes all three.");
  convlab::python::add_classifier(m);
}
