// winograd2 and winograd4 (impls/winograd) against naive, with a per-output error bound derived from the
// algorithm rather than picked.
//
// The bound. A Winograd output tile is the bilinear form y = A^T [ sum_c (G g_c G^T) . (B^T d_c B) ] A (+ b),
// g_c the 3x3 window of channel c, d_c the input patch, "." elementwise. Expanded, y is a sum of terms
// (coefficient) * g * d (and the bias); in floating point with unit roundoff u, each term reaches the output
// through a chain of operations, each multiplying it by some (1 + delta), |delta| <= u: the additions of a
// 1-D transform it passes through, a product by a constant (exact for 0, +-1, +-2, +-4, +-8, +-1/2, +-1/4;
// an inexact constant such as 1/6 is first rounded to the type, one more (1 + delta), and the product
// rounds again), the product U * V and the channel sum, the output transform and the bias add. With K the
// largest number of such factors on any term's chain, Higham's lemma (Accuracy and Stability of Numerical
// Algorithms, 3.1 and 3.4: prod (1 + delta_i)^(+-1) = 1 + theta_K, |theta_K| <= gamma_K = K u / (1 - K u))
// gives, as for any sum of products (see Barabasz, Anderson, Soodhalter, Gregg 2020 for Winograd),
//   |y_computed - y| <= gamma_K * E,  E = |A|^T [ sum_c (|G| |g_c| |G|^T) . (|B|^T |d_c| |B|) ] |A| + |b|
// (every matrix and tensor entrywise in absolute value; a coefficient that the code splits into two parts of
// one sign, as B^T's -5 = -1 - 4, keeps its absolute value). K counted from impls/winograd/winograd_conv.cpp
// (winograd_rounding_count in impls/winograd/winograd_conv.hpp computes it):
//   F(2x2, 3x3): G g G^T   2 x 2 (per 1-D pass: (g0 + g2) + g1, halving exact)               4
//                B^T d B   2 x 1 (d0 - d2 and so on)                                          2
//                products and channel sum (gemm, any order, with or without FMA)              C
//                A^T M A   2 x 2 ((m0 + m1) + m2, (m1 - m2) - m3)                             4
//                bias add                                                                     1
//                K = C + 11 (C + 10 without bias)
//   F(4x4, 3x3): G g G^T   2 x 4 ((g0 + g2) + g1, or (g0 + 4 g2) + 2 g1: two additions; the constant
//                          -1/6 or 1/24 rounded to the type; the product)                    8
//                B^T d B   2 x 2 ((d4 - d2) + 4 (d0 - d2) and so on)                          4
//                products and channel sum                                                     C
//                A^T M A   2 x 3 ((m0 + (m1 + m2)) + (m3 + m4), ((m1 - m2) + 8 (m3 - m4)) + m5)  6
//                bias add                                                                     1
//                K = C + 19 (C + 18 without bias)
// C is the length of the channel sum: in_channels for forward, out_channels for backward_input (which is
// the forward algorithm on the flipped, transposed weights, padding 2 - pad, no bias).
// The weight gradient is the transposed form dw = G^T [ sum over the batch's T tiles (A dy A^T) . (B^T d B) ] G
// (winograd_conv.cpp), so the same argument gives |dw_computed - dw| <= gamma_K E_w with E_w that form in
// absolute values (winograd_weight_gradient_scale) and K = 2 T + 8 (F(2x2): A dy A^T 1 + 1, B^T d B 2, the
// products and the sum over tiles chunk by chunk at most T + chunks <= 2 T, G^T dU G 2 + 2) or 2 T + 18
// (F(4x4): 2 + 2, 4, 2 T, 5 + 5; winograd_weight_gradient_rounding_count). The reference's own error is
// gamma_n(2^-53) sum |x dy| with n = batch x output pixels.
// The reference is naive in double (on the same, possibly float, values): its own error, at most
// gamma_n(2^-53) * S with n = 9 C + 1 and S = sum |w x| + |b| the direct sum's magnitudes, is added to the
// tolerance; the rounding of E and S themselves in double (relative ~1e-14) is covered by a factor 1 + 1e-12.
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
#include "tests/remembered.hpp"
#include "impls/winograd/winograd_bound.hpp"
#include "impls/winograd/winograd_conv.hpp"
#include "impls/winograd/winograd_gather.hpp"

