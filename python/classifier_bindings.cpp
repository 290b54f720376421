// The lecture's classifier from Python: NeuralNetworkConvolutionalClassifier with the lecture's constructor,
// train (full-batch scaled conjugate gradient in float64, as the lecture trained), use, getErrors, save and
// load, on convlab's Network (common/nn/network.hpp); and load_model(path) for any convlab model file.
//
// Layout notes for people coming from the lecture's code:
//   - X may be (N, H*W*C), (N, H, W), (N, H, W, C) (the lecture's) or (N, C, H, W); for C > 1 the flat and
//     channels-last forms are taken as the lecture's channels-last pixels and transposed to convlab's NCHW.
//   - use(X, allOutputs=True) returns the hidden outputs as the lecture did: per layer (N, units) for dense
//     layers and (N, oh*ow*units) for the convolution, flattened channels-last (so Z[0][i].reshape(oh, ow,
//     units) is image i's feature maps, as in the lecture).
//   - windowStrides are honoured (the lecture's code ignored them and always slid by 1).
#include "python/classifier_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <charconv>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/nn/architecture.hpp"
#include "common/io/atomic_file.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/nn/metrics.hpp"
#include "common/nn/model_file.hpp"
#include "common/nn/network.hpp"
#include "common/nn/training_run.hpp"

namespace py = pybind11;

namespace convlab::python {
namespace {

std::pair<Index, Index> int_pair(const py::sequence& value, const char* name) {
  if (py::len(value) != 2) throw py::value_error(std::string(name) + ": expected (rows, cols)");
  return {value[0].cast<Index>(), value[1].cast<Index>()};
}

std::string pair_text(std::pair<Index, Index> p) { return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")"; }

class Classifier {
 public:
  Classifier(Index inputs, std::vector<Index> hiddens, Index outputs, const py::sequence& input_shape,
             const py::sequence& window_shape, const py::sequence& window_strides, std::string impl, std::uint64_t seed)
      : input_channels_(inputs), hiddens_(std::move(hiddens)), outputs_(outputs),
        input_shape_(int_pair(input_shape, "inputShape")), window_shape_(int_pair(window_shape, "windowShape")),
        window_strides_(int_pair(window_strides, "windowStrides")), impl_(std::move(impl)) {
    if (hiddens_.empty()) throw py::value_error("nHiddens: the lecture's network needs at least the convolution's units");
    architecture_ = Architecture::lecture(input_channels_, hiddens_, outputs_, input_shape_, window_shape_, window_strides_);
    // An unknown name, or a layer the implementation cannot train, fails here, not at the first convolution.
    const ConvImplInfo& info = conv_implementation(impl_);
    if (const std::string why = unsupported_layer(info, architecture_, true); !why.empty()) throw py::value_error(why);
    network_ = std::make_unique<Network<double>>(architecture_, info.make, seed);
  }

  // X as convlab's NCHW float64, validated against the input shape.
  std::vector<double> inputs(const py::array& x) const {
    const Index c = input_channels_, h = input_shape_.first, w = input_shape_.second;
    const auto array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x);
    if (!array) throw py::type_error("X: expected a numeric array");
    const auto dim = [&](py::ssize_t axis) { return Index(array.shape(axis)); };
    const Index n = array.ndim() > 0 ? dim(0) : 0;
    const bool nchw = array.ndim() == 4 && dim(1) == c && dim(2) == h && dim(3) == w;
    const bool nhwc = array.ndim() == 4 && dim(1) == h && dim(2) == w && dim(3) == c;
    const bool flat = array.ndim() == 2 && dim(1) == c * h * w;
    const bool images = array.ndim() == 3 && c == 1 && dim(1) == h && dim(2) == w;
    if (n < 1 || !(nchw || nhwc || flat || images)) {
      std::string shape = "(";
      for (py::ssize_t axis = 0; axis < array.ndim(); ++axis) shape += (axis ? ", " : "") + std::to_string(dim(axis));
      throw py::value_error("X has shape " + shape + ") but this network takes images of " + std::to_string(h) + "x" +
                            std::to_string(w) + " with " + std::to_string(c) +
                            " channel(s): (N, H*W*C), (N, H, W), (N, H, W, C) or (N, C, H, W), N >= 1");
    }
    const double* data = array.data();
    std::vector<double> out(std::size_t(n * c * h * w));
    if (c == 1 || nchw) {  // already convlab's order
      std::copy(data, data + out.size(), out.begin());
      return out;
    }
    for (Index i = 0; i < n; ++i)  // the lecture's channels-last pixels -> NCHW
      for (Index y = 0; y < h; ++y)
        for (Index xx = 0; xx < w; ++xx)
          for (Index ch = 0; ch < c; ++ch)
            out[std::size_t(((i * c + ch) * h + y) * w + xx)] = data[((i * h + y) * w + xx) * c + ch];
    return out;
  }

