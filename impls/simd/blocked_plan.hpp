// How a ConvShape maps onto the channel-blocked kernels (blocked_kernels.hpp), one plan per pass. Each
// plan splits its call into independent work units; impls/simd runs them in order, impls/openmp over
// threads. A unit's results never depend on which other units exist, so both give the same bits.
//
//   forward          source = the zero-padded input (read in place when there is no padding); pixels =
//                    every output pixel; taps = (in channel, window row, window column); vectors hold
//                    output channels; units = image x channel group x pixel band.
//   backward_input   polyphase: input pixels whose (row + pad) mod stride and (column + pad) mod stride
//                    agree see the same window taps, and consecutive such pixels read consecutive
//                    output-gradient pixels. Each of the s*s phases is a stride-1 correlation over only
//                    its own taps: no multiplications by the zeros that dilating dy would insert.
//                    source = the output gradient with a zero border; vectors hold input channels.
//   backward_weights vectors hold output channels of the output gradient, copied channel-blocked;
//                    each tile sums V x T (vector, tap) products over every pixel of every image of a
//                    fixed batch chunk; chunks are added in order at the end.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "common/aligned_buffer.hpp"
#include "common/conv_shape.hpp"
#include "impls/simd/blocked_kernels.hpp"

namespace convlab::simd {

// Channels cut into groups of up to max_vectors vectors of `lanes` channels (the last group may be narrower).
struct ChannelGroups {
  Index channels = 0, lanes = 1, vectors = 0, max_vectors = 1;
  ChannelGroups() = default;
  ChannelGroups(Index channels, Index lanes, int max_vectors);
  Index count() const { return (vectors + max_vectors - 1) / max_vectors; }
  Index first_vector(Index group) const { return group * max_vectors; }
  Index group_vectors(Index group) const { return std::min(max_vectors, vectors - first_vector(group)); }
  Index first_channel(Index group) const { return first_vector(group) * lanes; }
  Index group_channels(Index group) const { return std::min(group_vectors(group) * lanes, channels - first_channel(group)); }
  Index padded_channels() const { return vectors * lanes; }
};

// Scratch one implementation object keeps between calls (grows, never shrinks): shared by all threads.
template <typename T>
struct BlockedScratch {
  AlignedBuffer<T> packed;        // weights (and bias) in the kernels' order
  AlignedBuffer<T> source;        // the batch's zero-padded input or output gradient
  AlignedBuffer<T> blocked_grad;  // the output gradient, channel-blocked (weight gradient)
  AlignedBuffer<T> partials;      // weight gradient: one set of sums per batch chunk
};

// A pass's work: `units` independent pieces. threads only changes how finely the work is cut.
class BlockedForward {
 public:
  BlockedForward(const ConvShape& shape, Index lanes, const Index* pixels_per_tile, int max_vectors, int threads);
  Index units_per_image() const { return groups_.count() * bands_; }
  std::size_t workspace_elements() const;
  // Step 1 (serial): packs weights and bias, sizes the scratch. Then, per image, pads it (when padding).
  template <typename T>
  void pack(const T* weights, const T* bias, BlockedScratch<T>& scratch) const;
  bool pads() const { return pads_; }
  template <typename T>
  void pad_image(const T* input, Index n, BlockedScratch<T>& scratch) const;
  // Step 2: one unit.
  template <typename T>
  void run(const BlockedKernels<T>& kernels, const T* input, bool with_bias, T* output, Index unit,
           const BlockedScratch<T>& scratch) const;

 private:
  ConvShape shape_;
  ChannelGroups groups_;
  Index padded_height_ = 0, padded_width_ = 0, pixels_ = 0, bands_ = 1, band_pixels_ = 0;
  bool pads_ = false;
  std::vector<Index> pixel_source_, pixel_dest_, tap_offsets_;
};

class BlockedBackwardInput {
 public:
  BlockedBackwardInput(const ConvShape& shape, Index lanes, const Index* pixels_per_tile, int max_vectors,
                       int threads);
  Index units_per_image() const { return Index(phase_units_.size()); }
  std::size_t workspace_elements() const;
  template <typename T>
  void pack(const T* weights, BlockedScratch<T>& scratch) const;
  template <typename T>
  void pad_image(const T* output_grad, Index n, BlockedScratch<T>& scratch) const;
  template <typename T>
  void run(const BlockedKernels<T>& kernels, T* input_grad, Index unit, const BlockedScratch<T>& scratch) const;