namespace {

using namespace convlab::derived_bound;

using convlab::ConvImpl;
using convlab::ConvShape;
using convlab::Index;

// "" when |got - want| <= bound everywhere (NaN fails); else how many fail and the first. `worst` gets the
// largest |got - want| / bound.
template <typename T>
std::string outside_bound(const std::vector<T>& got, const std::vector<double>& want, const std::vector<double>& bound,
                          double& worst) {
  std::size_t failures = 0, first = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double error = std::abs(double(got[i]) - want[i]);
    if (bound[i] > 0) worst = std::max(worst, error / bound[i]);
    if (!(error <= bound[i])) {
      if (failures++ == 0) first = i;
    }
  }
  if (failures == 0) return "";
  std::ostringstream text;
  text << std::setprecision(17) << failures << " of " << want.size() << " outside the bound; first at " << first
       << ": got " << double(got[first]) << ", reference " << want[first] << ", bound " << bound[first];
  return text.str();
}

// Tolerances gamma_K(u) E + gamma_n(2^-53) S (1 + 1e-12) for the forward pass of `s` (see the top).
template <typename T>
std::vector<double> tolerances(int tile, const ConvShape& s, const std::vector<double>& x, const std::vector<double>& w,
                               const std::vector<double>& b) {
  const double u = std::numeric_limits<T>::epsilon() / 2, u_reference = std::numeric_limits<double>::epsilon() / 2;
  const std::vector<double> e = convlab::winograd_error_scale(tile, s, x, w, b);
  std::vector<double> direct(std::size_t(s.output_size()));
  const std::vector<double> abs_b = absolute(b);
  impl("naive").forward(s, absolute(x).data(), absolute(w).data(), b.empty() ? nullptr : abs_b.data(), direct.data());
  const double k = convlab::winograd_rounding_count(tile, s.in_channels, !b.empty());
  const double n = double(9 * s.in_channels + 1);
  std::vector<double> bound(e.size());
  for (std::size_t i = 0; i < e.size(); ++i) bound[i] = (gamma(k, u) * e[i] + gamma(n, u_reference) * direct[i]) * (1 + 1e-12);
  return bound;
}

// Tolerances gamma_K(u) E_w + gamma_n(2^-53) S_w (1 + 1e-12) for the weight gradient of `s` (see the top):
// E_w from winograd_weight_gradient_scale, S_w = sum |x dy| per weight (naive on absolute values), n the
// reference's sum length (batch x output pixels).
template <typename T>
std::vector<double> weight_tolerances(int tile, const ConvShape& s, const std::vector<double>& x,
                                      const std::vector<double>& dy) {
  const double u = std::numeric_limits<T>::epsilon() / 2, u_reference = std::numeric_limits<double>::epsilon() / 2;
  const std::vector<double> e = convlab::winograd_weight_gradient_scale(tile, s, x, dy);
  std::vector<double> direct(std::size_t(s.weight_size())), direct_bias(std::size_t(s.out_channels));
  impl("naive").backward_weights(s, absolute(x).data(), absolute(dy).data(), direct.data(), direct_bias.data());
  const Index tiles = s.batch * ((s.out_height() + tile - 1) / tile) * ((s.out_width() + tile - 1) / tile);
  const double k = convlab::winograd_weight_gradient_rounding_count(tile, tiles);
  const double n = double(s.batch * s.out_height() * s.out_width());
  std::vector<double> bound(e.size());
  for (std::size_t i = 0; i < e.size(); ++i) bound[i] = (gamma(k, u) * e[i] + gamma(n, u_reference) * direct[i]) * (1 + 1e-12);
  return bound;
}

struct Worst {
  double forward = 0, input_gradient = 0, weight_gradient = 0;
};
std::map<std::string, Worst>& worst_ratios() {
  static std::map<std::string, Worst> table;
  return table;
}

struct Padding {
  Index rows, cols;
};

// A height x width image under 3x3 windows at stride 1, padded by `pad`.
ConvShape layer_3x3(Index batch, Index channels, Index filters, Index height, Index width, Padding pad) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = channels;
  s.out_channels = filters;
  s.in_height = height;
  s.in_width = width;
  s.kernel_height = s.kernel_width = 3;
  s.pad_height = pad.rows;
  s.pad_width = pad.cols;
  return s;
}

// A square image of `size` under 3x3 windows at stride 1, padding 1 (the shape of the chunking cases).
ConvShape padded_3x3_layer(Index batch, Index channels, Index filters, Index size) {
  return layer_3x3(batch, channels, filters, size, size, {1, 1});
}

