// fft (impls/fft) against naive, with a normwise error bound per output plane derived from the algorithm
// rather than picked.
//
// The bound (fft_bound.hpp computes it). Notation: N = Lh Lw points per transform plane, t = log2 N, F the
// unnormalised 2-D DFT (||F v||_2 = sqrt(N) ||v||_2, F* F = N I), u the unit roundoff, gamma_m = m u/(1 - m u).
// 1. One FFT. Each radix-2 stage k computes v_k = A_k v_(k-1), A_k / sqrt2 unitary (pairs (a, b) ->
//    (a + b, (a - b) w) forward, (a + w b, a - w b) inverse). The twiddles are rounded once from long double:
//    |w_computed - w| <= mu = u + 2^-60. Each computed output is the exact one of the computed inputs times
//    (1 + theta), |theta| <= mu + sqrt2 gamma_3 (1 + mu) for (a - b) w (complex sum u, complex product
//    sqrt2 gamma_2, Higham 3.6), or with error u |a +- w b| + (mu + sqrt2 gamma_2 (1 + mu))(1 + u) |b| <=
//    eta |(a + w b, a - w b)|_2 for the inverse pair (|b| <= |(a + wb, a - wb)|_2 / sqrt2); both below
//    eta = mu + gamma_4 (sqrt2 + mu). So ||fl(A_k v) - A_k v||_2 <= eta ||A_k v||_2 = eta sqrt2 ||v||_2, and
//    by induction over the t stages (along the height, then the width: t = log2 Lh + log2 Lw stages of the
//    same kind) ||fl(F v) - F v||_2 <= ((1 + eta)^t - 1) ||F v||_2 <= eps ||F v||_2,
//    eps = t eta / (1 - t eta): Higham, Accuracy and Stability of Numerical Algorithms, Theorem 24.2.
//    Butterflies of two zero rows are skipped (their outputs are exactly zero) and only the needed columns
//    of an inverse are finished: the same values as the whole transform's. The zero-padding, the
//    transposes, the swap of real and imaginary parts that turns the forward DIT into the inverse, and the
//    scaling by 1/N (a power of two) are exact.
// 2. Operands. For channel k of an output plane, a_k the weight plane, b_k the data plane (forward: w[f][c],
//    x[n][c]; input gradient: w[f][c], dy[n][f]), exact spectra A_k = F a_k, B_k = F b_k, with
//    ||A_k||_inf <= |a_k|_1 (every DFT value is a sum of the values times unit-modulus numbers) and
//    ||A_k||_2 = sqrt(N) |a_k|_2. Computed: A_k + E_k, B_k + G_k, ||E_k||_2 <= eps sqrt(N) |a_k|_2,
//    ||G_k||_2 <= eps sqrt(N) |b_k|_2; so ||A_k + E_k||_inf <= alpha_k = |a_k|_1 + eps sqrt(N) |a_k|_2 and
//    ||B_k + G_k||_inf <= beta_k likewise, ||B_k + G_k||_2 <= (1 + eps) sqrt(N) |b_k|_2.
// 3. Products and channel sum. P = sum_k conj(A_k) B_k (forward) or A_k B_k (input gradient), K terms. Each
//    real and imaginary part is a sum of 2K real products, in any order, with or without FMA: error
//    <= gamma_2K sum_k (|re re| + |im im|) <= gamma_2K sum_k |A||B| (Cauchy-Schwarz); so per frequency
//    |D| <= sqrt2 gamma_2K sum_k |A_k + E_k| |B_k + G_k|, and ||D||_2 <= sqrt2 gamma_2K sum_k alpha_k (1 + eps)
//    sqrt(N) |b_k|_2 (||p . q||_2 <= ||p||_inf ||q||_2). The perturbed operands move P by sum_k conj(E_k)
//    (B_k + G_k) + conj(A_k) G_k: ||.||_2 <= sum_k eps sqrt(N) (|a_k|_2 beta_k + |a_k|_1 |b_k|_2). Together
//    ||P_computed - P||_2 <= sqrt(N) R, R = sum_k [eps (|a_k|_2 beta_k + |a_k|_1 |b_k|_2)
//    + sqrt2 gamma_2K (1 + eps) alpha_k |b_k|_2].
// 4. Inverse. y = F* P / N is the exact circular result, which on the output plane is the exact output (the
//    transform size keeps the wrap-around in zeros: fft_conv.hpp). Computed F* P_c / N = (F* P_c + H) / N,
//    ||H||_2 <= eps sqrt(N) ||P_c||_2, so ||y_c - y||_2 <= (sqrt(N) ||P_c - P|| + eps sqrt(N) (||P|| +
//    ||P_c - P||)) / N <= (1 + eps) R + eps ||P||_2 / sqrt(N), and ||P||_2 / sqrt(N) = ||y||_2 <= S1 =
//    sum_k |a_k|_1 |b_k|_2 (step 2's inf-norm bound). Taking the real part and a sub-block (the output
//    plane) of the circular result only lowers the 2-norm of the error.
// 5. Bias (forward): fl(y_c + b) - (y + b) = (y_c - y) + delta (y_c + b), |delta| <= u: adds u ||y_c - y||
//    + u (S1 + |b| sqrt(oh ow)).
// The bound: per output plane, ||y_computed - y||_2 <= (1 + u)[(1 + eps) R + eps S1] + u (S1 + |b| sqrt(oh ow))
// (no bias: (1 + eps) R + eps S1). In 2-norms alone (|v|_1 <= sqrt(m) |v|_2): to first order
// u log2(N) (1 + 4 sqrt2) sum_k |a_k|_2 |b_k|_2 (sqrt(i_h i_w) + 2 sqrt(kh kw) + ...) + sqrt2 2K u ...: the
// error is normwise, of the size of the plane's largest outputs, whatever an output's own magnitude.
// The reference is naive in double on the same (possibly float) values: its own error, per output at most
// gamma_n(2^-53) S_i with S_i = sum |w x| (+ |b|) and n the direct sum's terms, adds gamma_n(2^-53) ||S||_2 per
// plane; the rounding of the norms themselves in double (relative ~1e-14) is covered by a factor 1 + 1e-12.
#include <omp.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "tests/derived_bound_support.hpp"
#include "impls/fft/fft_bound.hpp"
#include "impls/fft/fft_conv.hpp"
#include "tests/conv_tester.hpp"

