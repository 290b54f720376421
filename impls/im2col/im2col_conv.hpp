// im2col: the lecture's method. Read the input through the strided windows view (numpy's as_strided:
// sliding_windows gives (N, oh, ow, C, kh, kw) without copying), copy it into a patch matrix with one row
// per output pixel, and let one matrix product per image (convlab::gemm) do every multiply-add:
//   forward           y_n  (F x P) = W (F x K) * patches_n^T (K x P),      then + b[f] on each row
//   backward_input    dpatches_n (P x K) = dy_n^T (P x F) * W (F x K),      then col2im: scatter-add each
//                     row back through the same windows view onto dx (a zero-padded copy when padding > 0)
//   backward_weights  dW (F x K) = sum over n of dy_n (F x P) * patches_n (P x K);  db[f] = sum of dy
// with K = C*kh*kw (the weight tensor's rows, in its own (c, ky, kx) order) and P = oh*ow.
//
// Why it is faster than naive: the window bookkeeping (index arithmetic, bounds and padding tests) is paid
// once per patch element in a plain copy instead of once per multiply-add (F times as often), and the
// multiply-adds run in a dense matrix product over contiguous rows that vectorises, blocks for the caches
// and (in the shared gemm) uses both cores. Padding costs no tests at all: the input is first copied into
// a zero-bordered buffer.
//
// What it costs: memory. The patch matrix holds k*k*C*o^2 elements per image (each input pixel copied about
// (k/s)^2 times) against the input's C*i^2: 25*24*24 / (28*28) = 18.4x for the lecture's 5x5 layer. To keep that bounded, batches
// are processed in chunks of images whose patch matrix fits kMaxPatchBytes (64 MiB; one image at a time if
// a single image needs more). The padded copy adds C*(i+2p)^2 per image of the chunk. Both buffers live in
// the object and are reused across calls (fresh pages cost ~11 us each on this VM); workspace_bytes()
// reports their size.
//
// Summation order: only the bias gradient sums in naive's order (over n, oy, ox), declared in
// ConvImplInfo::reference_order and checked bitwise. The forward pass agrees bitwise with naive on the
// lecture's layer but not on every shape (the gemm picks its own order: the cross-check saw 9162 of 10000
// outputs differ in the last bit on 20 -> 50 channels, and one-pixel outputs differ too), and the backward
// passes sum over the gemm's k and col2im's scatter.
#pragma once

#include <cstddef>

#include "common/aligned_buffer.hpp"
#include "common/conv_impl.hpp"

namespace convlab {

class Im2colConv final : public ConvImplFromTemplates<Im2colConv> {
 public:
  static constexpr std::size_t kMaxPatchBytes = std::size_t(64) << 20;

  // A smaller limit forces smaller chunks (the tests use it to check that chunking changes nothing).
  explicit Im2colConv(std::size_t max_patch_bytes = kMaxPatchBytes) : max_patch_bytes_(max_patch_bytes) {}

  // Images per chunk: as many as keep the patch matrix within the limit, at least 1, at most the batch.
  Index images_per_chunk(const ConvShape& s, std::size_t element_size) const;

  template <typename T>
  void forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);

  std::size_t workspace_bytes(const ConvShape& s, std::size_t element_size) const override;

 private:
  template <typename T>
  struct Workspace {
    AlignedBuffer<T> padded;   // one chunk of images (or image gradients) with a zero border
    AlignedBuffer<T> patches;  // one chunk's patch matrix: (images * P) x K
  };
  template <typename T>
  Workspace<T>& workspace();

  std::size_t max_patch_bytes_;
  Workspace<float> float_workspace_;
  Workspace<double> double_workspace_;
};

}  // namespace convlab
