// Chapter 7: exact agreement on small integers, an error bound on reals, and a check that proves nothing.
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "common/conv/conv_registry.hpp"

using convlab::Index;

// y = conv(x, w) with im2col and with naive, on inputs drawn by `draw`.
template <typename Draw>
void run_both(const convlab::ConvShape& s, Draw draw, std::vector<float>& x, std::vector<float>& w,
              std::vector<float>& naive, std::vector<float>& im2col) {
  x.resize(std::size_t(s.input_size()));
  w.resize(std::size_t(s.weight_size()));
  for (float& value : x) value = draw();
  for (float& value : w) value = draw();
  naive.assign(std::size_t(s.output_size()), NAN);
  im2col.assign(std::size_t(s.output_size()), NAN);
  convlab::make_conv_impl("naive")->forward(s, x.data(), w.data(), nullptr, naive.data());
  convlab::make_conv_impl("im2col")->forward(s, x.data(), w.data(), nullptr, im2col.data());
}

int main() {
  convlab::ConvShape s;  // 2 images, 3 channels, 9x9, 4 filters of 3x3, no padding
  s.batch = 2;
  s.in_channels = 3;
  s.in_height = s.in_width = 9;
  s.out_channels = 4;
  s.kernel_height = s.kernel_width = 3;
  std::mt19937 random(7);
  std::vector<float> x, w, naive, im2col;

  // 1. Small integers: every partial sum is an integer far below 2^24, exact in float in any order.
  std::uniform_int_distribution<int> small(-4, 4);
  run_both(s, [&] { return float(small(random)); }, x, w, naive, im2col);
  bool identical = true;
  for (std::size_t i = 0; i < naive.size(); ++i) identical = identical && naive[i] == im2col[i];
  std::printf("small integers: im2col == naive exactly: %s\n", identical ? "yes" : "no");

  // 2. Reals: |y - y_ref| <= c * n * u * sum|w x| per output, with c = 2.5 (see tests/conv_tester.cpp).
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  run_both(s, [&] { return real(random); }, x, w, naive, im2col);
  const double u = std::numeric_limits<float>::epsilon() / 2;  // unit roundoff of float
  const Index n = s.reduction_length(), oh = s.out_height(), ow = s.out_width();
  std::vector<double> bound(naive.size());
  for (Index b = 0; b < s.batch; ++b)
    for (Index f = 0; f < s.out_channels; ++f)
      for (Index oy = 0; oy < oh; ++oy)
        for (Index ox = 0; ox < ow; ++ox) {
          double sum_abs = 0.0;  // sum |w x| over the window
          for (Index c = 0; c < s.in_channels; ++c)
            for (Index ky = 0; ky < 3; ++ky)
              for (Index kx = 0; kx < 3; ++kx)
                sum_abs += std::abs(double(w[std::size_t(((f * 3 + c) * 3 + ky) * 3 + kx)]) *
                                    double(x[std::size_t(((b * 3 + c) * 9 + oy + ky) * 9 + ox + kx)]));
          bound[std::size_t(((b * s.out_channels + f) * oh + oy) * ow + ox)] = 2.5 * double(n) * u * sum_abs;
        }
  auto within_bound = [&](const std::vector<float>& y) {
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!(std::abs(double(y[i]) - double(naive[i])) <= bound[i])) return false;
    return true;
  };
  // llm.c's check: |y - y_ref| <= tol + |y_ref|.
  auto loose_check = [&](const std::vector<float>& y, double tol) {
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!(std::abs(double(y[i]) - double(naive[i])) <= tol + std::abs(double(naive[i])))) return false;
    return true;
  };
  std::printf("reals: im2col within the error bound of every output: %s\n", within_bound(im2col) ? "yes" : "no");

  // 3. A broken implementation that writes zeros everywhere.
  const std::vector<float> zeros(naive.size(), 0.0f);
  std::printf("all-zero output passes |y - ref| <= 1e-5 + |ref|: %s\n", loose_check(zeros, 1e-5) ? "yes" : "no");
  std::printf("all-zero output passes the error bound:          %s\n", within_bound(zeros) ? "yes" : "no");
}