// naive's results for check_shape's operands (in double, on the operands rounded to T), remembered for the last
// shape and seed: the sweeps check both tile sizes on the same operands, and naive is much of their time.
template <typename T>
struct NaiveWant {
  std::vector<double> forward, forward_no_bias, input_grad, weight_grad;
  std::vector<T> bias_grad_in_t;  // the bias gradient summed in T (winograd's must equal it bit for bit)
};
template <typename T>
const NaiveWant<T>& naive_want(const ConvShape& s, std::uint32_t seed, const std::vector<double>& x,
                               const std::vector<double>& w, const std::vector<double>& b,
                               const std::vector<double>& dy) {
  static std::vector<std::pair<std::string, NaiveWant<T>>> last;
  return convlab::testing::remembered(last, 1, s.describe() + " seed " + std::to_string(seed), [&] {
    ConvImpl& naive = impl("naive");
    NaiveWant<T> r;
    r.forward.resize(std::size_t(s.output_size()));
    r.forward_no_bias.resize(std::size_t(s.output_size()));
    r.input_grad.resize(std::size_t(s.input_size()));
    r.weight_grad.resize(std::size_t(s.weight_size()));
    naive.forward(s, x.data(), w.data(), b.data(), r.forward.data());
    naive.forward(s, x.data(), w.data(), nullptr, r.forward_no_bias.data());
    naive.backward_input(s, dy.data(), w.data(), r.input_grad.data());
    naive.backward_weights(s, x.data(), dy.data(), r.weight_grad.data(), nullptr);
    const std::vector<T> xt = as<T>(x), dyt = as<T>(dy);
    std::vector<T> weight_grad_in_t(std::size_t(s.weight_size()));
    r.bias_grad_in_t.resize(std::size_t(s.out_channels));
    naive.backward_weights(s, xt.data(), dyt.data(), weight_grad_in_t.data(), r.bias_grad_in_t.data());
    return r;
  });
}

// Forward (with and without bias) and backward_input of one shape, one type, one tile size.
template <typename T>
void check_shape(int tile, const ConvShape& s, std::uint32_t seed) {
  const std::string name = tile == 2 ? "winograd2" : "winograd4";
  const char* type = sizeof(T) == 4 ? "float" : "double";
  INFO(name << ", " << type << ", " << s.describe());
  std::mt19937 engine(seed);
  const std::vector<double> x = rounded<T>(random_reals(s.input_size(), engine));
  const std::vector<double> w = rounded<T>(random_reals(s.weight_size(), engine));
  const std::vector<double> b = rounded<T>(random_reals(s.out_channels, engine));
  const std::vector<double> dy = rounded<T>(random_reals(s.output_size(), engine));
  const std::vector<T> xt = as<T>(x), wt = as<T>(w), bt = as<T>(b), dyt = as<T>(dy);
  ConvImpl& winograd = impl(name);
  const NaiveWant<T>& naive = naive_want<T>(s, seed, x, w, b, dy);
  ThreadCount threads;
  Worst& worst = worst_ratios()[name + " " + type];

  // forward, with bias and without
  for (bool with_bias : {true, false}) {
    INFO((with_bias ? "forward with bias" : "forward without bias"));
    const std::vector<double> no_bias;
    const std::vector<double>& want = with_bias ? naive.forward : naive.forward_no_bias;
    const std::vector<double> bound = tolerances<T>(tile, s, x, w, with_bias ? b : no_bias);
    std::vector<T> one = nans<T>(s.output_size()), two = nans<T>(s.output_size()), held = nans<T>(s.output_size());
    threads.set(1);
    winograd.forward(s, xt.data(), wt.data(), with_bias ? bt.data() : nullptr, one.data());
    threads.set(2);
    winograd.forward(s, xt.data(), wt.data(), with_bias ? bt.data() : nullptr, two.data());
    CHECK(outside_bound(two, want, bound, worst.forward) == "");
    CHECK(bitwise_equal(one, two));
    ConvShape layer = s;
    layer.batch = 1;
    winograd.hold_weights(layer, wt.data(), with_bias ? bt.data() : nullptr);
    winograd.forward_held(s, xt.data(), held.data());
    CHECK(bitwise_equal(held, two));
  }

  // backward_input: the forward bound of the transposed layer (no bias)
  {
    INFO("backward_input");
    const ConvShape t = convlab::winograd_transposed_layer(s);
    const std::vector<double>& want = naive.input_grad;
    const std::vector<double> bound = tolerances<T>(tile, t, convlab::winograd_cropped_output_gradient(s, dy),
                                                    convlab::winograd_flipped_transposed(s, w), {});
    std::vector<T> one = nans<T>(s.input_size()), two = nans<T>(s.input_size()), held = nans<T>(s.input_size());
    threads.set(1);
    winograd.backward_input(s, dyt.data(), wt.data(), one.data());
    threads.set(2);
    winograd.backward_input(s, dyt.data(), wt.data(), two.data());
    CHECK(outside_bound(two, want, bound, worst.input_gradient) == "");
    CHECK(bitwise_equal(one, two));
    ConvShape layer = s;
    layer.batch = 1;
    winograd.hold_weights(layer, wt.data(), bt.data());
    winograd.backward_input_held(s, dyt.data(), held.data());
    CHECK(bitwise_equal(held, two));
  }

  // backward_weights: its own transforms (A dy A^T, B^T d B, G^T dU G) and the sum over the batch's tiles
  {
    INFO("backward_weights");
    const std::vector<double>& want = naive.weight_grad;
    const std::vector<double> bound = weight_tolerances<T>(tile, s, x, dy);
    std::vector<T> one = nans<T>(s.weight_size()), two = nans<T>(s.weight_size());
    std::vector<T> one_bias = nans<T>(s.out_channels), two_bias = nans<T>(s.out_channels);
    threads.set(1);
    winograd.backward_weights(s, xt.data(), dyt.data(), one.data(), one_bias.data());
    threads.set(2);
    winograd.backward_weights(s, xt.data(), dyt.data(), two.data(), two_bias.data());
    CHECK(outside_bound(two, want, bound, worst.weight_gradient) == "");
    CHECK(bitwise_equal(one, two));
    CHECK(bitwise_equal(one_bias, two_bias));
    // The bias gradient is a plain sum in naive's order: equal to naive's in T.
    CHECK(bitwise_equal(two_bias, naive.bias_grad_in_t));
  }
}

