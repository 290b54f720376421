// simd: direct convolution vectorised with xsimd, dispatched at run time to AVX-512, AVX2+FMA or SSE2, in two
// kernel families chosen per pass by a cost model of their lane use (blocked_plan.hpp: choose_kernel_family;
// CONVLAB_SIMD_KERNELS=planes|blocked forces one).
//
// "planes" (simd_kernels.hpp) vectorises along output columns: one vector holds L consecutive outputs of a
// row (L = 16 floats on AVX-512), in naive's order for every output (in channels, window rows, window
// columns; the bias last). Why it is faster than naive:
//  - register blocking: a block of output channels x 1-2 rows x up to 4 column vectors stays in registers
//    for the whole window, so each loaded input vector feeds one FMA per block channel and each broadcast
//    weight feeds every vector of the block;
//  - AVX-512 rows that leave at most half a vector over (the lecture's 24 = 16 + 8) pair two rows'
//    remainders in one register; a forward output too big for cache is written with non-temporal stores;
//  - each image is copied once into zero-padded planes (split by column phase when strided): no bounds
//    tests, unit-stride loads; the input gradient of few-channel 3x3/5x5 stride-1 layers (the lecture's)
//    slides a block of rows down the image so each load feeds up to 5 FMAs; a strided input gradient is
//    polyphase (one stride-1 correlation per stride phase over only its own taps: no products with the
//    zeros of a dilated output gradient); the weight gradient keeps per-lane partial sums in registers.
// It wins where rows fill its vectors and channels are few (the lecture's layer: 1 -> 20 channels).
//
// "blocked" (blocked_kernels.hpp) vectorises along channels: a vector holds L output channels (input
// channels for the input gradient) of one pixel, and a register tile of V vectors x P pixels (24 of
// AVX-512's 32 registers) sums over a tap list, each pixel reading through its own offset. So a stride or
// a ragged row costs nothing and every lane is a real channel at any image width; the input gradient is
// polyphase; long reductions run in tap blocks whose weights stay in L2; a tile leaves out the products with
// the zero border that it can (window rows outside for all its pixels; on AVX-512 floats, window columns outside
// at the first or last pixels of a tile within one row). It wins on multi-channel and strided layers.
//
// Both families sum every output of the forward pass and the input gradient in naive's order with one FMA
// per term, so they are bitwise naive's whenever naive's loop is contracted to FMAs too (any -march with
// FMA; not on the sse2 path): ConvImplInfo::reference_order says so and the cross-check demands it. The
// weight gradient reorders its sums (lanes, pixels, fixed batch chunks): within the error bound, exact on
// integers, and bitwise independent of the thread count (impls/openmp runs the same units in parallel).
//
// What it costs: scratch kept in the object between calls (an image's planes or a prepared slot, packed
// weights, partial sums); three builds of each family (one per arch, chosen at run time); and code much
// longer than naive's.
//
// The arch is chosen when the object is created (see simd_arch.hpp: CONVLAB_SIMD_ARCH, set_forced_arch).
#pragma once

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_impl.hpp"
#include "impls/simd/blocked_plan.hpp"
#include "impls/simd/simd_arch.hpp"
#include "impls/simd/simd_kernels.hpp"

namespace convlab::simd {

// Whether `table`'s kernels round each term as this build of naive does: then the forward pass and the
// input gradient, which the correlation kernel sums in naive's order, are bitwise naive's (used for
// ConvImplInfo::reference_order by simd and openmp, and by the tests).
bool rounds_like_naive(const KernelTable& table);

class SimdConv final : public ConvImplFromTemplates<SimdConv> {
 public:
  SimdConv();  // selected_arch()
  explicit SimdConv(Arch arch);  // throws ArchError if the CPU lacks it

  Arch arch() const { return kernels_->arch; }

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
  Scratch<T>& scratch();
  template <typename T>
  BlockedScratch<T>& blocked_scratch();

  const KernelTable* kernels_;
  const BlockedTable* blocked_;
  BlockedScratch<float> blocked_f32_;
  BlockedScratch<double> blocked_f64_;
  Scratch<float> scratch_f32_;
  Scratch<double> scratch_f64_;
  AlignedBuffer<float> partials_f32_;
  AlignedBuffer<double> partials_f64_;
};

}  // namespace convlab::simd
