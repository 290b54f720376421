// The tutorial's ladder: every step computes exactly step 0's numbers (each keeps step 0's summation order,
// one FMA per product; where the build does not fuse step 0's terms, within the sum's error bound), on shapes that reach each step's edges - widths below, at and between multiples of
// the vector width, row counts that leave tail rows, channel counts that leave tail blocks, 1x1 to 7x7
// windows - with outputs prefilled with NaN, and step 7 the same on 1 and 2 threads.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "docs/ladder/ladder.hpp"

using convlab::ConvShape;
using convlab::Index;

namespace {

ConvShape make_shape(Index batch, Index channels, Index height, Index width, Index filters, Index kernel) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = channels;
  s.in_height = height;
  s.in_width = width;
  s.out_channels = filters;
  s.kernel_height = s.kernel_width = kernel;
  return s;
}

std::vector<float> random_values(std::size_t count, std::mt19937& generator) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = value(generator);
  return values;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Step 0 is plain `sum += w * x`: gcc fuses each term into an FMA when it optimises for an FMA target (-O2),
// as the vector steps do explicitly, and then every step gives step 0's bits. The sanitizer build (-O1) does
// not fuse it. Found by running step 0 on two terms whose fused and separate sums differ: -1 + (1 + 2^-12)^2
// is 2^-11 + 2^-24 fused, 2^-11 when the square is rounded first.
bool step0_fuses() {
  const ConvShape s = make_shape(1, 2, 1, 1, 1, 1);
  const float term = 1.0f + std::ldexp(1.0f, -12);
  const float x[2] = {-1.0f, term}, w[2] = {1.0f, term}, b[1] = {0.0f};
  float y = 0.0f;
  convlab::ladder::step0_naive(s, x, w, b, &y);
  return y == std::ldexp(1.0f, -11) + std::ldexp(1.0f, -24);
}

// Without fusion the steps still sum in step 0's order, but round each product differently: both sums lie
// within gamma_n * sum |w x| (+ |b|) of the exact one (n = taps + 1 roundings, gamma_n = n u / (1 - n u),
// u = 2^-24), so they differ by at most twice that. `magnitudes` is step 0 on |x|, |w|, |b|.
bool within_sum_bound(const std::vector<float>& y, const std::vector<float>& reference,
                      const std::vector<float>& magnitudes, Index terms) {
  const double u = std::ldexp(1.0, -24), n = double(terms + 1), gamma = n * u / (1 - n * u);
  for (std::size_t i = 0; i < y.size(); ++i) {
    // magnitudes[i] was itself rounded (by at most gamma): widen it back.
    if (!(std::abs(double(y[i]) - double(reference[i])) <= 2 * gamma * double(magnitudes[i]) * (1 + gamma))) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("every ladder step gives step 0's output bit for bit", "[ladder]") {
  const bool fused = step0_fuses();
  if (!fused) WARN("step 0 is not fused in this build (not -O2?): the steps are checked against the sum's error bound");
  std::mt19937 generator(7);
  const std::vector<ConvShape> shapes = {
      make_shape(2, 1, 28, 28, 20, 5),   // the lecture's layer: rows of 24 = one vector and a tail of 8
      make_shape(1, 20, 24, 24, 50, 5),  // the second layer: 50 channels = blocks of 3 or 4 and tails
      make_shape(1, 3, 9, 9, 17, 3),     // rows narrower than a vector, 17 channels
      make_shape(1, 2, 12, 40, 5, 1),    // 1x1 windows, rows of 40 = two vectors and a tail
      make_shape(1, 4, 13, 37, 7, 7),    // 7x7 windows, 7 rows (a block of 4 and tails), odd widths
      make_shape(3, 1, 5, 5, 1, 5),      // one output pixel per image, one channel
      make_shape(1, 33, 8, 17, 6, 2),    // 33 input channels, rows of 16 = exactly one vector
  };
  for (const ConvShape& s : shapes) {
    CAPTURE(s.describe());
    REQUIRE(convlab::ladder::supports(s));
    const auto x = random_values(std::size_t(s.input_size()), generator);
    const auto w = random_values(std::size_t(s.weight_size()), generator);
    const auto b = random_values(std::size_t(s.out_channels), generator);
    std::vector<float> reference(std::size_t(s.output_size()), std::numeric_limits<float>::quiet_NaN());
    convlab::ladder::step0_naive(s, x.data(), w.data(), b.data(), reference.data());
    for (float value : reference) REQUIRE(std::isfinite(value));
    const auto absolute = [](std::vector<float> values) {
      for (float& v : values) v = std::abs(v);
      return values;
    };
    std::vector<float> magnitudes(reference.size());
    convlab::ladder::step0_naive(s, absolute(x).data(), absolute(w).data(), absolute(b).data(), magnitudes.data());
    for (const auto& step : convlab::ladder::steps()) {
      CAPTURE(step.name);
      for (int threads : {1, 2}) {
        if (threads > 1 && !step.uses_threads) continue;
        CAPTURE(threads);
        omp_set_num_threads(threads);
        std::vector<float> y(reference.size(), std::numeric_limits<float>::quiet_NaN());
        step.kernel(s, x.data(), w.data(), b.data(), y.data());
        if (fused) {
          CHECK(bitwise_equal(y, reference));
        } else {
          CHECK(within_sum_bound(y, reference, magnitudes, s.in_channels * s.kernel_height * s.kernel_width));
        }
      }
    }
  }
}

TEST_CASE("the ladder computes only stride-1 unpadded layers", "[ladder]") {
  ConvShape s = make_shape(1, 1, 28, 28, 20, 5);
  CHECK(convlab::ladder::supports(s));
  s.stride_width = 2;
  CHECK_FALSE(convlab::ladder::supports(s));
  s.stride_width = 1;
  s.pad_height = 1;
  CHECK_FALSE(convlab::ladder::supports(s));
}