namespace {

using namespace convlab::derived_bound;

using convlab::ConvImpl;
using convlab::ConvPass;
using convlab::ConvShape;
using convlab::Index;

// Plane tolerances: the FFT bound plus the double reference's gamma_n(2^-53) ||S||_2, times 1 + 1e-12.
template <typename T>
std::vector<double> tolerances(const ConvShape& s, ConvPass pass, const std::vector<double>& data,
                               const std::vector<double>& w, const std::vector<double>& b) {
  const double u = std::numeric_limits<T>::epsilon() / 2, u_reference = std::numeric_limits<double>::epsilon() / 2;
  std::vector<double> bound = convlab::fft_plane_error_bound(s, pass, u, data, w, b);
  const bool forward = pass == ConvPass::forward;
  std::vector<double> magnitudes(std::size_t(forward ? s.output_size() : s.input_size()));
  const std::vector<double> abs_b = absolute(b);
  if (forward) {
    impl("naive").forward(s, absolute(data).data(), absolute(w).data(), b.empty() ? nullptr : abs_b.data(),
                          magnitudes.data());
  } else {
    impl("naive").backward_input(s, absolute(data).data(), absolute(w).data(), magnitudes.data());
  }
  const double n = forward ? double(s.reduction_length() + 1) : double(s.out_channels * s.kernel_height * s.kernel_width);
  const std::size_t plane = magnitudes.size() / bound.size();
  for (std::size_t p = 0; p < bound.size(); ++p) {
    double squares = 0;
    for (std::size_t i = 0; i < plane; ++i) squares += magnitudes[p * plane + i] * magnitudes[p * plane + i];
    bound[p] = (bound[p] + gamma(n, u_reference) * std::sqrt(squares)) * (1 + 1e-12);
  }
  return bound;
}

// "" when every plane's ||got - want||_2 <= its bound (NaN fails); else how many fail and the first. `worst`
// gets the largest ratio.
template <typename T>
std::string outside_bound(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& bound,
                          double& worst) {
  const std::size_t plane = want.size() / bound.size();
  std::size_t failures = 0, first = 0;
  double first_error = 0;
  for (std::size_t p = 0; p < bound.size(); ++p) {
    double squares = 0;
    for (std::size_t i = 0; i < plane; ++i) {
      const double d = double(got[p * plane + i]) - want[p * plane + i];
      squares += d * d;
    }
    const double error = std::sqrt(squares);
    if (bound[p] > 0) worst = std::max(worst, error / bound[p]);
    if (!(error <= bound[p])) {
      if (failures++ == 0) first = p, first_error = error;
    }
  }
  if (failures == 0) return "";
  std::ostringstream text;
  text << std::setprecision(17) << failures << " of " << bound.size() << " planes outside the bound; first plane "
       << first << ": ||error||_2 " << first_error << ", bound " << bound[first];
  return text.str();
}

struct Worst {
  double forward = 0, input_gradient = 0;
};
std::map<std::string, Worst>& worst_ratios() {
  static std::map<std::string, Worst> table;
  return table;
}

// Forward (with and without bias) and backward_input of one shape and type: within the bound, bitwise the
// same on 1 and 2 threads, held weights bitwise the plain call's.
template <typename T>
void check_shape(const ConvShape& s, std::uint32_t seed) {
  const char* type = sizeof(T) == 4 ? "float" : "double";
  INFO("fft, " << type << ", " << s.describe());
  std::mt19937 engine(seed);
  const std::vector<double> x = rounded<T>(random_reals(s.input_size(), engine));
  const std::vector<double> w = rounded<T>(random_reals(s.weight_size(), engine));
  const std::vector<double> b = rounded<T>(random_reals(s.out_channels, engine));
  const std::vector<double> dy = rounded<T>(random_reals(s.output_size(), engine));
  const std::vector<T> xt = as<T>(x), wt = as<T>(w), bt = as<T>(b), dyt = as<T>(dy);
  ConvImpl& fft = impl("fft");
  ConvImpl& naive = impl("naive");
  ThreadCount threads;
  Worst& worst = worst_ratios()[type];
  ConvShape layer = s;
  layer.batch = 1;

  for (bool with_bias : {true, false}) {
    INFO((with_bias ? "forward with bias" : "forward without bias"));
    std::vector<double> want(std::size_t(s.output_size()));
    naive.forward(s, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
    const std::vector<double> bound = tolerances<T>(s, ConvPass::forward, x, w, with_bias ? b : std::vector<double>());
    std::vector<T> one = nans<T>(s.output_size()), two = nans<T>(s.output_size()), held = nans<T>(s.output_size());
    threads.set(1);
    fft.forward(s, xt.data(), wt.data(), with_bias ? bt.data() : nullptr, one.data());
    threads.set(2);
    fft.forward(s, xt.data(), wt.data(), with_bias ? bt.data() : nullptr, two.data());
    CHECK(outside_bound(two, want, bound, worst.forward) == "");
    CHECK(bitwise_equal(one, two));
    fft.hold_weights(layer, wt.data(), with_bias ? bt.data() : nullptr);
    fft.forward_held(s, xt.data(), held.data());
    CHECK(bitwise_equal(held, two));
  }
  {
    INFO("backward_input");
    std::vector<double> want(std::size_t(s.input_size()));
    naive.backward_input(s, dy.data(), w.data(), want.data());
    const std::vector<double> bound = tolerances<T>(s, ConvPass::backward_input, dy, w, {});
    std::vector<T> one = nans<T>(s.input_size()), two = nans<T>(s.input_size()), held = nans<T>(s.input_size());
    threads.set(1);
    fft.backward_input(s, dyt.data(), wt.data(), one.data());
    threads.set(2);
    fft.backward_input(s, dyt.data(), wt.data(), two.data());
    CHECK(outside_bound(two, want, bound, worst.input_gradient) == "");
    CHECK(bitwise_equal(one, two));
    fft.hold_weights(layer, wt.data(), bt.data());
    fft.backward_input_held(s, dyt.data(), held.data());
    CHECK(bitwise_equal(held, two));
  }
}

ConvShape square_layer(Index batch, Index in, Index out, Index height, Index width, Index window, Index pad) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = in;
  s.out_channels = out;
  s.in_height = height;
  s.in_width = width;
  s.kernel_height = s.kernel_width = window;
  s.pad_height = s.pad_width = pad;
  return s;
}

}  // namespace

