// Checks the shared activations: tanh within a few ulp of the correctly rounded value over a dense sweep
// (including +-0, the saturation region and huge or infinite inputs), tanh_backward's formula, and a softmax
// whose rows are probabilities even for logits of 1000.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common/nn/activations.hpp"

namespace {

using convlab::Index;

// Distance in units in the last place of T between a computed value and an exact (double or long double)
// reference, measured in the spacing of T at the reference.
template <typename T>
double ulp_error(T computed, long double exact) {
  const T rounded = T(exact);
  if (computed == rounded) return 0;
  const long double spacing =
      std::nextafter(std::abs(rounded), std::numeric_limits<T>::infinity()) - std::abs(rounded);
  return double(std::abs((long double)computed - exact) / spacing);
}

template <typename T>
std::vector<T> sweep_inputs() {
  std::vector<T> inputs = {T(0), -T(0), std::numeric_limits<T>::min(), -std::numeric_limits<T>::denorm_min(),
                           T(1e-30), T(0.625), -T(0.625), T(9), T(10), T(20), T(1000), -T(1e30),
                           std::numeric_limits<T>::max(), -std::numeric_limits<T>::infinity(),
                           std::numeric_limits<T>::infinity()};
  for (int i = -200000; i <= 200000; ++i) inputs.push_back(T(i) * T(1e-4));  // [-20, 20] densely
  for (T x = T(1e-6); x < T(50); x *= T(1.001)) {                             // every scale, both signs
    inputs.push_back(x);
    inputs.push_back(-x);
  }
  // Around the kernel's switch at |x| = 0.625, ulp by ulp.
  T near = T(0.625);
  for (int i = 0; i < 2000; ++i) near = std::nextafter(near, T(0));
  for (int i = 0; i < 4000; ++i, near = std::nextafter(near, T(1))) inputs.push_back(near);
  return inputs;
}

template <typename T>
void check_tanh(double allowed_ulp) {
  const auto inputs = sweep_inputs<T>();
  std::vector<T> outputs(inputs.size());
  convlab::tanh_forward<T>(inputs.data(), outputs.data(), Index(inputs.size()));
  double worst = 0;
  T worst_at = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const double error = ulp_error<T>(outputs[i], std::tanh((long double)inputs[i]));
    if (!(error <= worst)) {
      worst = error;
      worst_at = inputs[i];
    }
  }
  INFO("worst " << worst << " ulp at x = " << worst_at);
  CHECK(worst <= allowed_ulp);
  // Signs of zero and exact saturation.
  CHECK(!std::signbit(outputs[0]));
  CHECK(std::signbit(outputs[1]));
  for (std::size_t i = 0; i < 15; ++i) {
    if (std::abs(inputs[i]) >= T(20)) CHECK(std::abs(outputs[i]) == T(1));
  }
  // In place, and a count that is not a multiple of the vector width.
  std::vector<T> in_place(inputs.begin(), inputs.begin() + 1001);
  convlab::tanh_forward<T>(in_place.data(), in_place.data(), Index(in_place.size()));
  CHECK(std::equal(in_place.begin(), in_place.end(), outputs.begin()));
}

}  // namespace

TEST_CASE("tanh is within a few ulp of the exact value", "[activations]") {
  check_tanh<float>(3);
  check_tanh<double>(3);
}

TEST_CASE("tanh keeps NaN a NaN", "[activations]") {
  std::vector<float> x(37, std::numeric_limits<float>::quiet_NaN());
  convlab::tanh_forward<float>(x.data(), x.data(), Index(x.size()));
  for (float y : x) CHECK(std::isnan(y));
}

TEST_CASE("tanh_backward multiplies by 1 - y^2", "[activations]") {
  const Index count = 100003;  // large enough for the threaded path, odd to reach the tail
  std::vector<double> y(count), grad(count), result(count);
  for (Index i = 0; i < count; ++i) {
    y[i] = std::tanh(double(i % 2001 - 1000) * 0.003);
    grad[i] = double(i % 17) - 8.0;
  }
  convlab::tanh_backward<double>(y.data(), grad.data(), result.data(), count);
  Index mismatches = 0;
  for (Index i = 0; i < count; ++i) mismatches += result[i] != grad[i] * (1.0 - y[i] * y[i]);
  CHECK(mismatches == 0);
  // Aliased output (in_grad == out_grad), as the network uses it.
  convlab::tanh_backward<double>(y.data(), grad.data(), grad.data(), count);
  CHECK(grad == result);
}

TEST_CASE("softmax rows are probabilities even for huge logits", "[activations]") {
  const Index rows = 5, cols = 10;
  std::vector<float> logits(rows * cols), probabilities(rows * cols);
  for (Index c = 0; c < cols; ++c) {
    logits[0 * cols + c] = float(c);                       // ordinary
    logits[1 * cols + c] = 1000.0f + float(c);             // exp would overflow without the shift
    logits[2 * cols + c] = c == 3 ? 1000.0f : -1000.0f;    // one certain class
    logits[3 * cols + c] = 0.0f;                           // uniform
    logits[4 * cols + c] = -1000.0f - float(c);            // exp would underflow without the shift
  }
  convlab::softmax_rows<float>(logits.data(), probabilities.data(), rows, cols);
  for (Index r = 0; r < rows; ++r) {
    float total = 0;
    for (Index c = 0; c < cols; ++c) {
      const float p = probabilities[r * cols + c];
      CHECK(std::isfinite(p));
      CHECK(p >= 0.0f);
      CHECK(p <= 1.0f);
      total += p;
    }
    CHECK(total == Approx(1.0f).epsilon(1e-6));
  }
  // Shifting every logit by a constant changes nothing (rows 0 and 1 differ by 1000).
  for (Index c = 0; c < cols; ++c) CHECK(probabilities[c] == Approx(probabilities[cols + c]).epsilon(1e-5));
  CHECK(probabilities[2 * cols + 3] == 1.0f);
  CHECK(probabilities[3 * cols] == Approx(0.1f).epsilon(1e-6));
  // Exact values for an ordinary row.
  double exact_total = 0;
  for (Index c = 0; c < cols; ++c) exact_total += std::exp(double(c) - 9.0);
  for (Index c = 0; c < cols; ++c)
    CHECK(probabilities[c] == Approx(std::exp(double(c) - 9.0) / exact_total).epsilon(1e-6));
  // In place.
  convlab::softmax_rows<float>(logits.data(), logits.data(), rows, cols);
  CHECK(logits == probabilities);
}
