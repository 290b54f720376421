// The magnitude E of Winograd's per-output error bound |y_computed - y| <= gamma_K E (K:
// winograd_rounding_count in winograd_conv.hpp; the derivation: tests/test_winograd.cpp):
//   E = |A|^T [ sum_c (|G| |g_c| |G|^T) . (|B|^T |d_c| |B|) ] |A| + |b|,
// the output transform of the transformed operands with every matrix and operand in absolute value. E >= S =
// sum|w x| + |b|, the direct sum's magnitude; E / S grows with the transforms' entries (for F(4x4): B^T up to
// 5, A^T up to 8, G down to 1/24). Used by tests/test_winograd.cpp and `convlab accuracy` (cli/accuracy.hpp).
// Computed in double, plainly (a test and measurement helper, not a kernel).
#pragma once

#include <vector>

#include "common/conv/conv_shape.hpp"

namespace convlab {

// E for every output of the forward pass of `s` (3x3, stride 1) on x, w, b (b may be empty: no bias), for the
// tile m = `tile` (2 or 4), in the output's layout.
std::vector<double> winograd_error_scale(int tile, const ConvShape& s, const std::vector<double>& x,
                                         const std::vector<double>& w, const std::vector<double>& b);

// The weight gradient's E (derived in tests/test_winograd.cpp): for every weight [f][c][ky][kx] of `s`,
//   E = |G|^T [ sum over the batch's tiles (|A| |dy_f| |A|^T) . (|B|^T |d_c| |B|) ] |G|,
// dy_f the tile's m x m output gradient of filter f (zero beyond the output), d_c its input patch.
std::vector<double> winograd_weight_gradient_scale(int tile, const ConvShape& s, const std::vector<double>& x,
                                                   const std::vector<double>& dy);
// Its K: the most roundings on a term's way to a weight, for `tiles` tiles in the batch (winograd_conv.cpp):
// A dy A^T (2 for F(2x2), 4 for F(4x4)), B^T d B (2, 4), the products and the sum over the tiles chunk by
// chunk (at most tiles + chunks <= 2 tiles), G^T dU G (4, 10).
constexpr double winograd_weight_gradient_rounding_count(int tile, Index tiles) {
  return 2.0 * double(tiles) + (tile == 2 ? 2 + 2 + 4 : 4 + 4 + 10);
}

// backward_input as Winograd runs it: the forward layer whose output is dx (channels swapped, the output's
// size as input, padding 2 - pad) and its weights w'[c][f][ky][kx] = w[f][c][2-ky][2-kx]. A layer that pads
// more than 2 would need a negative padding there: the output gradient's outer pad - 2 rows (columns) on each
// side reach no input pixel, so they are cut off instead (winograd_crop_output_gradient) and the transposed
// layer reads the rest unpadded.
ConvShape winograd_transposed_layer(const ConvShape& s);
std::vector<double> winograd_flipped_transposed(const ConvShape& s, const std::vector<double>& w);

// Rows (columns) cut from each side of the output gradient for a layer padded by `pad` (above).
constexpr Index winograd_gradient_crop(Index pad) { return pad > 2 ? pad - 2 : 0; }
inline bool winograd_crops_output_gradient(const ConvShape& s) {
  return winograd_gradient_crop(s.pad_height) > 0 || winograd_gradient_crop(s.pad_width) > 0;
}

// The input of winograd_transposed_layer(s) from the output gradient dy of `s`: dy itself, or where the layer
// pads more than 2, every plane without its outer rows and columns (into `cropped`, batch x F planes of
// winograd_transposed_layer(s)'s input size).
template <typename T>
void winograd_crop_output_gradient(const ConvShape& s, const T* dy, T* cropped) {
  const Index oh = s.out_height(), ow = s.out_width();
  const Index top = winograd_gradient_crop(s.pad_height), left = winograd_gradient_crop(s.pad_width);
  const Index rows = oh - 2 * top, cols = ow - 2 * left;
  for (Index plane = 0; plane < s.batch * s.out_channels; ++plane)
    for (Index r = 0; r < rows; ++r) {
      const T* from = dy + (plane * oh + top + r) * ow + left;
      T* to = cropped + (plane * rows + r) * cols;
      for (Index c = 0; c < cols; ++c) to[c] = from[c];
    }
}
std::vector<double> winograd_cropped_output_gradient(const ConvShape& s, const std::vector<double>& dy);

}  // namespace convlab
