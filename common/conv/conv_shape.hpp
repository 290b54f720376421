// The geometry of one 2-D convolution call, shared by every implementation.
//
// Memory layout (all tensors dense, C order):
//   input         N x C x H x W        (NCHW: one image's channel planes are contiguous, so a window row is
//                                       a contiguous run of W pixels - what SIMD loads and strided views want)
//   weights       F x C x kh x kw      (PyTorch's layout, so `convlab conv` can be checked against it)
//   bias          F
//   output        N x F x oh x ow      with o = floor((i + 2p - k) / s) + 1
// This is cross-correlation, as in the lecture and every deep-learning library (no kernel flip).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/tensor/strided_view.hpp"

namespace convlab {

class ConvShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// o = floor((i + 2p - d(k-1) - 1) / s) + 1, which is floor((i + 2p - k) / s) + 1 for dilation 1.
// Throws ConvShapeError when the (dilated) window is larger than the padded input or s < 1.
Index conv_output_size(Index input, Index kernel, Index stride, Index padding, Index dilation = 1);

struct ConvShape {
  Index batch = 1;
  Index in_channels = 1;
  Index in_height = 1;
  Index in_width = 1;
  Index out_channels = 1;
  Index kernel_height = 1;
  Index kernel_width = 1;
  Index stride_height = 1;
  Index stride_width = 1;
  Index pad_height = 0;
  Index pad_width = 0;

  // Throws ConvShapeError naming the offending field: non-positive sizes, stride 0, negative padding,
  // a window larger than the padded image, or element counts too large to index.
  void validate() const;

  Index out_height() const { return conv_output_size(in_height, kernel_height, stride_height, pad_height); }
  Index out_width() const { return conv_output_size(in_width, kernel_width, stride_width, pad_width); }

  Index input_size() const { return batch * in_channels * in_height * in_width; }
  Index weight_size() const { return out_channels * in_channels * kernel_height * kernel_width; }
  Index output_size() const { return batch * out_channels * out_height() * out_width(); }
  // Products summed for one output element (the n of its error bound).
  Index reduction_length() const { return in_channels * kernel_height * kernel_width; }

  // Floating-point operations (multiply and add counted separately) of each pass.
  double forward_flops() const { return 2.0 * double(output_size()) * double(reduction_length()); }
  double backward_input_flops() const { return forward_flops(); }
  double backward_weights_flops() const { return forward_flops(); }

  std::string describe() const;  // "N=64 C=1 28x28 -> F=20 5x5 s1 p0 -> 24x24"
  bool operator==(const ConvShape&) const = default;
};

}  // namespace convlab
