// The per-plane bound of FFT convolution (see fft_bound.hpp; derived in tests/test_fft.cpp).
#include "impls/fft/fft_bound.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "impls/fft/fft_conv.hpp"

namespace convlab {

namespace {
double gamma(double m, double u) { return m * u / (1 - m * u); }

struct Norms {
  std::vector<double> one, two;  // per plane
};

Norms plane_norms(const std::vector<double>& values, Index planes, Index size) {
  Norms norms{std::vector<double>(std::size_t(planes)), std::vector<double>(std::size_t(planes))};
  for (Index p = 0; p < planes; ++p) {
    double one = 0, squares = 0;
    for (Index i = 0; i < size; ++i) {
      const double v = values[std::size_t(p * size + i)];
      one += std::abs(v);
      squares += v * v;
    }
    norms.one[std::size_t(p)] = one;
    norms.two[std::size_t(p)] = std::sqrt(squares);
  }
  return norms;
}
}  // namespace

FftBoundConstants fft_bound_constants(const ConvShape& s, double u) {
  FftBoundConstants c;
  c.u = u;
  c.points = fft_transform_size(s).points();
  while ((Index(1) << c.stages) < c.points) ++c.stages;
  c.mu = u + std::ldexp(1.0, -60);
  c.eta = c.mu + gamma(4, u) * (std::sqrt(2.0) + c.mu);
  const double t_eta = c.stages * c.eta;
  if (t_eta >= 1) throw std::invalid_argument("fft_bound_constants: log2(N) eta >= 1, no bound");
  c.epsilon = t_eta / (1 - t_eta);
  return c;
}

std::vector<double> fft_plane_error_bound(const ConvShape& s, ConvPass pass, double u, const std::vector<double>& data,
                                          const std::vector<double>& w, const std::vector<double>& b) {
  if (pass == ConvPass::backward_weights) throw std::invalid_argument("fft_plane_error_bound: not an FFT pass");
  const bool forward = pass == ConvPass::forward;
  const FftBoundConstants k = fft_bound_constants(s, u);
  const Index N = s.batch, C = s.in_channels, F = s.out_channels;
  const Index in_planes = forward ? C : F, out_planes = forward ? F : C;
  const Index data_size = forward ? s.in_height * s.in_width : s.out_height() * s.out_width();
  const Index out_size = forward ? s.out_height() * s.out_width() : s.in_height * s.in_width;
  const Norms x = plane_norms(data, N * in_planes, data_size);
  const Norms a = plane_norms(w, F * C, s.kernel_height * s.kernel_width);
  const double eps = k.epsilon, root_n = std::sqrt(double(k.points));
  const double g = std::sqrt(2.0) * gamma(2.0 * double(in_planes), u);
  const bool with_bias = forward && !b.empty();
  std::vector<double> bound(std::size_t(N * out_planes));
  for (Index n = 0; n < N; ++n)
    for (Index o = 0; o < out_planes; ++o) {
      double r = 0, s1 = 0;
      for (Index j = 0; j < in_planes; ++j) {
        const std::size_t wp = std::size_t(forward ? o * C + j : j * C + o), xp = std::size_t(n * in_planes + j);
        const double alpha = a.one[wp] + eps * root_n * a.two[wp];
        const double beta = x.one[xp] + eps * root_n * x.two[xp];
        r += eps * (a.two[wp] * beta + a.one[wp] * x.two[xp]) + g * (1 + eps) * alpha * x.two[xp];
        s1 += a.one[wp] * x.two[xp];
      }
      double e = (1 + eps) * r + eps * s1;
      if (with_bias) e = (1 + u) * e + u * (s1 + std::abs(b[std::size_t(o)]) * std::sqrt(double(out_size)));
      bound[std::size_t(n * out_planes + o)] = e;
    }
  return bound;
}

}  // namespace convlab
