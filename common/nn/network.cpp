// Network<T>: chunked forward and backward passes over the flat parameter vector.
#include "common/nn/network.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include <omp.h>

#include "common/nn/activations.hpp"
#include "common/kernels/gemm.hpp"
#include "common/machine/parallel_for.hpp"

namespace convlab {

namespace {

// y[row] += bias for each of the rows x units of y.
template <typename T>
void add_bias(T* y, const T* bias, Index rows, Index units) {
  for (Index row = 0; row < rows; ++row)
    for (Index u = 0; u < units; ++u) y[row * units + u] += bias[u];
}

// bias_grad = the sum of delta's rows (rows x units), in row order.
template <typename T>
void sum_rows(const T* delta, Index rows, Index units, T* bias_grad) {
  std::fill_n(bias_grad, units, T(0));
  for (Index row = 0; row < rows; ++row)
    for (Index u = 0; u < units; ++u) bias_grad[u] += delta[row * units + u];
}

}  // namespace

template <typename T>
Network<T>::Network(const Architecture& architecture, const ConvImplFactory& make_conv, std::uint64_t seed,
                    Index chunk_size)
    : architecture_(architecture), layers_(architecture.layers()), chunk_size_(chunk_size) {
  if (architecture.classes > 256) {
    throw std::invalid_argument("at most 256 classes are supported (labels are bytes), got " +
                                std::to_string(architecture.classes));
  }
  if (chunk_size < 1) throw std::invalid_argument("chunk size must be at least 1, got " + std::to_string(chunk_size));
  Index offset = 0;
  for (const LayerGeometry& layer : layers_) {
    ParameterBlock block;
    block.weights_offset = offset;
    block.weight_count = layer.weight_count;
    block.bias_offset = offset + layer.weight_count;
    block.bias_count = layer.bias_count;
    offset += layer.weight_count + layer.bias_count;
    layout_.push_back(block);
    if (layer.is_conv) {
      if (!make_conv) throw std::invalid_argument("the network has convolution layers but no ConvImpl factory");
      conv_impls_.push_back(make_conv());
      if (!conv_impls_.back()) throw std::invalid_argument("the ConvImpl factory returned no implementation");
    }
  }
  if (layers_.size() >= 2 && layers_[0].is_conv && !layers_[1].is_conv && layers_[0].units >= kFilterParts) {
    filter_parts_ = kFilterParts;
    for (Index p = 0; p < filter_parts_; ++p) {
      part_conv_impls_.push_back(make_conv());
      if (!part_conv_impls_.back()) throw std::invalid_argument("the ConvImpl factory returned no implementation");
    }
  }
  parameters_.resize(std::size_t(offset));
  activations_.resize(layers_.size());
  initialize(seed);
}

template <typename T>
void Network<T>::initialize(std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  // Our own mapping to [-1, 1) rather than std::uniform_real_distribution, whose output is
  // implementation-defined: a model trained here should start from the same weights anywhere.
  const auto uniform = [&] { return double(generator() >> 11) * 0x1p-52 - 1.0; };
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const double scale = 1.0 / std::sqrt(double(layers_[l].fan_in));
    const ParameterBlock& block = layout_[l];
    for (Index i = 0; i < block.weight_count + block.bias_count; ++i) {
      parameters_[std::size_t(block.weights_offset + i)] = T(uniform() * scale);
    }
  }
}

template <typename T>
ConvShape Network<T>::conv_shape(std::size_t layer, Index n) const {
  return conv_layer_shape(layers_[layer], architecture_.conv_layers[layer], n);
}

template <typename T>
void Network<T>::check_sizes(std::span<const T> weights, std::span<const T> inputs, Index count) const {
  if (Index(weights.size()) != parameter_count()) {
    throw std::invalid_argument("network: got " + std::to_string(weights.size()) + " weights, expected " +
                                std::to_string(parameter_count()));
  }
  if (Index(inputs.size()) != count * architecture_.input_size()) {
    throw std::invalid_argument("network: got " + std::to_string(inputs.size()) + " input values for " +
                                std::to_string(count) + " examples of " +
                                std::to_string(architecture_.input_size()));
  }
}