// Every sweep so far within its bounds, in every pass (the ratios check_shape recorded).
void check_worst_ratios_below_one() {
  for (const auto& [name, worst] : worst_ratios()) {
    INFO(name);
    CHECK(worst.forward < 1);
    CHECK(worst.input_gradient < 1);
    CHECK(worst.weight_gradient < 1);
  }
}

}  // namespace

TEST_CASE("winograd: forward, input and weight gradients within the derived bounds over a sweep of shapes", "[winograd][heavy]") {
  const std::array<std::pair<Index, Index>, 5> channels = {{{1, 2}, {2, 16}, {16, 17}, {17, 33}, {33, 1}}};
  const std::array<std::pair<Index, Index>, 6> images = {{{1, 1}, {3, 3}, {5, 7}, {8, 8}, {13, 11}, {30, 30}}};
  const std::array<Padding, 4> paddings = {{{0, 0}, {1, 1}, {2, 2}, {0, 1}}};
  std::uint32_t seed = 1;
  for (const auto& [in, out] : channels)
    for (const auto& [height, width] : images)
      for (const Padding& pad : paddings)
        for (Index batch : {1, 3}) {
          const ConvShape s = layer_3x3(batch, in, out, height, width, pad);
          if (height + 2 * pad.rows < 3 || width + 2 * pad.cols < 3) continue;  // no output
          // The large images with few channel pairs only: the sweep's time goes into naive and E.
          if (height == 30 && batch == 3 && in * out > 300) continue;
          REQUIRE(convlab::winograd_unsupported(s).empty());
          for (int tile : {2, 4}) {
            check_shape<float>(tile, s, seed);
            check_shape<double>(tile, s, seed);
          }
          ++seed;
        }
  for (const auto& [name, worst] : worst_ratios())
    std::cout << "winograd sweep: " << name << ": max |error| / bound: forward " << worst.forward
              << ", input gradient " << worst.input_gradient << ", weight gradient " << worst.weight_gradient << "\n";
  check_worst_ratios_below_one();
}

// Padding of 3 and more per side: the outputs near the border see only zeros (the bias), and the input gradient,
// whose transposed layer would pad by 2 - pad < 0, reads dy without its outer pad - 2 rows and columns instead.
// Every pass within its bound, one and two threads the same bits (check_shape), for both tiles and types.
TEST_CASE("winograd: paddings of 3 and more, the input gradient's dy cropped", "[winograd]") {
  const std::array<Padding, 4> paddings = {{{3, 3}, {4, 2}, {0, 5}, {3, 0}}};
  const std::array<std::pair<Index, Index>, 3> images = {{{1, 1}, {5, 7}, {9, 8}}};
  std::uint32_t seed = 500;
  for (const Padding& pad : paddings)
    for (const auto& [height, width] : images)
      for (const auto& [in, out] : std::array<std::pair<Index, Index>, 2>{{{2, 3}, {17, 16}}}) {
        const ConvShape s = layer_3x3(2, in, out, height, width, pad);
        if (height + 2 * pad.rows < 3 || width + 2 * pad.cols < 3) continue;  // no output
        REQUIRE(convlab::winograd_unsupported(s).empty());
        CHECK(convlab::winograd_crops_output_gradient(s));
        const ConvShape t = convlab::winograd_transposed_layer(s);
        CHECK(t.out_height() == s.in_height);
        CHECK(t.out_width() == s.in_width);
        for (int tile : {2, 4}) {
          check_shape<float>(tile, s, seed);
          check_shape<double>(tile, s, seed);
        }
        ++seed;
      }
  check_worst_ratios_below_one();
}

