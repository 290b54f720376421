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

// All three passes of `impl` against naive for one shape, in precision T.
template <typename T>
// `same_rounding`: the arch rounds each term as naive does, so its forward pass and input gradient, which
// sum in naive's order, must equal naive's bit for bit (see ConvImplInfo::reference_order).
inline void compare_with_naive(ConvImpl& impl, const ConvShape& s, bool small_integers, const std::string& label,
                        bool same_rounding) {
  std::mt19937 random(std::uint32_t(s.in_width * 131 + s.stride_width * 17 + s.pad_width * 7 + s.kernel_width));
  const auto x = make_data<T>(s.input_size(), small_integers, random);
  const auto w = make_data<T>(s.weight_size(), small_integers, random);
  const auto b = make_data<T>(s.out_channels, small_integers, random);
  const auto dy = make_data<T>(s.output_size(), small_integers, random);
  const auto naive_impl = convlab::make_conv_impl("naive");
  ConvImpl& naive = *naive_impl;
  const std::string what = label + " " + s.describe() + (small_integers ? " small integers" : " reals") +
                           (sizeof(T) == 4 ? " float" : " double");

  std::vector<T> y(std::size_t(s.output_size()), T(-7)), y_ref(y.size()), y_mag(y.size());
  impl.forward(s, x.data(), w.data(), b.data(), y.data());
  naive.forward(s, x.data(), w.data(), b.data(), y_ref.data());
  naive.forward(s, absolute(x).data(), absolute(w).data(), absolute(b).data(), y_mag.data());
  check_close(y, y_ref, y_mag, s.reduction_length(), small_integers, "forward " + what);

  std::vector<T> dx(std::size_t(s.input_size()), T(-7)), dx_ref(dx.size()), dx_mag(dx.size());
  impl.backward_input(s, dy.data(), w.data(), dx.data());
  naive.backward_input(s, dy.data(), w.data(), dx_ref.data());
  naive.backward_input(s, absolute(dy).data(), absolute(w).data(), dx_mag.data());
  check_close(dx, dx_ref, dx_mag, s.out_channels * s.kernel_height * s.kernel_width, small_integers,
              "backward_input " + what);
  if (same_rounding) {
    INFO(what);
    CHECK(std::memcmp(y.data(), y_ref.data(), y.size() * sizeof(T)) == 0);
    CHECK(std::memcmp(dx.data(), dx_ref.data(), dx.size() * sizeof(T)) == 0);
  }

  std::vector<T> dw(std::size_t(s.weight_size()), T(-7)), dw_ref(dw.size()), dw_mag(dw.size());
  std::vector<T> db(std::size_t(s.out_channels), T(-7)), db_ref(db.size()), db_mag(db.size());
  impl.backward_weights(s, x.data(), dy.data(), dw.data(), db.data());
  naive.backward_weights(s, x.data(), dy.data(), dw_ref.data(), db_ref.data());
  naive.backward_weights(s, absolute(x).data(), absolute(dy).data(), dw_mag.data(), db_mag.data());
  const Index sum_length = s.batch * s.out_height() * s.out_width();
  check_close(dw, dw_ref, dw_mag, sum_length, small_integers, "backward_weights dw " + what);
  check_close(db, db_ref, db_mag, sum_length, small_integers, "backward_weights db " + what);

  // Without a bias: the forward pass must not read one, and weight gradients must not need one.
  impl.forward(s, x.data(), w.data(), nullptr, y.data());
  naive.forward(s, x.data(), w.data(), nullptr, y_ref.data());
  check_close(y, y_ref, y_mag, s.reduction_length(), small_integers, "forward without bias " + what);
  impl.backward_weights(s, x.data(), dy.data(), dw.data(), nullptr);
  check_close(dw, dw_ref, dw_mag, sum_length, small_integers, "backward_weights without bias " + what);
}

}  // namespace convlab::testing
