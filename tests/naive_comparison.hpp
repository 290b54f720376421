// Shared by the simd/openmp tests: random operands, and one implementation's three passes against naive
// (exact on small integers, within the error bound of the sum on reals, bitwise where the
// implementation sums in naive's order and rounds each term as naive does).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "tests/remembered.hpp"

namespace convlab::testing {

template <typename T>
inline std::vector<T> make_data(Index count, bool small_integers, std::mt19937& random) {
  std::vector<T> values(static_cast<std::size_t>(count));
  std::uniform_int_distribution<int> integer(-3, 3);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  for (T& v : values) v = small_integers ? T(integer(random)) : T(real(random));
  return values;
}

template <typename T>
inline std::vector<T> absolute(std::vector<T> values) {
  for (T& v : values) v = std::abs(v);
  return values;
}

// got == ref exactly, or |got - ref| <= 2 n eps * magnitude (both sides are within gamma_n of the exact
// sum, whose size `magnitude` bounds: the same pass run by naive on absolute values).
template <typename T>
inline void check_close(const std::vector<T>& got, const std::vector<T>& ref, const std::vector<T>& magnitude, Index n,
                 bool exact, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == ref.size());
  const double eps = std::numeric_limits<T>::epsilon();
  std::size_t bad = 0;
  for (std::size_t e = 0; e < got.size(); ++e) {
    const double allowed = exact ? 0.0 : 2.0 * double(n + 1) * eps * double(magnitude[e]);
    if (!(std::abs(double(got[e]) - double(ref[e])) <= allowed)) {
      if (bad++ == 0) {
        UNSCOPED_INFO("first mismatch at element " << e << ": got " << got[e] << ", naive " << ref[e]
                                                   << ", allowed difference " << allowed);
      }
    }
  }
  CHECK(bad == 0);
}

// naive's results for one shape's operands (as compare_with_naive makes them from the shape): the three passes,
// each also on absolute values (the error bound's magnitude), and the forward pass without a bias.
template <typename T>
struct NaiveResults {
  std::vector<T> x, w, b, dy;
  std::vector<T> y, y_mag, y_no_bias, dx, dx_mag, dw, dw_mag, db, db_mag;
};

// The sweeps compare several implementations and archs on the same shapes and operands; naive, the slowest by
// far (most of the sweeps' time under the sanitizers), runs once per shape, precision and kind of operand, the
// last kNaiveCacheShapes of them remembered.
inline constexpr std::size_t kNaiveCacheShapes = 64;
template <typename T>
inline const NaiveResults<T>& naive_results(const ConvShape& s, bool small_integers) {
  static std::vector<std::pair<std::string, NaiveResults<T>>> cache;
  const std::string key = s.describe() + (small_integers ? " small integers" : " reals");
  return remembered(cache, kNaiveCacheShapes, key, [&] {
    NaiveResults<T> r;
    std::mt19937 random(std::uint32_t(s.in_width * 131 + s.stride_width * 17 + s.pad_width * 7 + s.kernel_width));
    r.x = make_data<T>(s.input_size(), small_integers, random);
    r.w = make_data<T>(s.weight_size(), small_integers, random);
    r.b = make_data<T>(s.out_channels, small_integers, random);
    r.dy = make_data<T>(s.output_size(), small_integers, random);
    const auto naive_impl = convlab::make_conv_impl("naive");
    ConvImpl& naive = *naive_impl;
    const auto sized = [](Index count) { return std::vector<T>(std::size_t(count)); };
    r.y = sized(s.output_size()), r.y_mag = sized(s.output_size()), r.y_no_bias = sized(s.output_size());
    naive.forward(s, r.x.data(), r.w.data(), r.b.data(), r.y.data());
    naive.forward(s, absolute(r.x).data(), absolute(r.w).data(), absolute(r.b).data(), r.y_mag.data());
    naive.forward(s, r.x.data(), r.w.data(), nullptr, r.y_no_bias.data());
    r.dx = sized(s.input_size()), r.dx_mag = sized(s.input_size());
    naive.backward_input(s, r.dy.data(), r.w.data(), r.dx.data());
    naive.backward_input(s, absolute(r.dy).data(), absolute(r.w).data(), r.dx_mag.data());
    r.dw = sized(s.weight_size()), r.dw_mag = sized(s.weight_size());
    r.db = sized(s.out_channels), r.db_mag = sized(s.out_channels);
    naive.backward_weights(s, r.x.data(), r.dy.data(), r.dw.data(), r.db.data());
    naive.backward_weights(s, absolute(r.x).data(), absolute(r.dy).data(), r.dw_mag.data(), r.db_mag.data());
    return r;
  });
}

// All three passes of `impl` against naive for one shape, in precision T.
template <typename T>
// `same_rounding`: the arch rounds each term as naive does, so its forward pass and input gradient, which
// sum in naive's order, must equal naive's bit for bit (see ConvImplInfo::reference_order).
inline void compare_with_naive(ConvImpl& impl, const ConvShape& s, bool small_integers, const std::string& label,
                        bool same_rounding) {
  const NaiveResults<T>& ref = naive_results<T>(s, small_integers);
  const std::string what = label + " " + s.describe() + (small_integers ? " small integers" : " reals") +
                           (sizeof(T) == 4 ? " float" : " double");

  std::vector<T> y(std::size_t(s.output_size()), T(-7));
  impl.forward(s, ref.x.data(), ref.w.data(), ref.b.data(), y.data());
  check_close(y, ref.y, ref.y_mag, s.reduction_length(), small_integers, "forward " + what);

  std::vector<T> dx(std::size_t(s.input_size()), T(-7));
  impl.backward_input(s, ref.dy.data(), ref.w.data(), dx.data());
  check_close(dx, ref.dx, ref.dx_mag, s.out_channels * s.kernel_height * s.kernel_width, small_integers,
              "backward_input " + what);
  if (same_rounding) {
    INFO(what);
    CHECK(std::memcmp(y.data(), ref.y.data(), y.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(dx.data(), ref.dx.data(), dx.size() * sizeof(T)) == 0);
  }

  std::vector<T> dw(std::size_t(s.weight_size()), T(-7));
  std::vector<T> db(std::size_t(s.out_channels), T(-7));
  impl.backward_weights(s, ref.x.data(), ref.dy.data(), dw.data(), db.data());
  const Index sum_length = s.batch * s.out_height() * s.out_width();
  check_close(dw, ref.dw, ref.dw_mag, sum_length, small_integers, "backward_weights dw " + what);
  check_close(db, ref.db, ref.db_mag, sum_length, small_integers, "backward_weights db " + what);

  // Without a bias: the forward pass must not read one, and weight gradients must not need one.
  impl.forward(s, ref.x.data(), ref.w.data(), nullptr, y.data());
  check_close(y, ref.y_no_bias, ref.y_mag, s.reduction_length(), small_integers, "forward without bias " + what);
  impl.backward_weights(s, ref.x.data(), ref.dy.data(), dw.data(), nullptr);
  check_close(dw, ref.dw, ref.dw_mag, sum_length, small_integers, "backward_weights without bias " + what);
}

}  // namespace convlab::testing
