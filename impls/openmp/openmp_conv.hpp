// openmp: "OpenMP-tiled" - impls/simd's kernels run by all cores over cache-sized tiles.
//
// The channel-blocked family (impls/simd/blocked_plan.hpp) cuts each pass into independent units itself:
// with a batch that shares evenly a thread takes whole images (prepares one into a slot of its own and runs
// all of its units while the slot is in cache); a small batch prepares every image first and shares the
// units (channel groups x pixel bands, or x tap bands for the weight gradient). The description below is
// the planes family's tiling.
//
// Forward and input gradient: the work is cut into tiles of (images) x (output channels) x (output rows),
// and threads take them by Schedule::shares: each its own contiguous share first, the same tiles every call
// (their output lines are still in that core's cache, where a tile last written by the other core must first
// be fetched from it), then what is left of the other's (the machine is shared: a static split would leave a
// core idle behind a preempted one). Inside a tile, each image's planes are prepared once and
// the simd kernel computes the tile's channels and rows (impls/simd/simd_kernels.hpp; no kernel code
// here). Tile sizes, for this kind of machine (2 cores, L2 1 MiB per core, L3 32 MiB shared; L1d 48 KiB
// on the Zen 5 they were chosen on, 32 KiB on the Zen 4 also seen):
//   - channels: as many as keep the tile's weights within 16 KiB (a third of L1d, half on Zen 4), so the broadcast
//     weights stay in L1 next to the input rows the kernel is streaming through;
//   - rows: as many as keep the input band they read (all channels and phases) within 256 KiB, a
//     quarter of L2, so a planes band is still in L2 when the next channel tile re-reads it;
//   - images: enough that a tile is ~4 MFLOP (a few tens of microseconds: scheduling costs well under
//     1%), but never so many that there are fewer than 4 tiles per thread (load balance); the batch is
//     then cut into a multiple of the thread count of image tiles as even as possible (64 images in 7s
//     would leave one thread 35 and the other 29, where 10 tiles of 6 or 7 leave 32 each);
//   - a batch too small for that (batch 1 above all) has its rows cut finer instead, into up to 4 tiles per
//     thread of at least 0.5 MFLOP each: a one-channel 48 x 480 image fits one band, and as one tile it
//     kept the second core idle. Each extra row tile prepares its rows' window halo again.
// The lecture's first layer (1 -> 20 channels, 5x5, 28x28) has 2 KB of weights and a 3 KB image, so a
// tile is at most 7 whole images with all 20 channels and all 24 rows.
// With one thread, or a call too small to share (under 2.5 MFLOP), the planes family runs impls/simd's
// whole-image loop instead: tiles only pay for their extra preparation when threads share them.
// Every output element is computed by exactly the same kernel code in the same order whatever the
// tiling, so results are bitwise independent of the thread count.
//
// Weight and bias gradients sum over the batch: the batch is split into simd::kWeightGradChunks (16)
// fixed chunks, independent of the thread count; chunks run in parallel into per-chunk partial sums,
// which are then added in chunk order. The result is bitwise that of impls/simd, for any thread count.
#pragma once

#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_impl.hpp"
#include "impls/simd/blocked_plan.hpp"
#include "impls/simd/simd_arch.hpp"
#include "impls/simd/simd_kernels.hpp"

namespace convlab::openmp {

class OpenmpConv final : public ConvImplFromTemplates<OpenmpConv> {
 public:
  OpenmpConv();  // simd::selected_arch()
  explicit OpenmpConv(simd::Arch arch);

  simd::Arch arch() const { return kernels_->arch; }

  template <typename T>
  void forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  // Held weights (ConvImpl::hold_weights): packed once for each pass that runs the blocked kernels.
  template <typename T>
  void prepare_held_typed(const ConvShape& s, const T* weights, const T* bias);
  template <typename T>
  void forward_held_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);

  std::size_t workspace_bytes(const ConvShape& shape, std::size_t element_size) const override;
  HeldPacking held_packing(const ConvShape& shape) const override;

 private:
  template <typename T>
  std::vector<simd::Scratch<T>>& thread_scratch();
  template <typename T>
  AlignedBuffer<T>& partials();
  template <typename T>
  simd::BlockedScratch<T>& blocked_scratch();

  const simd::KernelTable* kernels_;
  const simd::BlockedTable* blocked_;
  simd::BlockedScratch<float> blocked_f32_;
  simd::BlockedScratch<double> blocked_f64_;
  std::vector<simd::Scratch<float>> scratch_f32_;
  std::vector<simd::Scratch<double>> scratch_f64_;
  AlignedBuffer<float> partials_f32_;
  AlignedBuffer<double> partials_f64_;
};

// How a (batch x channels x rows) iteration space is cut; exposed for tests and the docs.
struct Tiling {
  Index images = 1, channels = 1, rows = 1;  // images: the most in any image tile
  // Image tile k holds images [batch*k/image_tiles, batch*(k+1)/image_tiles).
  Index first_image(Index batch, Index image_tile) const { return batch * image_tile / image_tiles; }
  Index image_tiles = 1, channel_tiles = 1, row_tiles = 1;
  Index count() const { return image_tiles * channel_tiles * row_tiles; }
};
// batch images, `channels` output channels of `rows` rows; weight_bytes_per_channel and band_bytes_per_row
// (input bytes one more output row reads) size the tiles as described above. `split_small_batch`: a batch
// too small to give every thread several tiles has its rows cut finer (not where every tile prepares its
// whole image, as the strided input gradient's do).
Tiling choose_tiling(Index batch, Index channels, Index rows, Index weight_bytes_per_channel,
                     Index band_bytes_per_row, Index band_bytes_fixed, double flops_per_image, int threads,
                     bool split_small_batch = true);

}  // namespace convlab::openmp