  std::vector<std::uint8_t> labels(const py::array& t, Index count) const {
    const auto array = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(t);
    if (!array || array.size() != count || !(array.ndim() == 1 || (array.ndim() == 2 && array.shape(1) == 1)))
      throw py::value_error("T: expected " + std::to_string(count) + " class labels, shape (N, 1) or (N,)");
    std::vector<std::uint8_t> out(static_cast<std::size_t>(count));
    for (Index i = 0; i < count; ++i) {
      const long long label = array.data()[i];
      if (label < 0 || label >= outputs_)
        throw py::value_error("T[" + std::to_string(i) + "] = " + std::to_string(label) + " is not a class in 0.." +
                              std::to_string(outputs_ - 1));
      out[std::size_t(i)] = std::uint8_t(label);
    }
    return out;
  }

  Classifier& train(const py::array& x, const py::array& t, int iterations, bool verbose) {
    if (iterations < 1) throw py::value_error("nIterations must be at least 1");
    const std::vector<double> data = inputs(x);
    const Index count = Index(data.size()) / architecture_.input_size();
    const std::vector<std::uint8_t> classes = labels(t, count);
    TrainingPlan plan;
    plan.use_scg = true;
    plan.scg_iterations = iterations;
    TrainingOutcome outcome;
    {
      py::gil_scoped_release unlocked;
      outcome = train_network<double>(*network_, plan, data, classes, {}, {}, verbose ? &std::cout : nullptr);
      if (verbose) std::cout.flush();
    }
    errors_.insert(errors_.end(), outcome.scg_error_trace.begin(), outcome.scg_error_trace.end());
    training_seconds_ += outcome.training_seconds;
    trained_ = true;
    return *this;
  }

  py::object use(const py::array& x, bool all_outputs) {
    const std::vector<double> data = inputs(x);
    const Index count = Index(data.size()) / architecture_.input_size();
    Network<double>::Outputs outputs;
    {
      py::gil_scoped_release unlocked;
      outputs = network_->use(data, all_outputs, all_outputs);
    }
    py::array_t<long long> classes({count, Index(1)});
    for (Index i = 0; i < count; ++i) classes.mutable_data()[i] = outputs.classes[std::size_t(i)];
    if (!all_outputs) return classes;
    py::array_t<double> probabilities({count, outputs_});
    std::copy(outputs.probabilities.begin(), outputs.probabilities.end(), probabilities.mutable_data());
    py::list hidden;
    const std::vector<LayerGeometry> layers = architecture_.layers();
    for (std::size_t l = 0; l < outputs.hidden.size(); ++l) {
      const LayerGeometry& g = layers[l];
      const Index per = g.output_size();
      py::array_t<double> layer({count, per});
      double* out = layer.mutable_data();
      const std::vector<double>& in = outputs.hidden[l];
      if (g.is_conv) {  // NCHW -> the lecture's channels-last rows
        const Index plane = g.out_height * g.out_width;
        for (Index i = 0; i < count; ++i)
          for (Index p = 0; p < plane; ++p)
            for (Index u = 0; u < g.units; ++u) out[i * per + p * g.units + u] = in[std::size_t(i * per + u * plane + p)];
      } else {
        std::copy(in.begin(), in.end(), out);
      }
      hidden.append(layer);
    }
    return py::make_tuple(classes, probabilities, hidden);
  }