// Layers that are a single chunk take the path where both threads run the chunk together, each over its part of
// the filters: the same bounds, and the bits of one thread. Chunks that share out well enough keep the threads on
// whole chunks; a chunk width that two threads would share badly gives way to a narrower one.
TEST_CASE("winograd: tiles cut into chunks two threads share well, each way within the bound and one thread's bits", "[winograd][heavy]") {
  struct Case {
    Index batch, channels, filters, size;
    int tile;
    Index chunks;
    bool shared;
  };
  // 28x28 at F(4x4): 49 tiles, one chunk; 14x14 at F(2x2): 49 tiles; 17 and 37 filters cut into parts of 8 and 9,
  // 18 and 19 (no part a whole number of the gemm's 8-row tiles). Two 48x48 images at F(4x4): 288 tiles in three
  // chunks of 96 (two for one thread: 1.33 shares). 56x56 at F(4x4): 196 tiles in chunks of 96, 96, 4; four
  // such images, 784 tiles, in five chunks of 192 (the last 16), not four of 240 (the last 64), which would
  // leave one thread 480 tiles and the other 304.
  for (const Case& c : {Case{1, 32, 32, 28, 4, 1, true}, Case{1, 48, 48, 14, 2, 1, true}, Case{1, 40, 17, 28, 4, 1, true},
                        Case{1, 40, 37, 14, 2, 1, true}, Case{2, 16, 16, 48, 4, 3, false},
                        Case{1, 16, 16, 56, 4, 3, false}, Case{4, 16, 16, 56, 4, 5, false}}) {
    const ConvShape s = padded_3x3_layer(c.batch, c.channels, c.filters, c.size);
    const convlab::WinogradChunking cut = convlab::winograd_chunking(s, c.tile, sizeof(float), 2);
    INFO(s.describe() << ": " << cut.tiles << " tiles in " << cut.chunks << " chunks of " << cut.chunk_tiles);
    REQUIRE(cut.chunks == c.chunks);
    REQUIRE(cut.threads == 2);
    REQUIRE(cut.shared == c.shared);
    check_shape<float>(c.tile, s, 7);
    check_shape<double>(c.tile, s, 8);
  }
}

// Layers whose tiles fit one vector (16 floats, 8 doubles) with at least as many filters run their products
// transposed, U stored in panels of 48 filters (24 doubles): panel tails (100 = 48 + 48 + 4 filters), a last
// panel of one vector or less, and two threads splitting the filters at a panel boundary (1.6 M multiply-adds
// or more: both threads). The same bounds, and the bits of one thread and of held weights.
TEST_CASE("winograd: products transposed where the tiles fit one vector, within the bound and one thread's bits", "[winograd]") {
  struct Case {
    Index batch, channels, filters, size;
    int tile;
    bool float_transposed, double_transposed, shared;
  };
  // 7x7: 16 tiles at F(2x2), 4 at F(4x4); 14x14 at F(4x4): 16; 8x8 at F(2x2), batch 2: 32 (not transposed).
  for (const Case& c : {Case{1, 64, 100, 7, 2, true, false, true}, Case{1, 70, 130, 14, 4, true, false, true},
                        Case{1, 128, 60, 7, 4, true, true, true}, Case{1, 9, 17, 7, 4, true, true, false},
                        Case{1, 9, 7, 7, 4, false, false, false}, Case{2, 20, 64, 8, 2, false, false, false}}) {
    const ConvShape s = padded_3x3_layer(c.batch, c.channels, c.filters, c.size);
    const convlab::WinogradChunking as_float = convlab::winograd_chunking(s, c.tile, sizeof(float), 2);
    const convlab::WinogradChunking as_double = convlab::winograd_chunking(s, c.tile, sizeof(double), 2);
    INFO(s.describe() << ", F(" << c.tile << "x" << c.tile << "): " << as_float.tiles << " tiles");
    REQUIRE(as_float.products_transposed == c.float_transposed);
    REQUIRE(as_double.products_transposed == c.double_transposed);
    REQUIRE(as_float.shared == c.shared);
    check_shape<float>(c.tile, s, 11);
    check_shape<double>(c.tile, s, 12);
  }
}