template <typename T>
void Network<T>::prepare_buffers(Index n) {
  // AlignedBuffer::resize only reallocates when growing, so steady-state calls touch no new pages.
  Index widest = architecture_.input_size();
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    activations_[l].resize(std::size_t(n * layers_[l].output_size()));
    widest = std::max(widest, layers_[l].output_size());
  }
  logits_.resize(std::size_t(n * architecture_.classes));
  delta_.resize(std::size_t(n * widest));
  delta_previous_.resize(std::size_t(n * widest));
  if (filter_parts_ > 0) part_products_.resize(std::size_t(filter_parts_ * n * layers_[1].units));
}

template <typename T>
Index Network<T>::feature_map_offset(Index part, Index i, Index n) const {
  const Index plane = map_plane();
  const Index first = part_first_filter(part), filters = part_first_filter(part + 1) - first;
  return (n * first + i * filters) * plane;
}

template <typename T>
int Network<T>::part_threads() const {
  return int(std::min<Index>(filter_parts_, available_threads()));
}

template <typename T>
void Network<T>::copy_layer_output(std::size_t l, Index n, T* out) const {
  const Index per_example = layers_[l].output_size();
  if (l != 0 || filter_parts_ == 0) {
    std::copy_n(activations_[l].data(), n * per_example, out);
    return;
  }
  const Index plane = map_plane();
  for (Index p = 0; p < filter_parts_; ++p) {
    const Index first = part_first_filter(p), filters = part_first_filter(p + 1) - first;
    for (Index i = 0; i < n; ++i) {
      std::copy_n(activations_[0].data() + feature_map_offset(p, i, n), filters * plane,
                  out + i * per_example + first * plane);
    }
  }
}

template <typename T>
const T* Network<T>::gather(std::span<const T> inputs, std::span<const Index> examples, Index first, Index n) {
  const Index size = architecture_.input_size();
  if (examples.empty()) return inputs.data() + first * size;
  gathered_inputs_.resize(std::size_t(n * size));
  // The examples sit at random places in the data set, each a DRAM and TLB miss: the next ones' lines are
  // asked for while one is copied, and with the parted layers each part's thread copies half of them.
  constexpr Index kAhead = 2;
  const Index line = 64 / Index(sizeof(T));
  const auto copy = [&](Index begin, Index end) {
    for (Index i = begin; i < end; ++i) {
      if (i + kAhead < end) {
        const T* next = inputs.data() + examples[std::size_t(first + i + kAhead)] * size;
        for (Index j = 0; j < size; j += line) __builtin_prefetch(next + j);
      }
      std::copy_n(inputs.data() + examples[std::size_t(first + i)] * size, size, gathered_inputs_.data() + i * size);
    }
  };
  const int threads = filter_parts_ > 0 && n >= 2 * kAhead ? part_threads() : 1;
  parallel_for(Index(threads), threads, Schedule::even, [&](Index half, Index) {
    copy(n * half / threads, n * (half + 1) / threads);
  });
  return gathered_inputs_.data();
}

template <typename T>
void Network<T>::activate(std::size_t l, Index n) {
  const LayerGeometry& g = layers_[l];
  OperationTimer elementwise(profile_);
  if (l + 1 == layers_.size()) {
    softmax_rows<T>(logits_.data(), activations_[l].data(), n, g.units);
    elementwise.done(StepOperation::softmax_loss, 0, 2.0 * double(n * g.units) * sizeof(T));
  } else {
    T* out = activations_[l].data();
    tanh_forward<T>(out, out, n * g.output_size());
    elementwise.done(StepOperation::activations, 0, 2.0 * double(n * g.output_size()) * sizeof(T));
  }
}

