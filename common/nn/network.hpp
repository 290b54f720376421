// The classifier: convolution + tanh layers, dense tanh layers, a softmax output, trained on the mean
// negative log-likelihood over all N*K target entries, -sum(T * log Y) / (N * K), as the course code did.
//
// Performance decisions (why the code looks the way it does):
// - All parameters live in ONE flat vector (optimisers work on it); gradients use the same layout.
//   Per layer, in order: weights then biases. Conv weights are F x C x kh x kw (conv_impl.hpp's layout);
//   dense weights are inputs x units, row-major, so a layer is Y = X W + b with one gemm.
// - Every compute call takes the weights as an argument, so an optimiser's trial points need no copy.
// - Examples are processed in chunks (default 1000): activation and gradient buffers are sized for one
//   chunk, allocated the first time a chunk that large is seen and reused afterwards. The gradient over
//   many chunks is summed chunk by chunk in a fixed order, so results are deterministic.
// - The first layer's input gradient is never computed (nothing needs it).
// - When the first layer is a convolution and a dense layer follows it (the lecture's network), those two
//   layers run as kFilterParts parts, one thread each: part p owns a range of the convolution's filters
//   and the dense weight rows that read their feature maps. Each part computes its feature maps, their
//   tanh and its share of the dense product (the parts' products are then summed in part order), and
//   backwards its rows of the dense weight gradient, its feature maps' gradient and its filters' weight
//   gradient. Its weights, feature maps and gradients never leave its core, and the step forks twice
//   instead of once per operation. The part count is fixed, not the thread count, so any number of
//   threads computes the same bits; a part's feature maps are stored together (see feature_map_offset).
// Convolutions are computed by injected ConvImpl objects (one per conv layer), made by a factory, since
// common/ cannot see the registry; the CLI passes [name] { return make_conv_impl(name); }.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/nn/architecture.hpp"
#include "common/conv/conv_impl.hpp"
#include "common/nn/step_profile.hpp"

namespace convlab {

using ConvImplFactory = std::function<std::unique_ptr<ConvImpl>()>;

inline constexpr Index kDefaultChunkSize = 1000;
// The filter parts of a parted first convolution and dense layer (see above): the 2 cores of the machines
// this suite is measured on. Changing it changes the summation order of the dense forward product.
inline constexpr Index kFilterParts = 2;

// Where one layer's parameters sit in the flat vector.
struct ParameterBlock {
  Index weights_offset = 0, weight_count = 0;
  Index bias_offset = 0, bias_count = 0;
};

template <typename T>
class Network {
 public:
  // Initialises the parameters from `seed` (see initialize). Throws ArchitectureError on a bad
  // architecture and std::invalid_argument for more than 256 classes (labels are bytes) or a chunk < 1.
  Network(const Architecture& architecture, const ConvImplFactory& make_conv, std::uint64_t seed = 1,
          Index chunk_size = kDefaultChunkSize);

  const Architecture& architecture() const { return architecture_; }
  // Every layer including the softmax output layer (last).
  const std::vector<LayerGeometry>& layers() const { return layers_; }
  const std::vector<ParameterBlock>& parameter_layout() const { return layout_; }
  Index parameter_count() const { return Index(parameters_.size()); }
  Index chunk_size() const { return chunk_size_; }

  std::span<T> parameters() { return parameters_; }
  std::span<const T> parameters() const { return parameters_; }

  // Every weight and bias uniform(-1, 1) / sqrt(fan-in), fan-in = weights feeding one unit, as the
  // course code did; drawn from a 64-bit Mersenne twister in layout order (same seed, same parameters).
  void initialize(std::uint64_t seed);

  // The mean negative log-likelihood of `labels` given `inputs` (count x C x H x W, count = labels.size())
  // at `weights` (any vector of parameter_count(), e.g. an optimiser's trial point).
  double error(std::span<const T> weights, std::span<const T> inputs, std::span<const std::uint8_t> labels);
  // Same, and d error / d weights written to `gradient` (parameter_count() entries).
  double error_and_gradient(std::span<const T> weights, std::span<const T> inputs,
                            std::span<const std::uint8_t> labels, std::span<T> gradient);
  // Same over the subset `examples` (indices into inputs/labels): the mean is over the subset.
  double error_and_gradient(std::span<const T> weights, std::span<const T> inputs,
                            std::span<const std::uint8_t> labels, std::span<const Index> examples,
                            std::span<T> gradient);