TEST_CASE("fft: forward and input gradient within the derived bound over a sweep of shapes", "[fft]") {
  // Windows 1x1 to 7x7 and 11x11, every padding 0 .. k-1, widths 1 to 40 (each window meets a spread of
  // them), channel pairs from 1 to 33 (the 33-channel ones on the smaller windows: the sweep's time goes
  // into naive).
  const std::array<std::pair<Index, Index>, 6> channels = {{{1, 1}, {2, 3}, {5, 4}, {16, 17}, {33, 2}, {3, 33}}};
  std::uint32_t seed = 1;
  Index shapes = 0, width_cursor = 0;
  for (Index window : {1, 2, 3, 4, 5, 6, 7, 11})
    for (Index pad = 0; pad < window; ++pad)
      for (int variant = 0; variant < 2; ++variant) {
        const Index width = 1 + (width_cursor++ * 7) % 40;
        const Index height = 1 + (width * 5 + pad * 3 + variant) % 17;
        if (width + 2 * pad < window || height + 2 * pad < window) continue;
        const auto& [in, out] = channels[std::size_t(seed % (window <= 5 ? channels.size() : 3))];
        const Index batch = 1 + variant % 2;
        const ConvShape s = square_layer(batch, in, out, height, width, window, pad);
        REQUIRE(convlab::fft_unsupported(s).empty());
        check_shape<float>(s, seed);
        check_shape<double>(s, seed);
        ++seed;
        ++shapes;
      }
  // Every width 1 .. 40 once more, with a 5x5 window and padding 2 (and rectangular windows and paddings).
  for (Index width = 1; width <= 40; ++width) {
    ConvShape s = square_layer(2, 3, 2, 6, width, 5, 2);
    s.kernel_width = 1 + width % 5;
    s.pad_width = width % s.kernel_width;
    check_shape<float>(s, seed);
    check_shape<double>(s, seed);
    ++seed;
    ++shapes;
  }
  // A larger plane: 11x11 windows on 30x30 (a 64x64 transform plane).
  check_shape<float>(square_layer(1, 3, 4, 30, 30, 11, 5), seed);
  check_shape<double>(square_layer(1, 3, 4, 30, 30, 11, 5), seed);
  ++shapes;
  for (const auto& [type, worst] : worst_ratios()) {
    std::cout << "fft sweep: " << shapes << " shapes, " << type << ": max ||error||_2 / bound per plane: forward "
              << worst.forward << ", input gradient " << worst.input_gradient << "\n";
    CHECK(worst.forward < 1);
    CHECK(worst.input_gradient < 1);
    // Not vacuous: the worst plane comes within a factor 1000 of its bound.
    CHECK(worst.forward > 1e-3);
    CHECK(worst.input_gradient > 1e-3);
  }
}

