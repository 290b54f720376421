// How a ConvShape maps onto the channel-blocked kernels (blocked_kernels.hpp), one plan per pass.
//
//   forward          source = the input image, zero-padded into a scratch slot when the layer pads; pixels
//                    = every output pixel; taps = (in channel, window row, window column); vectors hold
//                    output channels.
//   backward_input   polyphase: input pixels whose (row + pad) mod stride and (column + pad) mod stride
//                    agree see the same window taps, and consecutive such pixels read consecutive
//                    output-gradient pixels. Each of the s*s phases is a stride-1 correlation over its own
//                    taps only: no multiplications by the zeros that dilating dy would insert. source =
//                    the output gradient with a zero border; vectors hold input channels.
//   backward_weights vectors hold output channels of the output gradient, copied channel-blocked; each
//                    tile sums V x T (vector, tap) products over the pixels of an image, image after
//                    image through a fixed batch chunk; the chunks are added in order at the end.
//
// Every pass prepares images (padding, blocking) into slots and cuts its work into units that never depend
// on each other. With threads, a batch big enough to share evenly goes image by image (a thread prepares an
// image into its own slot and runs all of that image's units while the slot is in cache); a small one shares
// the units out, each thread preparing the images and packing the weights its units read into copies of its
// own (data written by one core and read by the other costs more here than a second copy). Each output (each
// partial sum of the weight gradient) is computed by the same code in the same order either way: the same
// bits from 1 thread or many.
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_shape.hpp"
#include "common/conv/conv_pass.hpp"
#include "impls/simd/blocked_kernels.hpp"

namespace convlab::simd {

// Channels cut into groups of up to max_vectors vectors of `lanes` channels (the last group may be narrower).
struct ChannelGroups {
  Index channels = 0, lanes = 1, vectors = 0, max_vectors = 1;
  ChannelGroups(Index channels, Index lanes, int max_vectors);
  Index count() const { return (vectors + max_vectors - 1) / max_vectors; }
  Index first_vector(Index group) const { return group * max_vectors; }
  Index group_vectors(Index group) const { return std::min(max_vectors, vectors - first_vector(group)); }
  Index first_channel(Index group) const { return first_vector(group) * lanes; }
  Index group_channels(Index group) const { return std::min(group_vectors(group) * lanes, channels - first_channel(group)); }
  Index padded_channels() const { return vectors * lanes; }
};

// How the forward pass and the weight gradient read an input image: in place, or (when the layer pads) copied
// into a slot with a zero border. (Gathering non-overlapping windows, 1x1 stride 2, into one run per pixel was
// tried and measured slower: in place, a tile's taps read one line per channel, but the copy cost more than
// those lines; so was copying unpadded images of a batch into a slot that stays in L2.)
class InputWindows {
 public:
  explicit InputWindows(const ConvShape& shape);
  const Index* pixel_source() const { return pixel_source_.data(); }  // per output pixel
  const std::vector<Index>& tap_offsets() const { return tap_offsets_; }  // (in channel, window row, column)
  Index slot_elements() const;  // 0: read in place
  template <typename T>
  const T* prepare(const T* input, Index n, T* slot) const;  // image n as the tiles read it

 private:
  ConvShape shape_;
  bool padded_ = false;
  Index padded_height_ = 0, padded_width_ = 0;
  std::vector<Index> pixel_source_, tap_offsets_;
};

// How a pass's (image, unit) pairs are walked (run_images), decided once per plan so that the order of the
// units within an image can suit it:
//   image_by_image  a thread takes an image and runs all of its units (a batch that shares evenly);
//   shared_units    the units of each image shared out, each thread its own share first (a small batch);
//   weights_first   each thread a contiguous run of units, each unit over every image (megabytes of weights
//                   over small images: the weights, not the images, should stay in cache).
enum class RunOrder { image_by_image, shared_units, weights_first };

class BlockedForward {
 public:
  // row_tile_pixels: the kernels' row tiles (BlockedKernels::row_tile_pixels, up to row_tile_max_vectors
  // vectors), taken where they do less work (row_tiles()); 0: the ordinary tiles only.
  BlockedForward(const ConvShape& shape, const Index* pixels_per_tile, Index lanes, int max_vectors, int threads,
                 Index element_bytes, Index row_tile_pixels = 0, int row_tile_max_vectors = 0);
  bool row_tiles() const { return row_tiles_; }
  RunOrder order() const { return order_; }
  Index units_per_image() const { return groups_.count() * bands_; }
  Index slot_elements() const;  // 0 when the input is read in place
  Index image_elements() const { return shape_.in_channels * shape_.in_height * shape_.in_width; }
  // The packed weights and bias come in pieces (channel groups), each unit reading one.
  Index packed_elements() const { return groups_.padded_channels() * (Index(windows_.tap_offsets().size()) + 1); }
  Index pieces() const { return groups_.count(); }
  Index unit_piece(Index unit) const { return band_major_ ? unit % groups_.count() : unit / bands_; }
  template <typename T>
  void pack_piece(const BlockedKernels<T>& kernels, const T* weights, const T* bias, Index piece, T* packed) const;
  template <typename T>
  const T* prepare_image(const T* input, Index n, T* slot) const;  // InputWindows::prepare
  Index sums_elements() const { return blocks_ ? band_pixels_ * groups_.max_vectors * groups_.lanes : 0; }  // per thread
  template <typename T>
  void run(const BlockedKernels<T>& kernels, const T* source, const T* packed, bool with_bias, T* output, Index n,
           Index unit, T* sums) const;

