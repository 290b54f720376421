// im2col: the lecture's method. Read the input through the strided windows view (numpy's as_strided:
// sliding_windows gives (N, oh, ow, C, kh, kw) without copying), copy the windows into a patch matrix, and let
// a matrix product (convlab::gemm) do every multiply-add. The patch matrix is kept in its column form
// ("cols", one row per weight tap (c, ky, kx), one column per output pixel), and built one band of output
// rows of one image at a time:
//   forward           y_n[:, band]  (F x Pb) = W (F x K) * cols_band (K x Pb),          then + b[f]
//   backward_input    dcols_band (K x Pb) = W^T (K x F) * dy_n[:, band] (F x Pb),        then col2im: scatter-add
//                     each column element back onto the input pixel the windows view read it from
//   backward_weights  dW (F x K) += dy_n[:, band] (F x Pb) * cols_band^T (Pb x K);     db[f] = sum of dy
// with K = C*kh*kw (the weight tensor's rows, in its own (c, ky, kx) order), P = oh*ow, Pb a band's pixels.
//
// Why it is faster than naive: the window bookkeeping (index arithmetic, bounds and padding tests) is paid
// once per copied run instead of once per multiply-add, and the multiply-adds run in a dense, register-tiled
// matrix product.
//
// What it does differently from the textbook version (the whole batch's patch matrix, then one product per
// image), and why that is faster:
// * Bands sized for L2. The column buffer of one band (K x Pb, about 384 KiB, at least 96 pixels; bands of
//   several small images aim for 384 pixels within 1 MiB) is built right before the product reads it, so
//   the product streams it from L2 instead of from memory; each thread has its own buffer, kept in the
//   object across calls (first-touched pages are expensive on this VM), so no call allocates or touches
//   fresh memory once the shapes repeat.
// * Row copies. A row of cols (one tap) over one output row is a run of the windows view along ox: for
//   stride 1 a contiguous piece of an input row, moved a vector at a time with a masked last vector; a
//   strided gather otherwise; masked zero stores where the window hangs over the padding (so no
//   zero-bordered copy of the input is needed). Which part of a run is padding depends only on kx, so it is
//   worked out once per tap, not per run. The per-pixel layout copied kw elements at a time.
// * W^T for the input gradient transposed by all threads in 16 x 16 blocks (megabytes on a deep layer, which the
//   calling thread alone took as long as the products), and kept with held weights.
// * Memory-level parallelism for large images: the input rows the band needs from the next channel plane
//   are prefetched while the current one is copied, and the input gradient is cleared band by band, channel
//   by channel, just before col2im adds into it, rather than in one pass over the whole image beforehand.
// * No packing of the patch matrix in the forward product: cols is K x Pb with a row stride below a page
//   (or K <= 64), which the gemm's outer-product kernel reads in place (the per-pixel layout needed a
//   transposing pack).
// * Small images (a whole image's columns well under the budget: the lecture's 1-channel layers, 10x10 to
//   19x19 outputs) are banded several images at a time, the output (or output gradient) passing through a
//   per-thread F x band buffer, so each product is wide enough that the gemm's edge columns are a small share.
// * Threads over (image, band) units, so batch 1 and small images use both cores too, instead of relying on
//   the gemm threading products too small for it. The input gradient splits images into channel groups
//   when there are fewer images than threads (each group scatters only onto its own channels); the weight
//   gradient sums fixed chunks of the units into their own partials, added in chunk order -- except where an
//   image takes several bands and its channels make four or more groups of L2-sized columns over the whole
//   image: then each thread takes whole channel groups, builds a group's columns over all of an image's pixels
//   and adds its F x (group's taps) block of the weight gradient image by image. Banded, every band's product
//   would read and write all F x K sums (megabytes on a deep layer) over a depth of one band's pixels, on one
//   thread when the partials are too large to have one per chunk. Calls too small
//   for a fork/join stay on one thread. When the weights are far larger than L2 (a partial would be a pass
//   through memory, and every thread would stream all of W), the weight and input gradients instead take
//   one unit at a time and let the gemm split the product between the threads.
//
// Summation order: only the bias gradient sums in naive's order (over n, oy, ox), declared in
// ConvImplInfo::reference_order and checked bitwise. The band split depends only on the shape, never on the
// thread count, and every pass is bitwise the same on 1 and 2 threads; the products themselves sum in the
// gemm's order (k blocks and vector lanes), and the input gradient in col2im's (band, tap, output row).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_impl.hpp"

