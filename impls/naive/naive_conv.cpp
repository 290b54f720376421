#include "impls/naive/naive_conv.hpp"

#include <memory>
#include <utility>

#include "common/conv/conv_registry.hpp"

namespace convlab {

namespace {
// Flat offsets of the four NCHW-style tensors.
struct Layout {
  const ConvShape& s;
  Index oh, ow;
  Index x(Index n, Index c, Index iy, Index ix) const {
    return ((n * s.in_channels + c) * s.in_height + iy) * s.in_width + ix;
  }
  Index w(Index f, Index c, Index ky, Index kx) const {
    return ((f * s.in_channels + c) * s.kernel_height + ky) * s.kernel_width + kx;
  }
  Index y(Index n, Index f, Index oy, Index ox) const { return ((n * s.out_channels + f) * oh + oy) * ow + ox; }
  bool inside(Index iy, Index ix) const { return iy >= 0 && iy < s.in_height && ix >= 0 && ix < s.in_width; }
};
}  // namespace

template <typename T>
void NaiveConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  const Layout at{s, s.out_height(), s.out_width()};
  for (Index n = 0; n < s.batch; ++n)
    for (Index f = 0; f < s.out_channels; ++f)
      for (Index oy = 0; oy < at.oh; ++oy)
        for (Index ox = 0; ox < at.ow; ++ox) {
          T sum = 0;
          for (Index c = 0; c < s.in_channels; ++c)
            for (Index ky = 0; ky < s.kernel_height; ++ky)
              for (Index kx = 0; kx < s.kernel_width; ++kx) {
                const Index iy = oy * s.stride_height - s.pad_height + ky;
                const Index ix = ox * s.stride_width - s.pad_width + kx;
                if (at.inside(iy, ix)) sum += weights[at.w(f, c, ky, kx)] * input[at.x(n, c, iy, ix)];
              }
          output[at.y(n, f, oy, ox)] = bias ? sum + bias[f] : sum;
        }
}

template <typename T>
void NaiveConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  const Layout at{s, s.out_height(), s.out_width()};
  for (Index n = 0; n < s.batch; ++n)
    for (Index c = 0; c < s.in_channels; ++c)
      for (Index iy = 0; iy < s.in_height; ++iy)
        for (Index ix = 0; ix < s.in_width; ++ix) {
          T sum = 0;
          for (Index f = 0; f < s.out_channels; ++f)
            for (Index ky = 0; ky < s.kernel_height; ++ky)
              for (Index kx = 0; kx < s.kernel_width; ++kx) {
                // Which output, if any, saw pixel (iy, ix) through window tap (ky, kx)?
                const Index row_offset = iy + s.pad_height - ky;
                const Index col_offset = ix + s.pad_width - kx;
                if (row_offset < 0 || col_offset < 0) continue;
                if (row_offset % s.stride_height != 0 || col_offset % s.stride_width != 0) continue;
                const Index oy = row_offset / s.stride_height;
                const Index ox = col_offset / s.stride_width;
                if (oy >= at.oh || ox >= at.ow) continue;
                sum += output_grad[at.y(n, f, oy, ox)] * weights[at.w(f, c, ky, kx)];
              }
          input_grad[at.x(n, c, iy, ix)] = sum;
        }
}

template <typename T>
void NaiveConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                       T* bias_grad) {
  const Layout at{s, s.out_height(), s.out_width()};
  for (Index f = 0; f < s.out_channels; ++f)
    for (Index c = 0; c < s.in_channels; ++c)
      for (Index ky = 0; ky < s.kernel_height; ++ky)
        for (Index kx = 0; kx < s.kernel_width; ++kx) {
          T sum = 0;
          for (Index n = 0; n < s.batch; ++n)
            for (Index oy = 0; oy < at.oh; ++oy)
              for (Index ox = 0; ox < at.ow; ++ox) {
                const Index iy = oy * s.stride_height - s.pad_height + ky;
                const Index ix = ox * s.stride_width - s.pad_width + kx;
                if (at.inside(iy, ix)) sum += output_grad[at.y(n, f, oy, ox)] * input[at.x(n, c, iy, ix)];
              }
          weight_grad[at.w(f, c, ky, kx)] = sum;
        }
  if (!bias_grad) return;
  for (Index f = 0; f < s.out_channels; ++f) {
    T sum = 0;
    for (Index n = 0; n < s.batch; ++n)
      for (Index oy = 0; oy < at.oh; ++oy)
        for (Index ox = 0; ox < at.ow; ++ox) sum += output_grad[at.y(n, f, oy, ox)];
    bias_grad[f] = sum;
  }
}

namespace {
// -1*1 + (1 + 2^-12)^2 in naive's forward pass (two input channels) and input gradient (two output
// channels), on 1x1 images and windows: fused, the second term rounds once to 2^-11 + 2^-24; multiplied
// first, (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds (a tie, to even) to 1 + 2^-11 and the sum is 2^-11.
// The same in double with 2^-27 for 2^-12.
template <typename T>
std::pair<bool, bool> fused_in_forward_and_input_gradient() {
  const T eps = T(1) / T(sizeof(T) == 4 ? 1 << 12 : 1 << 27);
  const T fused = 2 * eps + eps * eps;
  const T first[2] = {T(-1), 1 + eps}, second[2] = {T(1), 1 + eps};
  ConvShape s;
  s.in_channels = 2;  // forward: y = w0 x0 + w1 x1
  T y = 0;
  NaiveConv().forward(s, second, first, nullptr, &y);
  s.in_channels = 1;
  s.out_channels = 2;  // input gradient: dx = dy0 w0 + dy1 w1
  T dx = 0;
  NaiveConv().backward_input(s, second, first, &dx);
  return {y == fused, dx == fused};
}
}  // namespace

TermRounding naive_term_rounding() {
  const auto [forward_f, input_f] = fused_in_forward_and_input_gradient<float>();
  const auto [forward_d, input_d] = fused_in_forward_and_input_gradient<double>();
  if (forward_f && input_f && forward_d && input_d) return TermRounding::fused;
  if (!forward_f && !input_f && !forward_d && !input_d) return TermRounding::separate;
  return TermRounding::mixed;
}

ConvImplInfo naive_conv_info() {
  return {.name = "naive",
          .summary = "reference: plain loops in the order of the math",
          .build_flags = CONVLAB_IMPL_BUILD_FLAGS,
          .make = [] { return std::make_unique<NaiveConv>(); },
          .role = ConvRole::reference};
}

}  // namespace convlab