 private:
  ConvShape shape_;
  bool row_tiles_ = false;  // before groups_, whose widest group it decides
  ChannelGroups groups_;
  InputWindows windows_;
  Index band_of(Index unit) const { return band_major_ ? unit / groups_.count() : unit % bands_; }
  RunOrder order_ = RunOrder::image_by_image;
  Index pixels_ = 0, bands_ = 1, band_pixels_ = 0;
  bool blocks_ = false, band_major_ = false;
  std::vector<Index> pixel_dest_;
  std::vector<Index> pixel_row_begin_, pixel_row_end_;  // window rows inside the image (padded layers only)
  std::vector<Index> pixel_column_begin_, pixel_column_end_;  // window columns inside (layers padding columns)
};

class BlockedBackwardInput {
 public:
  BlockedBackwardInput(const ConvShape& shape, const Index* pixels_per_tile, Index lanes, int max_vectors,
                       int threads, Index element_bytes);
  RunOrder order() const { return order_; }
  Index units_per_image() const { return Index(units_.size()); }
  // 0 when the output gradient needs no zero border (a 1x1 window): read in place, not copied.
  Index slot_elements() const { return in_place_ ? 0 : shape_.out_channels * grad_height_ * grad_width_; }
  Index image_elements() const { return shape_.out_channels * grad_height_ * grad_width_; }
  Index packed_elements() const { return packed_begin_.back(); }
  Index pieces() const { return shape_.stride_height * shape_.stride_width * groups_.count(); }  // (phase, group)
  Index unit_piece(Index unit) const {
    const Unit& u = units_[std::size_t(unit)];
    return u.phase * groups_.count() + u.group;
  }
  template <typename T>
  void pack_piece(const BlockedKernels<T>& kernels, const T* weights, Index piece, T* packed) const;
  // Zeroes part `part` of `parts` of image n of input_grad when some stride phase has no taps (before any of
  // the image's units run: they write only the pixels taps reach).
  bool clears() const { return has_empty_phase_; }
  template <typename T>
  void clear_image(T* input_grad, Index n, Index part, Index parts) const;
  template <typename T>
  const T* prepare_image(const T* output_grad, Index n, T* slot) const;
  Index sums_elements() const { return blocks_ ? max_band_pixels_ * groups_.max_vectors * groups_.lanes : 0; }  // per thread
  template <typename T>
  void run(const BlockedKernels<T>& kernels, const T* source, const T* packed, T* input_grad, Index n,
           Index unit, T* sums) const;

 private:
  struct Unit {
    Index phase, group, begin, end;  // pixels [begin, end) of the phases' concatenated pixel list
  };
  ConvShape shape_;
  ChannelGroups groups_;
  RunOrder order_ = RunOrder::image_by_image;
  Index grad_height_ = 0, grad_width_ = 0, top_ = 0, left_ = 0, max_band_pixels_ = 0;
  bool blocks_ = false, has_empty_phase_ = false, in_place_ = false;
  std::vector<Index> phase_tap_begin_, packed_begin_;  // per phase, plus an end entry
  std::vector<Index> pixel_source_, pixel_dest_, tap_offsets_;
  // Per pixel of the concatenated list, its phase's window rows and columns whose output-gradient pixel lies
  // inside (the rest read the zero border); empty where the output gradient is read in place. Per phase, where
  // its pixels start in the list and how many make one row.
  std::vector<Index> pixel_row_begin_, pixel_row_end_, pixel_column_begin_, pixel_column_end_;
  std::vector<Index> phase_pixel_begin_, phase_row_pixels_;
  std::vector<Unit> units_;
};

class BlockedBackwardWeights {
 public:
  BlockedBackwardWeights(const ConvShape& shape, const Index* taps_per_tile, Index lanes, int max_vectors,
                         int threads, Index element_bytes);
  Index chunks() const { return chunks_; }
  bool prefetches_source() const { return prefetch_source_; }  // WeightTileJob::prefetch_source
  Index chunk_begin(Index chunk) const { return shape_.batch * chunk / chunks_; }
  Index units_per_chunk() const { return groups_.count() * tap_bands_; }
  Index slot_elements() const;  // the padded input (when padding) and the channel-blocked output gradient
  Index partial_elements() const { return chunks_ * chunk_elements(); }
  // One chunk (a batch of one, or sums too large to copy per chunk) on several threads, or on one thread once
  // the sums outgrow L2: each unit unpacks its sums into the weight gradient as the chunk's last image makes
  // them final, from its own core's L1, instead of finish() reading them all back afterwards (half of them from
  // the other core's cache on two threads, from memory on one).
  bool unpacks_by_unit() const { return unpack_by_unit_; }
  template <typename T>
  void prepare_image(const BlockedKernels<T>& kernels, const T* input, const T* output_grad, Index n, T* slot) const;
  // Adds image n's products to `unit`'s partial sums of `chunk` (the chunk's first image starts them); under
  // unpacks_by_unit() the chunk's last image also writes the unit's part of weight_grad.
  template <typename T>
  void run(const BlockedKernels<T>& kernels, const T* input, const T* slot, Index n, Index chunk, Index unit,
           T* partials, T* weight_grad) const;
  // The chunks' sums (weights and bias) added in chunk order.
  template <typename T>
  void finish(const BlockedKernels<T>& kernels, T* partials, T* weight_grad, T* bias_grad, int threads) const;