 private:
  struct PhaseUnit {
    Index phase, group, begin, end;  // pixels [begin, end) of the concatenated list
  };
  ConvShape shape_;
  ChannelGroups groups_;
  Index grad_height_ = 0, grad_width_ = 0, top_ = 0, left_ = 0;
  std::vector<Index> phase_pixel_begin_, phase_tap_begin_, packed_begin_;  // per phase (+1 end entry)
  std::vector<Index> pixel_source_, pixel_dest_, tap_offsets_;
  std::vector<PhaseUnit> phase_units_;
};

class BlockedBackwardWeights {
 public:
  BlockedBackwardWeights(const ConvShape& shape, Index lanes, const Index* taps_per_tile, int max_vectors,
                         int threads);
  Index chunks() const { return chunks_; }
  Index units() const { return chunks_ * groups_.count() * tap_bands_; }
  std::size_t workspace_elements() const;
  // Step 1 (serial): sizes the scratch. Then, per image: pads its input, copies its output gradient
  // channel-blocked.
  template <typename T>
  void size_scratch(BlockedScratch<T>& scratch) const;
  template <typename T>
  void prepare_image(const T* input, const T* output_grad, Index n, BlockedScratch<T>& scratch) const;
  // Step 2, per unit (a chunk's tap band of one channel group, summed over the chunk's images).
  template <typename T>
  void run(const BlockedKernels<T>& kernels, const T* input, Index unit, BlockedScratch<T>& scratch) const;
  // Step 3 (serial): the chunks' sums (weights and bias) added in chunk order.
  template <typename T>
  void finish(T* weight_grad, T* bias_grad, BlockedScratch<T>& scratch) const;

 private:
  Index chunk_begin(Index chunk) const { return shape_.batch * chunk / chunks_; }
  ConvShape shape_;
  ChannelGroups groups_;
  Index padded_height_ = 0, padded_width_ = 0, pixels_ = 0, taps_ = 0, chunks_ = 1, tap_bands_ = 1,
        band_taps_ = 0;
  bool pads_ = false;
  std::vector<Index> pixel_source_, tap_offsets_;
};

// Whole passes: `threads` > 1 runs the units over that many OpenMP threads, 1 runs them in order
// (impls/simd). Both give the same bits.
template <typename T>
void blocked_forward(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* input, const T* weights,
                     const T* bias, T* output, BlockedScratch<T>& scratch, int threads);
template <typename T>
void blocked_backward_input(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* output_grad,
                            const T* weights, T* input_grad, BlockedScratch<T>& scratch, int threads);
template <typename T>
void blocked_backward_weights(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* input,
                              const T* output_grad, T* weight_grad, T* bias_grad, BlockedScratch<T>& scratch,
                              int threads);
// Bytes of scratch the three passes need for `shape`.
std::size_t blocked_workspace_bytes(const ConvShape& shape, const BlockedTable& table, std::size_t element_size,
                                    int threads);

// Which kernel family a pass of `shape` runs: the channel-blocked one, or the column-vector planes of
// simd_kernels.hpp. CONVLAB_SIMD_KERNELS=blocked|planes|auto (or force_kernel_family) overrides the rule.
enum class KernelFamily { planes, blocked };
enum class ConvPass { forward, backward_input, backward_weights };
KernelFamily choose_kernel_family(const ConvShape& shape, ConvPass pass, Index lanes);
inline constexpr const char* kKernelFamilyEnvVar = "CONVLAB_SIMD_KERNELS";
void force_kernel_family(std::optional<KernelFamily> family);  // for tests and the benchmark ladder

}  // namespace convlab::simd