template <typename T>
void Network<T>::forward(std::span<const T> weights, const T* input, Index n) {
  std::size_t first_layer = 0;
  if (filter_parts_ > 0) {
    forward_parts(weights, input, n);
    first_layer = 2;
  }
  const T* layer_input = first_layer == 0 ? input : activations_[first_layer - 1].data();
  for (std::size_t l = first_layer; l < layers_.size(); ++l) {
    const LayerGeometry& g = layers_[l];
    const T* w = weights.data() + layout_[l].weights_offset;
    const T* b = weights.data() + layout_[l].bias_offset;
    T* out = l + 1 == layers_.size() ? logits_.data() : activations_[l].data();
    OperationTimer product(profile_);
    if (g.is_conv) {
      const ConvShape shape = conv_shape(l, n);
      conv_impls_[l]->forward(shape, layer_input, w, b, out);
      product.done(StepOperation::conv_forward, shape.forward_flops(), 0);
    } else {
      const Index inputs = g.in_channels, units = g.units;
      gemm<T>(Transpose::No, Transpose::No, n, units, inputs, T(1), layer_input, inputs, w, units, T(0), out, units);
      add_bias(out, b, n, units);
      product.done(StepOperation::dense_forward, 2.0 * double(n) * double(inputs) * double(units), 0);
    }
    activate(l, n);
    layer_input = activations_[l].data();
  }
}

template <typename T>
void Network<T>::forward_parts(std::span<const T> weights, const T* input, Index n) {
  const LayerGeometry& dense = layers_[1];
  const Index plane = map_plane();
  const Index filter_size = layers_[0].weight_count / layers_[0].units;
  const Index units = dense.units;
  const T* conv_weights = weights.data() + layout_[0].weights_offset;
  const T* conv_bias = weights.data() + layout_[0].bias_offset;
  const T* dense_weights = weights.data() + layout_[1].weights_offset;
  PartedProfile parted(profile_, filter_parts_);
  const auto region_start = parted.on() ? StepProfile::Clock::now() : StepProfile::Clock::time_point{};
  parallel_for(filter_parts_, part_threads(), Schedule::even, [&](Index p, Index) {
    const Index first = part_first_filter(p), filters = part_first_filter(p + 1) - first;
    ConvShape shape = conv_shape(0, n);
    shape.out_channels = filters;
    T* maps = activations_[0].data() + feature_map_offset(p, 0, n);
    auto start = parted.on() ? StepProfile::Clock::now() : StepProfile::Clock::time_point{};
    part_conv_impls_[std::size_t(p)]->forward(shape, input, conv_weights + first * filter_size, conv_bias + first,
                                              maps);
    parted.add(p, StepOperation::conv_forward, start, shape.forward_flops(), 0);
    if (parted.on()) start = StepProfile::Clock::now();
    tanh_forward<T>(maps, maps, n * filters * plane);
    parted.add(p, StepOperation::activations, start, 0, 2.0 * double(n * filters * plane) * sizeof(T));
    if (parted.on()) start = StepProfile::Clock::now();
    const Index rows = filters * plane;
    gemm<T>(Transpose::No, Transpose::No, n, units, rows, T(1), maps, rows, dense_weights + first * plane * units,
            units, T(0), part_products_.data() + p * n * units, units);
    parted.add(p, StepOperation::dense_forward, start, 2.0 * double(n) * double(rows) * double(units), 0);
  });
  parted.finish(region_start);
  // The parts' products summed in part order, then the bias: the same additions on any number of threads.
  OperationTimer summing(profile_);
  T* out = layers_.size() == 2 ? logits_.data() : activations_[1].data();
  const T* bias = weights.data() + layout_[1].bias_offset;
  std::copy_n(part_products_.data(), n * units, out);
  for (Index p = 1; p < filter_parts_; ++p) {
    const T* product = part_products_.data() + p * n * units;
    for (Index i = 0; i < n * units; ++i) out[i] += product[i];
  }
  add_bias(out, bias, n, units);
  summing.done(StepOperation::dense_forward, 0, 0);
  activate(1, n);
}