 private:
  Index chunk_elements() const { return groups_.padded_channels() * (taps_ + 1); }
  Index bias_offset() const { return groups_.padded_channels() * taps_; }  // within a chunk's sums

  ConvShape shape_;
  ChannelGroups groups_;
  InputWindows windows_;
  Index pixels_ = 0, taps_ = 0, chunks_ = 1, tap_bands_ = 1,
        band_taps_ = 0;
  bool prefetch_source_ = false;  // WeightTileJob::prefetch_source
  bool unpack_by_unit_ = false;
  bool stream_unpack_ = false;  // unpacked with non-temporal stores (a weight gradient beyond L2)
};

// A pass's plan, kept between calls for as long as the shape and thread count stay: building one allocates
// its pixel and tap lists (a wide layer's are 100 KiB), and fresh pages cost a fault each on first touch.
template <typename Plan>
class CachedPlan {
 public:
  template <typename T>
  const Plan& get(const ConvShape& shape, const BlockedKernels<T>& kernels, int threads);

 private:
  std::optional<Plan> plan_;
  ConvShape shape_{};
  const void* kernels_ = nullptr;
  int threads_ = 0;
};

// Scratch one implementation object keeps between calls (grows, never shrinks).
template <typename T>
struct BlockedScratch {
  AlignedBuffer<T> packed;    // weights (and bias) in the kernels' order: one copy, or one per thread
  AlignedBuffer<T> slots;     // prepared images: one per thread, or one per thread and image
  AlignedBuffer<T> partials;  // weight gradient: one set of sums per batch chunk
  AlignedBuffer<T> sums;      // per thread: a band's sums between tap blocks (TileJob::partial_sums)
  AlignedBuffer<T> held;      // the forward pass's weights packed once (blocked_hold_forward_weights)
  bool held_packed = false;   // whether `held` holds the weights forward_held runs with
  AlignedBuffer<T> held_input;    // the input gradient's weights packed once (blocked_hold_input_weights)
  bool held_input_packed = false;
  CachedPlan<BlockedForward> forward;
  CachedPlan<BlockedBackwardInput> backward_input;
  CachedPlan<BlockedBackwardWeights> backward_weights;
};

// Whole passes on `threads` OpenMP threads (1: in order, impls/simd). Any thread count gives the same bits.
// `prepacked`: the weights as blocked_hold_forward_weights packed them (then `weights` is not read and `bias`
// only says whether there is one); null: packed in this call.
template <typename T>
void blocked_forward(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* input, const T* weights,
                     const T* bias, T* output, BlockedScratch<T>& scratch, int threads, const T* prepacked = nullptr);
// Packs a layer's forward weights (and bias, or zeros) into scratch.held, once for many forward calls
// (ConvImpl::hold_weights). The packed layout depends on the layer alone, not on the batch or thread count.
template <typename T>
void blocked_hold_forward_weights(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* weights,
                                  const T* bias, BlockedScratch<T>& scratch, int threads);
template <typename T>
void blocked_backward_input(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* output_grad,
                            const T* weights, T* input_grad, BlockedScratch<T>& scratch, int threads,
                            const T* prepacked = nullptr);
// The same for the input gradient's weights, into scratch.held_input.
template <typename T>
void blocked_hold_input_weights(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* weights,
                                BlockedScratch<T>& scratch, int threads);
template <typename T>
void blocked_backward_weights(const BlockedKernels<T>& kernels, const ConvShape& shape, const T* input,
                              const T* output_grad, T* weight_grad, T* bias_grad, BlockedScratch<T>& scratch,
                              int threads);
// Bytes of scratch the largest of the three passes needs for `shape`.
std::size_t blocked_workspace_bytes(const ConvShape& shape, const BlockedTable& table, std::size_t element_size,
                                    int threads);

// Which kernel family a pass of `shape` runs: the channel-blocked one, or the column-vector planes of
// simd_kernels.hpp, by a cost model of their lane use (blocked_plan.cpp). CONVLAB_SIMD_KERNELS=blocked|planes
// (or force_kernel_family, for tests and the benchmark ladder) overrides it.
enum class KernelFamily { planes, blocked };

KernelFamily choose_kernel_family(const ConvShape& shape, ConvPass pass, Index lanes);
inline constexpr const char* kKernelFamilyEnvVar = "CONVLAB_SIMD_KERNELS";
void force_kernel_family(std::optional<KernelFamily> family);

}  // namespace convlab::simd