  // The lecture's weight matrices: per layer (1 + inputs, units), the bias in row 0, one unit per column, the
  // inputs in the lecture's order (a window's pixels row by row with channels last; a convolution's output
  // flattened channels-last). hidden: the tanh layers (the lecture's Vs); else the softmax layer (its W).
  std::vector<py::array_t<double>> lecture_weights(bool hidden) const {
    std::vector<py::array_t<double>> result;
    const std::vector<LayerGeometry> layers = architecture_.layers();
    const std::vector<ParameterBlock>& blocks = network_->parameter_layout();
    const std::span<const double> p = network_->parameters();
    for (std::size_t l = 0; l < layers.size(); ++l) {
      if ((l + 1 < layers.size()) != hidden) continue;
      const LayerGeometry& g = layers[l];
      const Index inputs = g.weight_count / g.units;
      py::array_t<double> v({inputs + 1, g.units});
      double* out = v.mutable_data();
      const double* weights = p.data() + blocks[l].weights_offset;
      const double* bias = p.data() + blocks[l].bias_offset;
      for (Index u = 0; u < g.units; ++u) out[u] = bias[u];
      if (g.is_conv) {  // convlab: [unit][channel][ky][kx] -> row 1 + (ky * kw + kx) * C + channel
        const ConvLayerSpec& spec = architecture_.conv_layers[l];
        const Index c = g.in_channels, kh = spec.window_height, kw = spec.window_width;
        for (Index u = 0; u < g.units; ++u)
          for (Index ch = 0; ch < c; ++ch)
            for (Index ky = 0; ky < kh; ++ky)
              for (Index kx = 0; kx < kw; ++kx)
                out[(1 + (ky * kw + kx) * c + ch) * g.units + u] = weights[((u * c + ch) * kh + ky) * kw + kx];
      } else if (l > 0 && layers[l - 1].is_conv) {  // inputs NCHW-flattened -> channels-last
        const LayerGeometry& before = layers[l - 1];
        const Index plane = before.out_height * before.out_width;
        for (Index f = 0; f < before.units; ++f)
          for (Index q = 0; q < plane; ++q)
            for (Index u = 0; u < g.units; ++u)
              out[(1 + q * before.units + f) * g.units + u] = weights[(f * plane + q) * g.units + u];
      } else {
        std::copy(weights, weights + inputs * g.units, out + g.units);
      }
      result.push_back(v);
    }
    return result;
  }

  py::array_t<double> errors() const {
    py::array_t<double> out(Index(errors_.size()));
    std::copy(errors_.begin(), errors_.end(), out.mutable_data());
    return out;
  }

  std::string repr() const {
    std::string hidden = "[";
    for (std::size_t i = 0; i < hiddens_.size(); ++i) hidden += (i ? ", " : "") + std::to_string(hiddens_[i]);
    return "NeuralNetworkConvolutionalClassifier(" + std::to_string(input_channels_) + ", " + hidden + "], " +
           std::to_string(outputs_) + ", " + pair_text(input_shape_) + ", " + pair_text(window_shape_) + ", " +
           pair_text(window_strides_) + ")";
  }

  std::string summary() const {
    std::ostringstream text;
    text << repr() << "\n";
    if (!trained_) {
      text << "  Network is not trained.";
    } else {
      text << "Network was trained for " << errors_.size() << " iterations that took " << std::fixed;
      text.precision(4);
      // The final error as Python's repr writes a float: the shortest digits that read back exactly.
      char digits[32];
      const auto written = std::to_chars(digits, digits + sizeof digits, errors_.back());
      text << training_seconds_ << " seconds. Final error is " << std::string(digits, written.ptr) << ".";
    }
    return text.str();
  }

