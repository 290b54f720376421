// simd: direct convolution vectorised with xsimd, dispatched at run time to AVX-512, AVX2+FMA or SSE2.
//
// What it does differently from naive, and why that is faster:
//  - vectorises along output columns: one vector holds L consecutive outputs of a row (L = 16 floats on
//    AVX-512), so one FMA does L of naive's multiply-adds, in naive's order for every output (in
//    channels, then window rows, then window columns; the bias last);
//  - register blocking: a block of output channels x 1-2 output rows x up to 4 column vectors (up to 24
//    accumulators on AVX-512, 12 on AVX2/SSE2) stays in registers for the whole window, so each loaded
//    input vector feeds one FMA per block channel and each weight, broadcast straight from L1, feeds
//    every vector of the block - no output is loaded, and each is stored once;
//  - AVX-512 on rows whose width leaves at most half a vector over (the lecture's 24 = 16 + 8) blocks two
//    rows and packs both rows' remainders into one register: 3 FMAs per row pair and tap instead of 4,
//    no lane wasted;
//  - the forward output is the big memory stream (46 KB per image on the lecture layer, 14.7x the input):
//    when it exceeds 8 MiB and is 64-byte aligned (AlignedBuffer), those row pairs are written as whole
//    cache lines with non-temporal stores, which skip the read-for-ownership (an unaligned output falls
//    back to ordinary stores). On one core of the Zen 4 machine of 2026-12-01 simd ran the lecture layer
//    at 131,779 images/s at batch 1000 and 139,922 at batch 10000, 65-69 % of that core's FMA peak;
//  - each image is first copied into zero-padded, stride-phase-split "planes" (simd_kernels.hpp):
//    no bounds tests in the inner loop, any stride/padding keeps unit-stride loads, and ragged row ends
//    are covered by one overlapping vector instead of scalar code (rows narrower than a vector are
//    computed whole and stored partially);
//  - the input gradient is the same kernel on the zero-dilated output gradient with flipped taps, except
//    for few (<= 2) input channels and square 3x3/5x5 windows at stride 1 (the lecture's layer), which
//    have no channel block to reuse a load: there a block of up to 7 output rows slides down the rows it
//    reads, each loaded vector feeding every row it reaches (up to 5 FMAs instead of 1), and on AVX-512
//    the output gradient is read in place with masked loads (no padded copy, all-padding rows skipped);
//  - the weight gradient keeps per-lane partial sums in registers (blocks of out channels x taps) and
//    reduces them once per fixed batch chunk (so impls/openmp's parallel result is bitwise the same); at
//    stride 1 each output-gradient channel is one flat run of whole vectors (the lecture's 24x24 = 36 x 16)
//    against column-shifted copies of the input, so no lane is spent on row padding.
// The forward pass and the input gradient sum every output in naive's order with one FMA per term, so they
// are bitwise naive's whenever naive's loop is contracted to FMAs too (any -march with FMA; not on the
// sse2 path, which multiplies and adds): ConvImplInfo::reference_order says so and the cross-check demands
// it. The weight gradient's lanes and chunks reorder its sums: within the error bound, exact on integers.
//
// What it costs: scratch of one image's planes (its channels zero-padded, and split by column phase when
// strided) kept in the object between calls, plus lane partials for the weight gradient; three builds of
// the kernels (one per arch, chosen at run time); and code that is much longer than naive's.
//
// The arch is chosen when the object is created (see simd_arch.hpp: CONVLAB_SIMD_ARCH, set_forced_arch).
#pragma once

#include "common/aligned_buffer.hpp"
#include "common/conv_impl.hpp"
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
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);

  std::size_t workspace_bytes(const ConvShape& shape, std::size_t element_size) const override;

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