// Layers with 64 or more input channels and too few tiles for two tile parts take the weight gradient's path
// with two channel groups, each transformed and multiplied by one thread; 70 channels make groups of 48 and 22.
// Where the products and G^T dU G run block by block (floats, AVX-512 builds: the weight gradient's "fused"
// path), the blocks take up to 4 vectors of channels and 6-12 filters: 70 channels in groups of 32 and 38 (2 and
// 3 vectors, the last lanes masked), 150 in 80 and 70 (5 vectors each: blocks of 3 and 2), and filter counts
// split into even blocks (16 as 8 + 8, 24 as 8 + 8 + 8 or 12 + 12, 3 in one). Doubles take the plain products.
constexpr bool kFusedGradientBuilt =
#if defined(__AVX512F__)
    true;
#else
    false;
#endif

TEST_CASE("winograd: weight gradients by channel groups match the bound and one thread's bits", "[winograd]") {
  struct Case {
    Index batch, channels, filters, size;
  };
  for (const Case& c : {Case{2, 70, 16, 12}, Case{1, 64, 3, 9}, Case{1, 150, 24, 12}}) {
    const ConvShape s = padded_3x3_layer(c.batch, c.channels, c.filters, c.size);
    for (int tile : {2, 4}) {
      const convlab::WinogradChunking cut = convlab::winograd_chunking(s, tile, sizeof(float), 2);
      REQUIRE(cut.gradient_groups == 2);
      REQUIRE(cut.gradient_tile_parts == 1);
      REQUIRE(cut.gradient_fused == kFusedGradientBuilt);
      REQUIRE_FALSE(convlab::winograd_chunking(s, tile, sizeof(double), 2).gradient_fused);
      check_shape<float>(tile, s, 11);
      check_shape<double>(tile, s, 12);
    }
  }
}

// One group of channels (fewer than 64), work enough for two threads: the fused path splits the filters in two
// halves instead (23 and 24 of 47).
TEST_CASE("winograd: weight gradients of one channel group match the bound and one thread's bits", "[winograd]") {
  const ConvShape s = padded_3x3_layer(2, 40, 47, 12);
  for (int tile : {2, 4}) {
    const convlab::WinogradChunking cut = convlab::winograd_chunking(s, tile, sizeof(float), 2);
    INFO(s.describe() << " at F(" << tile << "x" << tile << "): " << cut.tiles << " tiles");
    REQUIRE(cut.gradient_groups == 1);
    REQUIRE(cut.gradient_tile_parts == 1);
    REQUIRE(cut.threads == 2);
    REQUIRE(cut.gradient_fused == kFusedGradientBuilt);
    check_shape<float>(tile, s, 15);
  }
}

// With at least 96 tiles (and work enough for two threads) the weight gradient's tiles are cut in two halves,
// each summed into a dU of its own: 100 tiles, one chunk per part (batch 4 at F(4x4), batch 1 at F(2x2));
// 500 tiles at F(4x4) (parts of 250, two chunks each, the second a short one) and 2000 at F(2x2); channel
// counts off the 16-lane lines.
TEST_CASE("winograd: weight gradients by tile parts match the bound and one thread's bits", "[winograd]") {
  struct Case {
    Index batch, channels, filters, size;
    int tile;
  };
  for (const Case& c : {Case{4, 20, 20, 20, 4}, Case{1, 32, 32, 20, 2}, Case{20, 17, 19, 20, 4},
                        Case{20, 17, 19, 20, 2}}) {
    const ConvShape s = padded_3x3_layer(c.batch, c.channels, c.filters, c.size);
    const convlab::WinogradChunking cut = convlab::winograd_chunking(s, c.tile, sizeof(float), 2);
    INFO(s.describe() << " at F(" << c.tile << "x" << c.tile << "): " << cut.tiles << " tiles");
    REQUIRE(cut.gradient_tile_parts == 2);
    // Fused where each part is one chunk (the first two cases).
    REQUIRE(cut.gradient_fused == (kFusedGradientBuilt && c.batch < 20));
    check_shape<float>(c.tile, s, 13);
    check_shape<double>(c.tile, s, 14);
  }
}