namespace convlab {

// The band split of a shape (a function of the shape and element size only).
struct Im2colGeometry {
  Index channels, in_h, in_w, filters, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  Index out_h, out_w, out_pixels, patch_length;  // P = oh * ow, K = C * kh * kw
  Index batch;
  Index band_rows = 1;         // output rows per band (the last band may have fewer)
  Index bands = 1;             // bands per image
  Index images_per_band = 1;   // > 1 only for small images (bands == 1): a band then holds whole images
  Index column_stride = 1;     // row stride of the column buffer (>= a band's pixels)
  // The weight gradient of an image whose columns outgrow a band, by groups of whole channels over all of the
  // image's pixels instead (weight_grad_groups > 1): group_channels channels' rows, group_column_stride apart.
  Index weight_grad_groups = 1;
  Index group_channels = 0;
  Index group_column_stride = 0;

  // One unit of work: output rows [oy0, oy1) of images [first_image, first_image + images).
  struct Unit {
    Index first_image, images, oy0, oy1;
  };
  Index units() const {
    return images_per_band > 1 ? (batch + images_per_band - 1) / images_per_band : batch * bands;
  }
  Unit unit(Index u) const {
    if (images_per_band > 1) {
      const Index first = u * images_per_band;
      return {first, std::min(images_per_band, batch - first), 0, out_h};
    }
    const Index oy0 = (u % bands) * band_rows;
    return {u / bands, 1, oy0, std::min(out_h, oy0 + band_rows)};
  }

  double fmas() const {  // multiply-adds of one pass over the batch
    return double(batch) * double(filters) * double(patch_length) * double(out_pixels);
  }

  // band_pixels_limit > 0 caps a band's pixels (the tests use it to force many bands).
  Im2colGeometry(const ConvShape& s, std::size_t element_size, Index band_pixels_limit = 0);
  // Fixed chunks of the batch's units for the weight gradient's partial sums.
  Index weight_grad_chunks(std::size_t element_size) const;
  // Elements of one thread's column buffer: a band's, or a channel group's.
  Index column_elements() const {
    return std::max(patch_length * column_stride, group_channels * kernel_h * kernel_w * group_column_stride);
  }
};

class Im2colConv final : public ConvImplFromTemplates<Im2colConv> {
 public:
  explicit Im2colConv(Index band_pixels_limit = 0) : band_pixels_limit_(band_pixels_limit) {}

  template <typename T>
  void forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  // Held weights: W^T made once, at the first held input gradient after a hold, and kept.
  template <typename T>
  void prepare_held_typed(const ConvShape& s, const T* weights, const T* bias);
  template <typename T>
  void backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  HeldPacking held_packing(const ConvShape& s) const override;
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);

  // One column buffer per thread, plus the larger of W^T and the weight gradient's extra partials.
  std::size_t workspace_bytes(const ConvShape& s, std::size_t element_size) const override;

 private:
  template <typename T>
  struct Workspace {
    std::vector<AlignedBuffer<T>> columns;  // per thread: K x column_stride
    std::vector<AlignedBuffer<T>> outputs;  // per thread, for bands of several images: F x column_stride
    AlignedBuffer<T> transposed;            // W^T (input gradient) or the partial sums (weight gradient)
  };
  template <typename T>
  Workspace<T>& workspace();
  template <typename T>
  void columns_for_thread(Workspace<T>& work, const Im2colGeometry& g, int threads);
  template <typename T>
  void backward_input_from_transposed(const Im2colGeometry& g, const T* output_grad, const T* wt, T* input_grad);
  template <typename T>
  AlignedBuffer<T>& held_transposed() {
    if constexpr (sizeof(T) == sizeof(float)) return held_transposed_f32_; else return held_transposed_f64_;
  }
  template <typename T>
  void weight_grad_by_bands(Workspace<T>& work, const Im2colGeometry& g, const T* input, const T* output_grad,
                            T* weight_grad);
  template <typename T>
  void weight_grad_by_groups(Workspace<T>& work, const Im2colGeometry& g, const T* input, const T* output_grad,
                             T* weight_grad);

  Index band_pixels_limit_;
  AlignedBuffer<float> held_transposed_f32_;  // W^T of the held float weights (empty: not made yet)
  AlignedBuffer<double> held_transposed_f64_;
  Workspace<float> float_workspace_;
  Workspace<double> double_workspace_;
};

}  // namespace convlab
