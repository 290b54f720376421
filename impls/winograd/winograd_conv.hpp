// winograd: Winograd minimal filtering (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
// Networks"), F(2x2, 3x3) ("winograd2") and F(4x4, 3x3) ("winograd4"), for 3x3 windows at stride 1.
//
// What it does differently: the output is cut into m x m tiles (m = 2 or 4); each tile's (m+2) x (m+2) input
// patch d and each 3x3 filter g are transformed (V = B^T d B, U = G g G^T), multiplied elementwise and summed
// over the input channels -- one matrix product M[xi] (F x tiles) = U[xi] (F x C) * V[xi] (C x tiles) per
// transform position xi, run by the shared gemm -- and transformed back (Y = A^T M A, plus the bias).
// Why it is faster: a tile of m x m outputs costs (m+2)^2 multiplies per (filter, channel) instead of 9 m^2:
// 16 per 4 outputs (4 per output) for F(2x2), 36 per 16 outputs (2.25 per output) for F(4x4), against 9 for
// direct convolution; the transforms are additions and scalings, paid per tile and channel, not per filter.
// Why its error is larger: the transforms mix values of different magnitudes (for F(4x4), B^T has entries up
// to 5 and A^T up to 8, G fractions down to 1/24, some of them inexact in binary), so the output carries the
// rounding of sums whose absolute-value bound, |A|^T [sum_c (|G||g_c||G|^T) . (|B|^T|d_c||B|)] |A|, is well
// above the direct sum's sum|w x| and grows quickly with the tile size (the transform matrices' norms grow
// with the number of interpolation points); tests/test_winograd.cpp derives the bound and checks it.
//
// Tiles are processed in fixed-size chunks across the whole batch (the chunk size depends on the shape only,
// never on the thread count, so 1 and 2 threads give bitwise-identical results), chunks shared by the OpenMP
// threads, each thread with its own scratch kept in the object between calls; chunk widths are chosen so that
// two threads share them well. When whole chunks would still share out badly (a 28x28 image at batch 1 is a
// single chunk), all threads run each chunk together: each transforms the chunk's whole input for itself, then
// multiplies and untransforms its own part of the filters (no thread waits for another). Where a call's tiles
// fit one vector (7x7 or 14x14 images at small batches), the products run transposed, vectors along the filters
// (U^T in 48-filter panels, streamed once per call), where one vector of tiles would starve the gemm's kernel.
// The weight transform is redone on every call; held weights (hold_weights) keep it, so forward_held and
// backward_input_held skip it.
// backward_input is the forward algorithm on the flipped, transposed weights (dx = dy correlated with
// w'[c][f][ky][kx] = w[f][c][2-ky][2-kx], padding 2 - pad; a layer padded by more than 2 has dy's outer pad - 2
// rows and columns cut off instead, since they reach no input pixel). backward_weights is the transposed algorithm:
// dw = G^T [ sum over the batch's tiles (A dy A^T) . (B^T d B) ] G, one product per transform position and chunk
// (F x tiles times tiles x C) added into dU chunk after chunk, in chunk order whatever the thread count. Its
// chunks are as wide as fit (the threads share each chunk); from 64 input channels on, the channels are cut into
// two fixed groups, each transformed and multiplied by one thread, so that no thread reads what another wrote
// (each group transforms dy for itself). With floats and AVX-512, where each part of the tiles is one chunk, the
// products run instead one block of filters x channels at a time for every transform position and the block is
// untransformed at once (winograd_gradient_block.hpp): no dU of alpha^2 x F x C in memory, and where a group's
// channels fit, dy transformed block of filters by block as the products need it. The bias gradient is a plain
// sum of dy in naive's order, eight filters' chains side by side. It pays on layers with many tiles per channel
// pair; with few (7 x 7 images of 512 channels at batch 1) the transforms cost more than the products save.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_impl.hpp"