// The bound is no formality: an output moved by 3 times its bound is caught, by the same comparison.
TEST_CASE("winograd: the comparison catches an output off by three times its bound", "[winograd]") {
  ConvShape s;
  s.batch = 2;
  s.in_channels = 5;
  s.out_channels = 4;
  s.in_height = 9;
  s.in_width = 10;
  s.kernel_height = s.kernel_width = 3;
  s.pad_height = s.pad_width = 1;
  std::mt19937 engine(7);
  const std::vector<double> x = rounded<float>(random_reals(s.input_size(), engine));
  const std::vector<double> w = rounded<float>(random_reals(s.weight_size(), engine));
  const std::vector<double> b = rounded<float>(random_reals(s.out_channels, engine));
  for (int tile : {2, 4}) {
    INFO("tile " << tile);
    std::vector<double> want(std::size_t(s.output_size()));
    impl("naive").forward(s, x.data(), w.data(), b.data(), want.data());
    const std::vector<double> bound = tolerances<float>(tile, s, x, w, b);
    std::vector<float> got = nans<float>(s.output_size());
    const std::vector<float> xf = as<float>(x), wf = as<float>(w), bf = as<float>(b);
    impl(tile == 2 ? "winograd2" : "winograd4").forward(s, xf.data(), wf.data(), bf.data(), got.data());
    double worst = 0;
    REQUIRE(outside_bound(got, want, bound, worst) == "");
    CHECK(worst > 0);  // there is rounding error to bound
    const std::size_t i = 37;
    std::vector<float> moved = got;
    moved[i] = float(want[i] + 3 * bound[i]);
    double ignored = 0;
    CHECK(outside_bound(moved, want, bound, ignored) != "");
    // The bound is a few ulp of the output's magnitudes per channel, not a blanket tolerance: below 1e-4 of E.
    CHECK(bound[i] < 1e-4 * convlab::winograd_error_scale(tile, s, x, w, b)[i]);
  }
}

// F(2x2, 3x3)'s constants are 0, +-1 and +-1/2: on small integers every intermediate value is a multiple of
// 1/4 far below 2^53, so in double every operation is exact and the results equal naive's exactly.
// (F(4x4, 3x3)'s 1/6 and 1/24 are not exact in binary: its results on integers are not exact.)
TEST_CASE("winograd: F(2x2, 3x3) is exact on small integers in double", "[winograd]") {
  std::mt19937 engine(11);
  std::uniform_int_distribution<int> pick(-2, 2);
  const auto integers = [&](Index count) {
    std::vector<double> values(static_cast<std::size_t>(count));
    for (double& value : values) value = pick(engine);
    return values;
  };
  for (Index channels : {1, 3, 17})
    for (Index pad : {0, 1, 2, 3, 4}) {
      ConvShape s;
      s.batch = 2;
      s.in_channels = channels;
      s.out_channels = 20 - channels;
      s.in_height = 7;
      s.in_width = 6;
      s.kernel_height = s.kernel_width = 3;
      s.pad_height = pad;
      s.pad_width = 4 - pad;  // 3 and 4 on one side: the input gradient crops dy there
      INFO(s.describe());
      const std::vector<double> x = integers(s.input_size()), w = integers(s.weight_size()), b = integers(s.out_channels),
                                dy = integers(s.output_size());
      std::vector<double> want(std::size_t(s.output_size())), got = nans<double>(s.output_size());
      impl("naive").forward(s, x.data(), w.data(), b.data(), want.data());
      impl("winograd2").forward(s, x.data(), w.data(), b.data(), got.data());
      CHECK(got == want);
      std::vector<double> want_dx(std::size_t(s.input_size())), got_dx = nans<double>(s.input_size());
      impl("naive").backward_input(s, dy.data(), w.data(), want_dx.data());
      impl("winograd2").backward_input(s, dy.data(), w.data(), got_dx.data());
      CHECK(got_dx == want_dx);
    }
}