  struct Outputs {
    std::vector<std::uint8_t> classes;      // count: the most probable class of each example
    std::vector<T> probabilities;           // count x classes, when asked for
    std::vector<std::vector<T>> hidden;     // when asked for: per hidden layer (conv feature maps
                                            // count x F x oh x ow, dense count x units), after tanh
  };
  // Runs the network with its own parameters.
  Outputs use(std::span<const T> inputs, bool want_probabilities = false, bool want_hidden = false);
  std::vector<std::uint8_t> classify(std::span<const T> inputs) { return use(inputs).classes; }

  // While non-null, every pass adds its operations' times, FLOPs and bytes to `profile`
  // (common/nn/step_profile.hpp); the results are the same, bit for bit. train_minibatch attaches one
  // around each step's gradient when MinibatchOptions::profile is set.
  void set_profile(StepProfile* profile) { profile_ = profile; }

 private:
  // One pass over `count` examples in chunks: either inputs [0, count) or the listed `examples`.
  // Returns the summed -log Y[label] over examples (not yet divided); with gradient non-null, writes the
  // gradient of (that sum / (normaliser * classes)). `on_chunk`, when set, sees each chunk's outputs.
  double run(std::span<const T> weights, std::span<const T> inputs, std::span<const std::uint8_t> labels,
             std::span<const Index> examples, Index count, T* gradient,
             const std::function<void(Index first, Index n)>& on_chunk);
  void prepare_buffers(Index n);
  const T* gather(std::span<const T> inputs, std::span<const Index> examples, Index first, Index n);
  void forward(std::span<const T> weights, const T* input, Index n);
  void backward(std::span<const T> weights, const T* input, const std::uint8_t* labels, Index n, T scale,
                T* gradient);
  // Softmax (output layer) or tanh of layer l's pre-activations, for n examples.
  void activate(std::size_t l, Index n);
  // The parted first two layers (filter_parts_ > 0): forward through layer 1's activation, and backward
  // from layer 1's delta (in delta_) to both layers' weight gradients.
  void forward_parts(std::span<const T> weights, const T* input, Index n);
  void backward_parts(std::span<const T> weights, const T* input, Index n, T* gradient);
  Index part_first_filter(Index part) const { return layers_[0].units * part / filter_parts_; }
  Index map_plane() const { return layers_[0].out_height * layers_[0].out_width; }  // one feature map's size
  // Where example i's maps of filters [part_first_filter(p), ...) start in activations_[0]: each part's
  // maps of all n examples lie together (part-major), so a part reads and writes one contiguous block.
  Index feature_map_offset(Index part, Index i, Index n) const;
  int part_threads() const;
  // Copies layer l's outputs for n examples into `out` in the usual example-major order.
  void copy_layer_output(std::size_t l, Index n, T* out) const;
  ConvShape conv_shape(std::size_t layer, Index n) const;
  void check_sizes(std::span<const T> weights, std::span<const T> inputs, Index count) const;

  Architecture architecture_;
  std::vector<LayerGeometry> layers_;
  std::vector<ParameterBlock> layout_;
  std::vector<std::unique_ptr<ConvImpl>> conv_impls_;
  Index filter_parts_ = 0;                                  // 0: the first two layers are not parted
  std::vector<std::unique_ptr<ConvImpl>> part_conv_impls_;  // one per part: their workspaces are per call
  Index chunk_size_;
  std::vector<T> parameters_;
  StepProfile* profile_ = nullptr;

  // Work buffers, sized for the largest chunk seen so far and reused.
  std::vector<AlignedBuffer<T>> activations_;  // per layer: its output (tanh applied; last: softmax)
  AlignedBuffer<T> logits_;                    // chunk x classes, before the softmax
  AlignedBuffer<T> delta_, delta_previous_;    // ping-pong: d error / d layer pre-activation
  AlignedBuffer<T> gathered_inputs_;           // a minibatch's examples, copied together
  std::vector<std::uint8_t> gathered_labels_;
  AlignedBuffer<T> chunk_gradient_;            // a later chunk's gradient, before it is summed in
  AlignedBuffer<T> part_products_;             // parts x chunk x layer-1 units: each part's dense product
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace convlab