namespace convlab {

// "" when Winograd (tile 2 or 4; 0: either) can run forward and backward_input of `s`; otherwise why not,
// naming the layer (a 3x3 window at stride 1 is needed; any padding).
std::string winograd_unsupported(const ConvShape& s, int tile = 0);

// K of Winograd's error bound |y_computed - y| <= gamma_K * E (tests/test_winograd.cpp derives it and E):
// the most roundings on any term's way to an output, for a channel sum of `channels` terms (in_channels for
// forward, out_channels for backward_input) and, with `bias`, the bias add. Transforms, counted from
// winograd_conv.cpp: F(2x2, 3x3) 4 (G g G^T) + 2 (B^T d B) + 4 (A^T M A) = 10; F(4x4, 3x3) 8 + 4 + 6 = 18.
// So K = C + 11 for F(2x2), C + 19 for F(4x4), forward with bias. Used by that test and `convlab accuracy`.
constexpr int winograd_rounding_count(int tile, Index channels, bool bias) {
  const int transforms = tile == 2 ? 4 + 2 + 4 : 8 + 4 + 6;
  return transforms + int(channels) + (bias ? 1 : 0);
}

// How the forward direction of `s` is cut for `threads` threads: tiles over the batch, tiles per chunk, chunks,
// the threads used (one below a minimum of work), and whether the threads run each chunk together (each over
// its part of the filters) instead of whole chunks each; and the weight gradient's cut: parts of the batch's
// tiles, each summed into a dU of its own by one thread (gradient_tile_parts > 1), or else groups of input
// channels (each group's transforms and products run by one thread). For tests that need to know which path a shape takes.
struct WinogradChunking {
  Index tiles, chunk_tiles, chunks;
  int threads;
  bool shared;
  Index gradient_groups;
  Index gradient_tile_parts;
  bool products_transposed;  // the forward direction's products run as V^T U^T (few tiles, see the .cpp)
  bool gradient_fused;       // the weight gradient's products and G^T dU G block by block (see the .cpp)
};
WinogradChunking winograd_chunking(const ConvShape& s, int tile, std::size_t element_size, int threads);

class WinogradConv final : public ConvImplFromTemplates<WinogradConv> {
 public:
  explicit WinogradConv(int tile);  // output tile m: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3)

  template <typename T>
  void forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);

  template <typename T>
  void prepare_held_typed(const ConvShape& s, const T* weights, const T* bias);
  template <typename T>
  void forward_held_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);

  HeldPacking held_packing(const ConvShape& s) const override;
  std::size_t workspace_bytes(const ConvShape& s, std::size_t element_size) const override;

  int tile() const { return m_; }

 private:
  template <typename T>
  struct Workspace {
    AlignedBuffer<T> transformed;                 // U of a plain call: alpha^2 x F x C
    AlignedBuffer<T> cropped;                     // the input gradient's dy of a layer padded by more than 2
    // U of the held weights for the forward pass and the input gradient, each in its two layouts (U[xi] as F x C,
    // or transposed in panels: which one a call takes depends on its batch), each made at the first call that
    // needs it.
    struct Held {
      AlignedBuffer<T> layouts[2];
      bool ready[2] = {false, false};
    };
    Held held_forward, held_backward;
    std::vector<AlignedBuffer<T>> scratch;  // per thread: patches, temporaries, V and M of one chunk
    AlignedBuffer<T> gradient;              // the weight gradient's V and D of one chunk, and dU
  };
  template <typename T>
  Workspace<T>& workspace();
  void require_supported(const ConvShape& s) const;
  template <typename T>
  void run(const ConvShape& s, const T* input, const T* transformed_weights, const T* bias, T* output);
  // The held U for the forward-direction call `run` (forward: the layer; input gradient: its transposed layer).
  template <typename T>
  const T* held_transform(typename Workspace<T>::Held& held, const T* weights, const ConvShape& run, bool flip);
  // The input of the input gradient's transposed layer: dy, or its cropped copy (winograd_bound.hpp).
  template <typename T>
  const T* transposed_input(const ConvShape& s, const T* output_grad);

  int m_;
  Workspace<float> float_workspace_;
  Workspace<double> double_workspace_;
};

}  // namespace convlab