// delta at the output is (Y - T) * scale; each layer's weight gradient goes straight into `gradient`.
template <typename T>
void Network<T>::backward(std::span<const T> weights, const T* input, const std::uint8_t* labels, Index n, T scale,
                          T* gradient) {
  const Index classes = architecture_.classes;
  const T* probabilities = activations_.back().data();
  T* delta = delta_.data();
  OperationTimer output_delta(profile_);
  for (Index row = 0; row < n; ++row) {
    for (Index k = 0; k < classes; ++k) {
      const T target = labels[row] == k ? T(1) : T(0);
      delta[row * classes + k] = (probabilities[row * classes + k] - target) * scale;
    }
  }
  output_delta.done(StepOperation::softmax_loss, 0, 2.0 * double(n * classes) * sizeof(T) + double(n));
  const std::size_t last_layer = filter_parts_ > 0 ? 2 : 0;  // the parted layers 0 and 1 come after the loop
  for (std::size_t l = layers_.size(); l-- > last_layer;) {
    const LayerGeometry& g = layers_[l];
    const T* w = weights.data() + layout_[l].weights_offset;
    T* weight_grad = gradient + layout_[l].weights_offset;
    T* bias_grad = gradient + layout_[l].bias_offset;
    const T* layer_input = l == 0 ? input : activations_[l - 1].data();
    T* input_delta = delta_previous_.data();
    OperationTimer product(profile_);
    if (g.is_conv) {
      const ConvShape shape = conv_shape(l, n);
      conv_impls_[l]->backward_weights(shape, layer_input, delta, weight_grad, bias_grad);
      product.done(StepOperation::conv_weight_grad, shape.backward_weights_flops(), 0);
      if (l > 0) {
        OperationTimer input_gradient(profile_);
        conv_impls_[l]->backward_input(shape, delta, w, input_delta);
        input_gradient.done(StepOperation::conv_input_grad, shape.backward_input_flops(), 0);
      }
    } else {
      const Index inputs = g.in_channels, units = g.units;
      gemm<T>(Transpose::Yes, Transpose::No, inputs, units, n, T(1), layer_input, inputs, delta, units, T(0),
              weight_grad, units);
      sum_rows(delta, n, units, bias_grad);
      if (l > 0) {
        gemm<T>(Transpose::No, Transpose::Yes, n, inputs, units, T(1), delta, units, w, units, T(0), input_delta,
                inputs);
      }
      // the weight gradient's product, and the input gradient's except for a first layer
      product.done(StepOperation::dense_backward, (l > 0 ? 4.0 : 2.0) * double(n) * double(inputs) * double(units), 0);
    }
    if (l > 0) {
      // Every hidden layer is tanh: d pre-activation = d output * (1 - output^2).
      OperationTimer derivative(profile_);
      tanh_backward<T>(layer_input, input_delta, input_delta, n * g.input_size());
      derivative.done(StepOperation::activations, 0, 3.0 * double(n * g.input_size()) * sizeof(T));
      std::swap(delta_, delta_previous_);
      delta = delta_.data();
    }
  }
  if (filter_parts_ > 0) backward_parts(weights, input, n, gradient);
}

