// Pieces shared by the tests that hold an algorithm to a bound derived for it rather than to the direct sum's
// (tests/test_winograd.cpp, tests/test_fft.cpp): random data rounded to the tested type, the reference's
// absolute values, NaN-filled outputs, thread counts, bitwise comparison.
#pragma once

#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"

namespace convlab::derived_bound {

// Higham's gamma_k = k u / (1 - k u).
inline double gamma(double k, double u) { return k * u / (1 - k * u); }

inline std::vector<double> absolute(const std::vector<double>& values) {
  std::vector<double> result(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) result[i] = std::abs(values[i]);
  return result;
}

// One object per implementation, kept: later shapes reuse its buffers.
inline ConvImpl& impl(const std::string& name) {
  static std::map<std::string, std::unique_ptr<ConvImpl>> objects;
  std::unique_ptr<ConvImpl>& object = objects[name];
  if (!object) object = make_conv_impl(name);
  return *object;
}

template <typename T>
std::vector<T> nans(Index count) {
  return std::vector<T>(std::size_t(count), std::numeric_limits<T>::quiet_NaN());
}

template <typename T>
std::vector<T> as(const std::vector<double>& values) {
  return std::vector<T>(values.begin(), values.end());
}

// Sets OpenMP's thread count for a while; the previous one comes back at the end of the scope.
struct ThreadCount {
  int previous = omp_get_max_threads();
  void set(int threads) { omp_set_num_threads(threads); }
  ~ThreadCount() { omp_set_num_threads(previous); }
};

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

inline std::vector<double> random_reals(Index count, std::mt19937& engine) {
  std::uniform_real_distribution<double> pick(-1.0, 1.0);
  std::vector<double> values(static_cast<std::size_t>(count));
  for (double& value : values) value = pick(engine);
  return values;
}

// Rounds to T and back (the values the implementation and the reference both see).
template <typename T>
std::vector<double> rounded(std::vector<double> values) {
  for (double& value : values) value = double(T(value));
  return values;
}

}  // namespace convlab::derived_bound