  void save(const std::string& path) const {
    SavedModel model;
    model.architecture = architecture_;
    model.precision = Precision::Double;
    model.parameters.assign(network_->parameters().begin(), network_->parameters().end());
    save_model(path, model);
  }

  static Classifier load(const std::string& path, const std::string& impl) {
    const SavedModel model = load_model(path);
    const Architecture& a = model.architecture;
    if (a.conv_layers.size() != 1 || a.conv_layers[0].pad_height != 0 || a.conv_layers[0].pad_width != 0)
      throw py::value_error(path + ": architecture " + architecture_signature(a) +
                            " is not the lecture's (one unpadded convolution, then dense layers); use load_model()");
    const ConvLayerSpec& conv = a.conv_layers[0];
    std::vector<Index> hiddens{conv.units};
    hiddens.insert(hiddens.end(), a.dense_layers.begin(), a.dense_layers.end());
    Classifier classifier(a.input_channels, hiddens, a.classes, py::make_tuple(a.input_height, a.input_width),
                          py::make_tuple(conv.window_height, conv.window_width),
                          py::make_tuple(conv.stride_height, conv.stride_width), impl, 1);
    std::copy(model.parameters.begin(), model.parameters.end(), classifier.network_->parameters().begin());
    classifier.trained_ = true;
    return classifier;
  }

 private:
  Index input_channels_;
  std::vector<Index> hiddens_;
  Index outputs_;
  std::pair<Index, Index> input_shape_, window_shape_, window_strides_;
  std::string impl_;
  Architecture architecture_;
  std::unique_ptr<Network<double>> network_;
  std::vector<double> errors_;
  double training_seconds_ = 0;
  bool trained_ = false;
};

// Any model file as numpy arrays: each layer's weights (conv F x C x kh x kw, dense inputs x units) and bias.
py::dict model_as_arrays(const std::string& path) {
  const SavedModel model = load_model(path);
  const Architecture& a = model.architecture;
  py::dict result;
  result["architecture"] = a.layers_text();
  result["description"] = a.describe();
  result["input_shape"] = py::make_tuple(a.input_channels, a.input_height, a.input_width);
  result["classes"] = a.classes;
  result["precision"] = model.precision == Precision::Float ? "float32" : "float64";
  py::dict scaling;
  scaling["kind"] = model.scaling.kind == Scaling::lecture ? "lecture" : "standardize";
  scaling["mean"] = model.scaling.mean;
  scaling["stddev"] = model.scaling.stddev;
  result["scaling"] = scaling;
  py::list layers;
  for (const LayerArrays& arrays : layer_arrays(a)) {
    py::array_t<double> weights(std::vector<py::ssize_t>(arrays.weight_shape.begin(), arrays.weight_shape.end()));
    py::array_t<double> bias(arrays.bias_count);
    const auto from = model.parameters.begin();
    std::copy(from + arrays.weight_offset, from + arrays.weight_offset + arrays.weight_count, weights.mutable_data());
    std::copy(from + arrays.bias_offset, from + arrays.bias_offset + arrays.bias_count, bias.mutable_data());
    py::dict layer;
    layer["kind"] = arrays.is_conv ? "conv" : "dense";
    layer["weights"] = weights;
    layer["bias"] = bias;
    layers.append(layer);
  }
  result["layers"] = layers;
  return result;
}

// The confusion matrix of class labels as `convlab train` and `convlab lecture` print it (common/metrics).
std::string confusion_matrix(const py::object& targets, const py::object& predicted, Index classes) {
  const auto t = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(targets);
  const auto p = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(predicted);
  if (!t || !p || t.size() != p.size() || t.size() == 0)
    throw py::value_error("T and Y: expected two arrays of class labels of one non-zero length");
  if (classes < 1 || classes > 256) throw py::value_error("classes must be 1..256");
  ConfusionMatrix matrix(classes);
  for (py::ssize_t i = 0; i < t.size(); ++i) {
    const long long truth = t.data()[i], guess = p.data()[i];
    if (truth < 0 || truth >= classes || guess < 0 || guess >= classes)
      throw py::value_error("label " + std::to_string(truth < 0 || truth >= classes ? truth : guess) + " at index " +
                            std::to_string(i) + " is not a class in 0.." + std::to_string(classes - 1));
    matrix.add(Index(truth), Index(guess));
  }
  return matrix.format();
}

}  // namespace