// delta_ holds layer 1's delta (n x units). Layer 1's bias gradient is summed first on the calling thread.
template <typename T>
void Network<T>::backward_parts(std::span<const T> weights, const T* input, Index n, T* gradient) {
  const Index plane = map_plane();
  const Index filter_size = layers_[0].weight_count / layers_[0].units;
  const Index units = layers_[1].units;
  const T* delta = delta_.data();
  const T* dense_weights = weights.data() + layout_[1].weights_offset;
  T* dense_weight_grad = gradient + layout_[1].weights_offset;
  OperationTimer bias_sums(profile_);
  sum_rows(delta, n, units, gradient + layout_[1].bias_offset);
  bias_sums.done(StepOperation::dense_backward, 0, 0);
  PartedProfile parted(profile_, filter_parts_);
  const auto region_start = parted.on() ? StepProfile::Clock::now() : StepProfile::Clock::time_point{};
  parallel_for(filter_parts_, part_threads(), Schedule::even, [&](Index p, Index) {
    const Index first = part_first_filter(p), filters = part_first_filter(p + 1) - first;
    const Index rows = filters * plane;
    const T* maps = activations_[0].data() + feature_map_offset(p, 0, n);
    T* maps_grad = delta_previous_.data() + feature_map_offset(p, 0, n);
    auto start = parted.on() ? StepProfile::Clock::now() : StepProfile::Clock::time_point{};
    gemm<T>(Transpose::Yes, Transpose::No, rows, units, n, T(1), maps, rows, delta, units, T(0),
            dense_weight_grad + first * plane * units, units);
    gemm<T>(Transpose::No, Transpose::Yes, n, rows, units, T(1), delta, units, dense_weights + first * plane * units,
            units, T(0), maps_grad, rows);
    parted.add(p, StepOperation::dense_backward, start, 4.0 * double(n) * double(rows) * double(units), 0);
    if (parted.on()) start = StepProfile::Clock::now();
    tanh_backward<T>(maps, maps_grad, maps_grad, n * rows);
    parted.add(p, StepOperation::activations, start, 0, 3.0 * double(n * rows) * sizeof(T));
    if (parted.on()) start = StepProfile::Clock::now();
    ConvShape shape = conv_shape(0, n);
    shape.out_channels = filters;
    part_conv_impls_[std::size_t(p)]->backward_weights(shape, input, maps_grad,
                                                       gradient + layout_[0].weights_offset + first * filter_size,
                                                       gradient + layout_[0].bias_offset + first);
    parted.add(p, StepOperation::conv_weight_grad, start, shape.backward_weights_flops(), 0);
  });
  parted.finish(region_start);
}

template <typename T>
double Network<T>::run(std::span<const T> weights, std::span<const T> inputs, std::span<const std::uint8_t> labels,
                       std::span<const Index> examples, Index count, T* gradient,
                       const std::function<void(Index, Index)>& on_chunk) {
  const Index classes = architecture_.classes;
  const Index total = examples.empty() ? count : Index(examples.size());
  for (Index example : examples) {
    if (example < 0 || example >= count) {
      throw std::invalid_argument("network: example index " + std::to_string(example) + " is outside 0.." +
                                  std::to_string(count - 1));
    }
  }
  if (gradient && total == 0) throw std::invalid_argument("network: no examples to compute a gradient over");
  const T scale = T(1.0 / (double(total) * double(classes)));
  double sum = 0;
  for (Index first = 0; first < total; first += chunk_size_) {
    const Index n = std::min(chunk_size_, total - first);
    prepare_buffers(n);
    OperationTimer gathering(profile_);
    const T* chunk_inputs = gather(inputs, examples, first, n);
    // a minibatch's images are copied together: each read once and written once
    gathering.done(StepOperation::data, 0,
                   examples.empty() ? 0.0 : double(n) * (2.0 * double(architecture_.input_size()) * sizeof(T) +
                                                         sizeof(Index)));
    forward(weights, chunk_inputs, n);
    const std::uint8_t* chunk_labels = nullptr;
    if (!labels.empty()) {
      OperationTimer label_gathering(profile_);
      if (examples.empty()) {
        chunk_labels = labels.data() + first;
      } else {
        gathered_labels_.resize(std::size_t(n));
        for (Index i = 0; i < n; ++i) gathered_labels_[std::size_t(i)] = labels[std::size_t(examples[std::size_t(first + i)])];
        chunk_labels = gathered_labels_.data();
      }
      for (Index row = 0; row < n; ++row) {
        if (chunk_labels[row] >= classes) {
          throw std::invalid_argument("network: label " + std::to_string(chunk_labels[row]) + " is not below the " +
                                      std::to_string(classes) + " classes");
        }
      }
      label_gathering.done(StepOperation::data, 0, examples.empty() ? double(n) : double(n) * (2.0 + sizeof(Index)));
      // -log Y[label] from the logits (log-sum-exp), exact even where Y underflows to zero.
      OperationTimer loss(profile_);
      for (Index row = 0; row < n; ++row) {
        const T* z = logits_.data() + row * classes;
        const T largest = *std::max_element(z, z + classes);
        double total_exp = 0;
        for (Index k = 0; k < classes; ++k) total_exp += std::exp(double(z[k] - largest));
        sum += double(largest) + std::log(total_exp) - double(z[chunk_labels[row]]);
      }
      loss.done(StepOperation::softmax_loss, 0, double(n * classes) * sizeof(T) + double(n));
    }
    if (on_chunk) on_chunk(first, n);
    if (gradient) {
      const bool first_chunk = first == 0;
      if (!first_chunk) chunk_gradient_.resize(std::size_t(parameter_count()));
      T* target = first_chunk ? gradient : chunk_gradient_.data();
      backward(weights, chunk_inputs, chunk_labels, n, scale, target);
      if (!first_chunk) {
        for (Index i = 0; i < parameter_count(); ++i) gradient[i] += target[i];
      }
    }
  }
  return sum;
}