// The bound is no formality: one output moved by 3 times its plane's bound is caught, by the same comparison.
TEST_CASE("fft: the comparison catches an output off by three times its plane's bound", "[fft]") {
  const ConvShape s = square_layer(2, 5, 4, 9, 10, 7, 3);
  std::mt19937 engine(7);
  const std::vector<double> x = rounded<float>(random_reals(s.input_size(), engine));
  const std::vector<double> w = rounded<float>(random_reals(s.weight_size(), engine));
  const std::vector<double> b = rounded<float>(random_reals(s.out_channels, engine));
  std::vector<double> want(std::size_t(s.output_size()));
  impl("naive").forward(s, x.data(), w.data(), b.data(), want.data());
  const std::vector<double> bound = tolerances<float>(s, ConvPass::forward, x, w, b);
  std::vector<float> got = nans<float>(s.output_size());
  const std::vector<float> xf = as<float>(x), wf = as<float>(w), bf = as<float>(b);
  impl("fft").forward(s, xf.data(), wf.data(), bf.data(), got.data());
  double worst = 0;
  REQUIRE(outside_bound(got, want, bound, worst) == "");
  CHECK(worst > 0);  // there is rounding error to bound
  const std::size_t plane = std::size_t(s.out_height() * s.out_width()), i = plane + 37;  // in plane 1
  std::vector<float> moved = got;
  moved[i] = float(want[i] + 3 * bound[1]);
  double ignored = 0;
  CHECK(outside_bound(moved, want, bound, ignored) != "");
  // The bound is tens of u times the plane's magnitudes, not a blanket tolerance: below 1e-4 of S1's size.
  double s1 = 0;
  for (std::size_t k = 0; k < plane; ++k) s1 += std::abs(want[plane + k]);
  CHECK(bound[1] < 1e-4 * s1);
}