TEST_CASE("winograd: other windows and strides are refused with the reason", "[winograd]") {
  ConvShape five;
  five.in_channels = 2;
  five.out_channels = 3;
  five.in_height = five.in_width = 9;
  five.kernel_height = five.kernel_width = 5;
  ConvShape strided = five;
  strided.kernel_height = strided.kernel_width = 3;
  strided.stride_height = strided.stride_width = 2;
  ConvShape wide_pad = strided;
  wide_pad.stride_height = wide_pad.stride_width = 1;
  wide_pad.pad_height = 3;
  CHECK(convlab::winograd_unsupported(five).find("5x5 window") != std::string::npos);
  CHECK(convlab::winograd_unsupported(strided).find("stride 2") != std::string::npos);
  CHECK(convlab::winograd_unsupported(wide_pad).empty());  // any padding (wider ones: their own test case)
  for (const char* name : {"winograd2", "winograd4"}) {
    for (const ConvShape& s : {five, strided}) {
      INFO(name << ", " << s.describe());
      std::vector<float> x(std::size_t(s.input_size()), 1.0f), w(std::size_t(s.weight_size()), 1.0f);
      std::vector<float> y(std::size_t(s.output_size()));
      CHECK_THROWS_MATCHES(impl(name).forward(s, x.data(), w.data(), nullptr, y.data()), convlab::ConvShapeError,
                           Catch::Matchers::Message(convlab::winograd_unsupported(s, name[8] - '0')));
      CHECK_THROWS_WITH(impl(name).backward_input(s, y.data(), w.data(), x.data()), Catch::Contains("3x3"));
      CHECK_THROWS_AS(impl(name).backward_input(s, y.data(), w.data(), x.data()), convlab::ConvShapeError);
      // The weight gradient is Winograd's too: the same refusal.
      std::vector<float> dw(w.size());
      CHECK_THROWS_AS(impl(name).backward_weights(s, x.data(), y.data(), dw.data(), nullptr), convlab::ConvShapeError);
    }
  }
}

namespace {
#if defined(__AVX512F__)
// load_span and tap against their definition, lane by lane: every tap of both tile sizes, every group size,
// groups starting in the padding before the row, inside it and running past its end. The row sits in a larger
// buffer of canaries: a lane outside the row must read zero, never a canary.
template <int M, int B>
void check_span_taps() {
  constexpr Index kGroup = convlab::winograd_gather::group_tiles<M, B>();
  constexpr Index kWidth = 37, kMargin = 40;
  std::vector<float> buffer(std::size_t(kWidth + 2 * kMargin), -99.0f);
  float* row = buffer.data() + kMargin;
  for (Index i = 0; i < kWidth; ++i) row[i] = 0.25f * float(i) + 1.0f;
  for (Index count = 1; count <= kGroup; ++count) {
    const Index span = (count - 1) * M + B;
    Index wrong = 0;
    std::string first_wrong;
    for (Index x = -span - 2; x <= kWidth + 2; ++x) {
      __m512 low, high;
      convlab::winograd_gather::load_span(row, kWidth, x, span, low, high);
      for (int b = 0; b < B; ++b) {
        alignas(64) float lanes[16];
        _mm512_store_ps(lanes, convlab::winograd_gather::tap<M>(low, high, b));
        for (Index j = 0; j < count; ++j) {
          const Index ix = x + j * M + b;
          const float expected = ix >= 0 && ix < kWidth ? row[ix] : 0.0f;
          if (lanes[j] != expected && wrong++ == 0) {
            first_wrong = "x " + std::to_string(x) + ", tap " + std::to_string(b) + ", lane " + std::to_string(j) +
                          ": " + std::to_string(lanes[j]) + " for " + std::to_string(expected);
          }
        }
      }
    }
    INFO("M " << M << ", taps " << B << ", tiles " << count << "; first wrong lane: " << first_wrong);
    CHECK(wrong == 0);
  }
}
#endif

// The output transform's join against its scalar loop, with and without a bias, and a canary past the run.
template <int M, typename T>
void check_join_matches_scalar() {
  constexpr Index kRowStride = 48;
  const T bias = T(0.375);
  for (Index count = 0; count <= 40; ++count) {
    for (const T* add : {static_cast<const T*>(nullptr), &bias}) {
      INFO("M " << M << ", tiles " << count << ", bias " << (add != nullptr) << ", " << sizeof(T) * 8 << "-bit");
      std::vector<T> y(std::size_t(M * kRowStride));
      for (std::size_t i = 0; i < y.size(); ++i) y[i] = T(0.5) * T(i) - T(7);
      std::vector<T> fast(std::size_t(count * M + 1), T(-3)), slow = fast;
      convlab::winograd_gather::join<M>(y.data(), kRowStride, fast.data(), count, add);
      convlab::winograd_gather::join_scalar<M>(y.data(), kRowStride, slow.data(), count, add);
      CHECK(fast == slow);
      CHECK(fast.back() == T(-3));
    }
  }
}
}  // namespace

TEST_CASE("winograd: the output join equals its scalar loop, nothing written past a run; the taps' spans read zeros outside the row", "[winograd]") {
  check_join_matches_scalar<4, float>();
  check_join_matches_scalar<2, float>();
  check_join_matches_scalar<4, double>();
#if defined(__AVX512F__)
  check_span_taps<4, 6>();
  check_span_taps<4, 4>();
  check_span_taps<2, 4>();
  check_span_taps<2, 2>();
#endif
}