template <typename T>
double Network<T>::error(std::span<const T> weights, std::span<const T> inputs, std::span<const std::uint8_t> labels) {
  const Index count = Index(labels.size());
  check_sizes(weights, inputs, count);
  if (count == 0) throw std::invalid_argument("network: no examples to compute an error over");
  return run(weights, inputs, labels, {}, count, nullptr, {}) / (double(count) * double(architecture_.classes));
}

template <typename T>
double Network<T>::error_and_gradient(std::span<const T> weights, std::span<const T> inputs,
                                      std::span<const std::uint8_t> labels, std::span<T> gradient) {
  return error_and_gradient(weights, inputs, labels, {}, gradient);
}

template <typename T>
double Network<T>::error_and_gradient(std::span<const T> weights, std::span<const T> inputs,
                                      std::span<const std::uint8_t> labels, std::span<const Index> examples,
                                      std::span<T> gradient) {
  const Index count = Index(labels.size());
  check_sizes(weights, inputs, count);
  if (Index(gradient.size()) != parameter_count()) {
    throw std::invalid_argument("network: gradient has " + std::to_string(gradient.size()) + " entries, expected " +
                                std::to_string(parameter_count()));
  }
  const Index total = examples.empty() ? count : Index(examples.size());
  const double sum = run(weights, inputs, labels, examples, count, gradient.data(), {});
  return sum / (double(total) * double(architecture_.classes));
}

template <typename T>
typename Network<T>::Outputs Network<T>::use(std::span<const T> inputs, bool want_probabilities, bool want_hidden) {
  const Index size = architecture_.input_size();
  if (Index(inputs.size()) % size != 0) {
    throw std::invalid_argument("network: " + std::to_string(inputs.size()) +
                                " input values are not a whole number of examples of " + std::to_string(size));
  }
  const Index count = Index(inputs.size()) / size;
  const Index classes = architecture_.classes;
  Outputs outputs;
  outputs.classes.resize(std::size_t(count));
  if (want_probabilities) outputs.probabilities.resize(std::size_t(count * classes));
  if (want_hidden) {
    for (std::size_t l = 0; l + 1 < layers_.size(); ++l) {
      outputs.hidden.emplace_back(std::size_t(count * layers_[l].output_size()));
    }
  }
  run(parameters_, inputs, {}, {}, count, nullptr, [&](Index first, Index n) {
    const T* probabilities = activations_.back().data();
    for (Index row = 0; row < n; ++row) {
      const T* p = probabilities + row * classes;
      outputs.classes[std::size_t(first + row)] = std::uint8_t(std::max_element(p, p + classes) - p);
    }
    if (want_probabilities) std::copy_n(probabilities, n * classes, outputs.probabilities.data() + first * classes);
    for (std::size_t l = 0; l < outputs.hidden.size(); ++l) {
      copy_layer_output(l, n, outputs.hidden[l].data() + first * layers_[l].output_size());
    }
  });
  return outputs;
}

template class Network<float>;
template class Network<double>;

}  // namespace convlab