// Spot checks of the transform size: the smallest power of two >= max(i + p, k, o) per axis.
TEST_CASE("fft: transform planes are just large enough to keep the wrap-around in zeros", "[fft]") {
  CHECK(convlab::fft_transform_size(square_layer(4, 32, 32, 28, 28, 7, 3)).height == 32);  // 31 -> 32
  CHECK(convlab::fft_transform_size(square_layer(1, 1, 1, 28, 28, 5, 0)).width == 32);     // 28 -> 32
  CHECK(convlab::fft_transform_size(square_layer(1, 1, 1, 33, 33, 3, 1)).width == 64);     // 34 -> 64
  CHECK(convlab::fft_transform_size(square_layer(1, 1, 1, 1, 1, 5, 4)).height == 8);       // o = 5, k = 5, i + p = 5
  CHECK(convlab::fft_transform_size(square_layer(1, 1, 1, 2, 2, 2, 1)).height == 4);       // o = 3
}

TEST_CASE("fft: strided layers and layers beyond its limits are refused with the reason", "[fft]") {
  ConvShape strided = square_layer(1, 2, 3, 9, 9, 5, 1);
  strided.stride_height = strided.stride_width = 2;
  ConvShape tall = strided;
  tall.stride_width = 1;
  const std::string why = convlab::fft_unsupported(strided);
  CHECK(why.find("stride 2") != std::string::npos);
  CHECK(why.find(strided.describe()) != std::string::npos);
  CHECK(convlab::fft_unsupported(tall).find("stride 2x1") != std::string::npos);
  const convlab::ConvImplInfo& info = convlab::conv_implementation("fft");
  CHECK(info.why_unsupported(strided, ConvPass::forward) == why);
  CHECK(info.supports(strided, ConvPass::backward_weights));  // simd's, any shape
  for (const ConvShape& s : {strided, tall}) {
    INFO(s.describe());
    std::vector<float> x(std::size_t(s.input_size()), 1.0f), w(std::size_t(s.weight_size()), 1.0f);
    std::vector<float> y(std::size_t(s.output_size())), dw(w.size());
    CHECK_THROWS_MATCHES(impl("fft").forward(s, x.data(), w.data(), nullptr, y.data()), convlab::ConvShapeError,
                         Catch::Matchers::Message(convlab::fft_unsupported(s)));
    CHECK_THROWS_AS(impl("fft").backward_input(s, y.data(), w.data(), x.data()), convlab::ConvShapeError);
    CHECK_NOTHROW(impl("fft").backward_weights(s, x.data(), y.data(), dw.data(), nullptr));
  }
  // Too large a transform plane, and too many spectra: refused by the layer alone (nothing is allocated).
  const ConvShape huge_plane = square_layer(1, 1, 1, 1500, 1500, 3, 1);
  CHECK(convlab::fft_unsupported(huge_plane).find("2048x2048") != std::string::npos);
  const ConvShape many_channels = square_layer(64, 512, 512, 28, 28, 3, 1);
  CHECK(convlab::fft_unsupported(many_channels).find("MiB") != std::string::npos);
  CHECK(convlab::fft_unsupported(square_layer(64, 64, 64, 28, 28, 7, 3)).empty());
}

// The generic contract (tests/conv_tester.cpp): NaN-filled outputs overwritten, 1 and 2 threads bitwise,
// held weights, the delegated weight gradient exact on small integers and within the direct-sum bound.
TEST_CASE("fft: the cross-check tester's contract on large windows", "[fft]") {
  using convlab::testing::ConvTester;
  ConvTester().batch(2).in_channels(3).out_channels(4).image(13, 11).window(9, 7).padding(4, 2).test_all("fft");
  ConvTester().batch(1).in_channels(2).out_channels(2).image(5, 6).window(5).padding(4).test_all("fft");
  ConvTester().batch(3).in_channels(1).out_channels(20).image(28).window(5).test_all("fft");
}