void add_classifier(py::module_& m) {
  // A model file that cannot be read or written is a bad value from the caller, as in the CLI's messages;
  // std::invalid_argument (bad shapes, architectures, names) already reaches Python as ValueError.
  py::register_exception<ModelFileError>(m, "ModelFileError", PyExc_ValueError);
  py::register_exception<OutputFileError>(m, "OutputFileError", PyExc_ValueError);
  m.def("confusion_matrix", &confusion_matrix, py::arg("T"), py::arg("Y"), py::arg("classes") = 10,
        "The lecture's confusion matrix (rows: true class; cells: percent of the row) as text, as the CLI prints it.");
  py::class_<Classifier>(m, "NeuralNetworkConvolutionalClassifier",
                         R"(The lecture's classifier: one convolution layer of nHiddens[0] tanh units over windowShape
windows, dense tanh layers of nHiddens[1:] units, a softmax over nOutputs classes; trained by full-batch
scaled conjugate gradient in float64. Unlike the lecture's code, windowStrides are honoured (the lecture
passed (4, 4) but its windows always slid by 1: pass (1, 1) to compute what it did).)")
      .def(py::init<Index, std::vector<Index>, Index, const py::sequence&, const py::sequence&, const py::sequence&,
                    std::string, std::uint64_t>(),
           py::arg("nInputs"), py::arg("nHiddens"), py::arg("nOutputs"), py::arg("inputShape") = py::make_tuple(28, 28),
           py::arg("windowShape") = py::make_tuple(5, 5), py::arg("windowStrides") = py::make_tuple(1, 1),
           py::arg("impl") = std::string(kDefaultConvImpl), py::arg("seed") = 1)
      .def("train", &Classifier::train, py::arg("X"), py::arg("T"), py::arg("nIterations") = 100,
           py::arg("verbose") = false, "Full-batch SCG from the current weights; X images, T class labels (N, 1).")
      .def("use", &Classifier::use, py::arg("X"), py::arg("allOutputs") = false,
           "Classes (N, 1); allOutputs=True: (classes, probabilities (N, K), [hidden outputs per layer]).")
      .def("getErrors", &Classifier::errors, "The error before training and after each SCG iteration.")
      .def_property_readonly("Vs", [](const Classifier& c) { return c.lecture_weights(true); },
                             "The hidden layers' weights as the lecture kept them: (1 + inputs, units), bias row first "
                             "(a copy: changing it does not change the network).")
      .def_property_readonly("W", [](const Classifier& c) { return c.lecture_weights(false).at(0); },
                             "The softmax layer's weights, (1 + inputs, classes), bias row first (a copy).")
      .def("save", &Classifier::save, py::arg("path"), "A convlab model file (also read by `convlab evaluate`).")
      .def_static("load", &Classifier::load, py::arg("path"), py::arg("impl") = std::string(kDefaultConvImpl))
      .def("__repr__", &Classifier::repr)
      .def("__str__", &Classifier::summary);
  m.def("load_model", &model_as_arrays, py::arg("path"),
        "A convlab model file as a dict: architecture, input_shape, classes, precision, scaling, and layers "
        "(each kind, weights, bias as numpy arrays; conv weights F x C x kh x kw, dense inputs x units).");
}

}  // namespace convlab::python
