// The normwise error bound of FFT convolution (impls/fft/fft_conv.hpp), per output plane; derived in
// tests/test_fft.cpp. For a plane of the forward pass (image n, filter f; channel sum over k = c < C with
// a_k = w[f][c], b_k = x[n][c]) or of the input gradient (image n, channel c; sum over k = f < F with
// a_k = w[f][c], b_k = dy[n][f]), with N = Lh Lw points per transform plane, t = log2 N stages, unit roundoff
// u, twiddle error mu = u + 2^-60, gamma_m = m u / (1 - m u):
//   eta = mu + gamma_4 (sqrt2 + mu),  eps = t eta / (1 - t eta)         (one 2-D FFT, Higham 24.2)
//   alpha_k = |a_k|_1 + eps sqrt(N) |a_k|_2,  beta_k = |b_k|_1 + eps sqrt(N) |b_k|_2
//   R  = sum_k [ eps (|a_k|_2 beta_k + |a_k|_1 |b_k|_2) + sqrt2 gamma_2K (1 + eps) alpha_k |b_k|_2 ]
//   S1 = sum_k |a_k|_1 |b_k|_2                                          (>= the exact plane's 2-norm)
//   ||y_computed - y||_2 <= (1 + eps) R + eps S1                        (no bias)
//                        <= (1 + u) [(1 + eps) R + eps S1] + u (S1 + |bias| sqrt(oh ow))   (bias added)
// (|.|_1, |.|_2: the 1- and 2-norms of a plane's values; K = C forward, F input gradient). Since
// |v|_1 <= sqrt(m) |v|_2 for m values, the bound is also u log2(N) times a few sqrt(kh kw), sqrt(i i) and
// sqrt(N) times sum_k |a_k|_2 |b_k|_2 to first order. Used by tests/test_fft.cpp and `convlab accuracy`.
// Computed in double, plainly (a test and measurement helper, not a kernel).
#pragma once

#include <vector>

#include "common/conv/conv_pass.hpp"
#include "common/conv/conv_shape.hpp"

namespace convlab {

struct FftBoundConstants {
  double u = 0, mu = 0, eta = 0, epsilon = 0;  // as above
  int stages = 0;                              // t = log2(Lh Lw)
  Index points = 1;                            // N = Lh Lw
};
FftBoundConstants fft_bound_constants(const ConvShape& s, double unit_roundoff);

// The bound on the 2-norm of the error of every output plane of `pass` (forward or backward_input) of `s`:
// forward on data = x with bias b (empty: no bias), N x F planes; backward_input on data = dy (b ignored),
// N x C planes; in the output's plane order.
std::vector<double> fft_plane_error_bound(const ConvShape& s, ConvPass pass, double unit_roundoff,
                                          const std::vector<double>& data, const std::vector<double>& w,
                                          const std::vector<double>& b);

}  // namespace convlab
