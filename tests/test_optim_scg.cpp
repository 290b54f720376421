// Tests of the scaled conjugate gradient port (common/nn/optim_scg.hpp) on small problems with known answers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "common/nn/optim_scg.hpp"

using convlab::FullBatchObjective;
using convlab::Index;
using convlab::ScgOptions;
using convlab::ScgProgress;
using convlab::ScgResult;

namespace {

// (x - c)^T S (x - c): the example in mlutilities.scg's own docstring.
template <typename T>
class Parabola : public FullBatchObjective<T> {
 public:
  Parabola(std::vector<double> center, std::vector<double> s) : center_(std::move(center)), s_(std::move(s)) {}
  Index parameter_count() const override { return static_cast<Index>(center_.size()); }
  double error(std::span<const T> x) override {
    const auto d = offset(x);
    double sum = 0;
    for (std::size_t i = 0; i < d.size(); ++i)
      for (std::size_t j = 0; j < d.size(); ++j) sum += d[i] * s_[i * d.size() + j] * d[j];
    return sum;
  }
  double error_and_gradient(std::span<const T> x, std::span<T> gradient) override {
    const auto d = offset(x);
    for (std::size_t i = 0; i < d.size(); ++i) {
      double g = 0;
      for (std::size_t j = 0; j < d.size(); ++j) g += (s_[i * d.size() + j] + s_[j * d.size() + i]) * d[j];
      gradient[i] = static_cast<T>(g);
    }
    return error(x);
  }

 private:
  std::vector<double> offset(std::span<const T> x) const {
    std::vector<double> d(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) d[i] = static_cast<double>(x[i]) - center_[i];
    return d;
  }
  std::vector<double> center_, s_;
};

// Mean of 0.5 (x_i . w - y_i)^2 over the rows of X.
template <typename T>
class LeastSquares : public FullBatchObjective<T> {
 public:
  LeastSquares(std::vector<double> x, std::vector<double> y) : x_(std::move(x)), y_(std::move(y)) {}
  Index parameter_count() const override { return static_cast<Index>(x_.size() / y_.size()); }
  double error(std::span<const T> w) override { return evaluate(w, {}); }
  double error_and_gradient(std::span<const T> w, std::span<T> gradient) override { return evaluate(w, gradient); }

 private:
  double evaluate(std::span<const T> w, std::span<T> gradient) {
    const std::size_t n = w.size(), m = y_.size();
    std::vector<double> g(n, 0.0);
    double sum = 0;
    for (std::size_t r = 0; r < m; ++r) {
      double residual = -y_[r];
      for (std::size_t c = 0; c < n; ++c) residual += x_[r * n + c] * static_cast<double>(w[c]);
      sum += 0.5 * residual * residual;
      for (std::size_t c = 0; c < n; ++c) g[c] += residual * x_[r * n + c] / static_cast<double>(m);
    }
    for (std::size_t c = 0; c < gradient.size(); ++c) gradient[c] = static_cast<T>(g[c]);
    return sum / static_cast<double>(m);
  }
  std::vector<double> x_, y_;
};

// Mean logistic loss of labels in {0, 1}; the last weight is the bias.
template <typename T>
class Logistic : public FullBatchObjective<T> {
 public:
  Logistic(std::vector<double> x, std::vector<int> labels, Index features)
      : x_(std::move(x)), labels_(std::move(labels)), features_(features) {}
  Index parameter_count() const override { return features_ + 1; }
  double error(std::span<const T> w) override { return evaluate(w, {}); }
  double error_and_gradient(std::span<const T> w, std::span<T> gradient) override { return evaluate(w, gradient); }
  int misclassified(std::span<const T> w) const {
    const auto n = static_cast<std::size_t>(features_);
    int wrong = 0;
    for (std::size_t r = 0; r < labels_.size(); ++r) {
      double z = static_cast<double>(w[n]);
      for (std::size_t c = 0; c < n; ++c) z += x_[r * n + c] * static_cast<double>(w[c]);
      wrong += (z > 0) != (labels_[r] == 1);
    }
    return wrong;
  }

 private:
  double evaluate(std::span<const T> w, std::span<T> gradient) {
    const auto n = static_cast<std::size_t>(features_);
    const std::size_t m = labels_.size();
    std::vector<double> g(n + 1, 0.0);
    double sum = 0;
    for (std::size_t r = 0; r < m; ++r) {
      double z = static_cast<double>(w[n]);
      for (std::size_t c = 0; c < n; ++c) z += x_[r * n + c] * static_cast<double>(w[c]);
      // log(1 + exp(-z)) for label 1, log(1 + exp(z)) for label 0, computed stably.
      const double signed_z = labels_[r] ? z : -z;
      sum += std::max(-signed_z, 0.0) + std::log1p(std::exp(-std::abs(signed_z)));
      const double p = 1 / (1 + std::exp(-z));
      const double dz = (p - labels_[r]) / static_cast<double>(m);
      for (std::size_t c = 0; c < n; ++c) g[c] += dz * x_[r * n + c];
      g[n] += dz;
    }
    for (std::size_t c = 0; c < gradient.size(); ++c) gradient[c] = static_cast<T>(g[c]);
    return sum / static_cast<double>(m);
  }
  std::vector<double> x_;
  std::vector<int> labels_;
  Index features_;
};

// Two Gaussian clouds in `features` dimensions; `gap` separates their means along every axis.
template <typename T>
Logistic<T> make_logistic(Index features, int examples, double gap, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> x;
  std::vector<int> labels;
  for (int r = 0; r < examples; ++r) {
    const int label = r % 2;
    for (Index c = 0; c < features; ++c) x.push_back(noise(generator) * 0.5 + (label ? gap : -gap));
    labels.push_back(label);
  }
  return Logistic<T>(std::move(x), std::move(labels), features);
}

bool non_increasing(const std::vector<double>& trace) {
  return std::adjacent_find(trace.begin(), trace.end(), [](double a, double b) { return b > a; }) == trace.end();
}

}  // namespace

TEMPLATE_TEST_CASE("scg finds the minimum of mlutilities' parabola", "[optim]", float, double) {
  Parabola<TestType> parabola({5, 5}, {5, 4, 4, 5});
  std::vector<TestType> x{-1, 2};
  ScgOptions options;
  options.iterations = 1000;
  options.x_precision = 0.001;
  const ScgResult result = convlab::scg(parabola, std::span<TestType>(x), options);
  INFO(result.reason);
  CHECK(result.iterations < 50);
  CHECK(x[0] == Approx(5).margin(1e-3));
  CHECK(x[1] == Approx(5).margin(1e-3));
  CHECK(result.error_trace.back() < 1e-5);
  CHECK(result.error_trace.size() == static_cast<std::size_t>(result.iterations) + 1);
  CHECK(non_increasing(result.error_trace));
}

TEMPLATE_TEST_CASE("scg minimises a 10-dimensional convex quadratic", "[optim]", float, double) {
  // S = A^T A + I is symmetric positive definite; the minimum is at `center` with value 0.
  const std::size_t n = 10;
  std::mt19937_64 generator(7);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<double> a(n * n), s(n * n, 0.0), center(n);
  for (auto& v : a) v = uniform(generator);
  for (auto& v : center) v = 3 * uniform(generator);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t k = 0; k < n; ++k) s[i * n + j] += a[k * n + i] * a[k * n + j];
      if (i == j) s[i * n + j] += 1;
    }
  Parabola<TestType> quadratic(center, s);
  std::vector<TestType> x(n, TestType(0));
  ScgOptions options;
  options.iterations = 200;
  options.f_precision = std::is_same_v<TestType, float> ? 1e-9 : 1e-14;
  const ScgResult result = convlab::scg(quadratic, std::span<TestType>(x), options);
  INFO(result.reason << " after " << result.iterations);
  const double tolerance = std::is_same_v<TestType, float> ? 2e-3 : 1e-5;
  for (std::size_t i = 0; i < n; ++i) CHECK(x[i] == Approx(center[i]).margin(tolerance));
  CHECK(non_increasing(result.error_trace));
}

TEMPLATE_TEST_CASE("scg solves linear least squares", "[optim]", float, double) {
  // y = X w_true exactly, so the minimum is w_true with error 0.
  const std::size_t rows = 40, columns = 4;
  const std::vector<double> w_true{1.5, -2.0, 0.25, 3.0};
  std::mt19937_64 generator(11);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<double> x(rows * columns), y(rows, 0.0);
  for (auto& v : x) v = uniform(generator);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < columns; ++c) y[r] += x[r * columns + c] * w_true[c];
  LeastSquares<TestType> problem(x, y);
  std::vector<TestType> w(columns, TestType(0));
  ScgOptions options;
  options.iterations = 100;
  const ScgResult result = convlab::scg(problem, std::span<TestType>(w), options);
  INFO(result.reason << " after " << result.iterations);
  const double tolerance = std::is_same_v<TestType, float> ? 1e-3 : 1e-8;
  for (std::size_t c = 0; c < columns; ++c) CHECK(w[c] == Approx(w_true[c]).margin(tolerance));
  CHECK(non_increasing(result.error_trace));
}

TEMPLATE_TEST_CASE("scg's logistic-regression trace never rises and has iterations + 1 entries", "[optim]", float,
                   double) {
  // Separable, so the error keeps falling towards 0; the budget runs out before the gradient is small
  // enough for the machine-precision stop.
  auto problem = make_logistic<TestType>(5, 200, 0.5, 5);
  std::vector<TestType> w(6, TestType(0));
  ScgOptions options;
  options.iterations = 40;
  std::vector<int> progress_iterations;
  int iteration_calls = 0;
  options.on_progress = [&](const ScgProgress& p) {
    progress_iterations.push_back(p.iteration);
    CHECK(p.iterations == 40);
  };
  options.on_iteration = [&](const ScgProgress& p) { CHECK(p.iteration == ++iteration_calls); };
  const ScgResult result = convlab::scg(problem, std::span<TestType>(w), options);
  REQUIRE(result.reason == "did not converge");
  CHECK(result.iterations == 40);
  CHECK(iteration_calls == 40);
  CHECK(progress_iterations == std::vector<int>{4, 8, 12, 16, 20, 24, 28, 32, 36, 40});
  REQUIRE(result.error_trace.size() == 41);
  CHECK(result.error_trace.front() == Approx(std::log(2.0)));
  CHECK(non_increasing(result.error_trace));
  CHECK(result.error_trace.back() < 0.02);
  // In double every example is classified correctly by now (the data are separable); float lags a little.
  CHECK(problem.misclassified(std::span<const TestType>(w)) <= (std::is_same_v<TestType, float> ? 2 : 0));
  CHECK(result.error_trace.back() == Approx(problem.error(std::span<const TestType>(w))));
}

TEST_CASE("scg reports progress after the last iteration when it stops between tenths", "[optim]") {
  auto problem = make_logistic<double>(2, 40, 0.3, 9);  // overlapping clouds: a finite minimum
  std::vector<double> w(3, 0.0);
  ScgOptions options;
  options.iterations = 1000;
  options.f_precision = 1e-3;
  std::vector<int> progress_iterations;
  options.on_progress = [&](const ScgProgress& p) { progress_iterations.push_back(p.iteration); };
  const ScgResult result = convlab::scg(problem, std::span<double>(w), options);
  REQUIRE(result.iterations < 100);  // stopped before the first tenth
  REQUIRE(result.reason == "limit on f Precision");
  CHECK(progress_iterations == std::vector<int>{result.iterations});
}

TEMPLATE_TEST_CASE("scg stops on the x and f precision limits", "[optim]", float, double) {
  auto problem = make_logistic<TestType>(2, 40, 0.3, 9);
  SECTION("x precision") {
    std::vector<TestType> w(3, TestType(0));
    ScgOptions options;
    options.iterations = 1000;
    options.x_precision = 5e-2;  // float's machine-precision stop (|d|^2 < 1.2e-7) comes soon after
    const ScgResult result = convlab::scg(problem, std::span<TestType>(w), options);
    CHECK(result.reason == "limit on x Precision");
    CHECK(result.iterations < 1000);
    CHECK(result.error_trace.size() == static_cast<std::size_t>(result.iterations) + 1);
  }
  SECTION("f precision") {
    std::vector<TestType> w(3, TestType(0));
    ScgOptions options;
    options.iterations = 1000;
    options.f_precision = 1e-3;
    const ScgResult result = convlab::scg(problem, std::span<TestType>(w), options);
    REQUIRE(result.reason == "limit on f Precision");
    const auto& trace = result.error_trace;
    REQUIRE(trace.size() == static_cast<std::size_t>(result.iterations) + 1);
    CHECK(std::abs(trace[trace.size() - 1] - trace[trace.size() - 2]) < 1e-3);
    CHECK(trace.back() < trace.front());
  }
}

TEST_CASE("scg stops on machine precision when started at a stationary point", "[optim]") {
  Parabola<double> parabola({5, 5}, {5, 4, 4, 5});
  std::vector<double> x{5, 5};
  const ScgResult result = convlab::scg(parabola, std::span<double>(x), ScgOptions{});
  CHECK(result.reason == "limit on machine precision");
  CHECK(result.iterations == 0);
  CHECK(result.error_trace == std::vector<double>{0.0});
  CHECK(x == std::vector<double>{5, 5});
}

namespace {

// Rosenbrock's function, recording every point its gradient is asked for.
class RecordingRosenbrock : public FullBatchObjective<double> {
 public:
  Index parameter_count() const override { return 2; }
  double error(std::span<const double> x) override {
    return (1 - x[0]) * (1 - x[0]) + 10 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]);
  }
  double error_and_gradient(std::span<const double> x, std::span<double> gradient) override {
    gradient[0] = -2 * (1 - x[0]) - 40 * x[0] * (x[1] - x[0] * x[0]);
    gradient[1] = 20 * (x[1] - x[0] * x[0]);
    calls.push_back({x[0], x[1], gradient[0], gradient[1]});
    return error(x);
  }
  std::vector<std::array<double, 4>> calls;  // x0, x1, g0, g1
};

}  // namespace

TEST_CASE("scg restarts along the negative gradient after as many successes as weights", "[optim]") {
  // Gradient calls: the start x, its probe x + sigma0 d/|d|, then one per trial point (the error and the
  // gradient there are evaluated together); an accepted trial is the next x and is followed by its probe,
  // a rejected one by the next trial. The probe's direction is the search direction: -gradient at the
  // start and after every 2nd success (restart), Polak-Ribiere in between.
  RecordingRosenbrock rosenbrock;
  std::vector<double> x{-1.2, 1.0};
  ScgOptions options;
  options.iterations = 9;
  const ScgResult result = convlab::scg(rosenbrock, std::span<double>(x), options);
  const auto& calls = rosenbrock.calls;
  REQUIRE(calls.size() >= 7);
  const auto gap = [&](std::size_t i) { return std::hypot(calls[i + 1][0] - calls[i][0], calls[i + 1][1] - calls[i][1]); };
  std::vector<std::size_t> accepted;  // calls at x, each followed by its probe
  for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
    if (i == 0 || gap(i) == Approx(1e-6).epsilon(1e-6)) {
      accepted.push_back(i);
      ++i;  // skip the probe
    }
  }
  REQUIRE(accepted.front() == 0);
  CHECK(accepted.size() >= 4);
  int successes = 0, restarts_seen = 0, conjugate_seen = 0;
  for (std::size_t i : accepted) {
    const auto& at = calls[i];
    const auto& probe = calls[i + 1];
    const double dx = probe[0] - at[0], dy = probe[1] - at[1];
    CHECK(std::hypot(dx, dy) == Approx(1e-6).epsilon(1e-6));
    // Cosine of the angle between the probe direction and the negative gradient at x.
    const double cosine = -(dx * at[2] + dy * at[3]) / (std::hypot(dx, dy) * std::hypot(at[2], at[3]));
    INFO("accepted point " << successes << ", cosine " << cosine);
    if (successes % 2 == 0) {
      CHECK(cosine == Approx(1).epsilon(1e-6));
      ++restarts_seen;
    } else {
      CHECK(cosine < 0.999);
      ++conjugate_seen;
    }
    ++successes;
  }
  CHECK(restarts_seen >= 2);
  CHECK(conjugate_seen >= 2);
  CHECK(non_increasing(result.error_trace));
}

TEST_CASE("scg rejects weights of the wrong size", "[optim]") {
  Parabola<double> parabola({5, 5}, {5, 4, 4, 5});
  std::vector<double> x{1, 2, 3};
  CHECK_THROWS_AS(convlab::scg(parabola, std::span<double>(x), ScgOptions{}), std::invalid_argument);
}

namespace {

// A tilted double well, (x0^2 - 1)^2 + 2 (x1^2 - 1)^2 + x0 x1 / 2: negatively curved near the origin.
class DoubleWell : public FullBatchObjective<double> {
 public:
  Index parameter_count() const override { return 2; }
  double error(std::span<const double> x) override {
    return (x[0] * x[0] - 1) * (x[0] * x[0] - 1) + 2 * (x[1] * x[1] - 1) * (x[1] * x[1] - 1) + 0.5 * x[0] * x[1];
  }
  double error_and_gradient(std::span<const double> x, std::span<double> gradient) override {
    gradient[0] = 4 * x[0] * (x[0] * x[0] - 1) + 0.5 * x[1];
    gradient[1] = 8 * x[1] * (x[1] * x[1] - 1) + 0.5 * x[0];
    return error(x);
  }
};

struct ScgReference {
  std::vector<double> start, trace, scale, end;
};

// Runs scg for scale.size() iterations and compares with the Python's trace, beta (at the point where it
// prints progress) and final x. The tolerance allows for -march=native contracting a*b+c into fused
// multiply-adds, which numpy does not: the last digits then differ, most where errors cancel.
void check_follows_reference(FullBatchObjective<double>& objective, const ScgReference& reference) {
  std::vector<double> x = reference.start;
  ScgOptions options;
  options.iterations = static_cast<int>(reference.scale.size());
  std::vector<double> scales;
  options.on_iteration = [&](const ScgProgress& p) { scales.push_back(p.scale); };
  const ScgResult result = convlab::scg(objective, std::span<double>(x), options);
  CHECK(result.reason == "did not converge");
  REQUIRE(result.error_trace.size() == reference.trace.size());
  for (std::size_t i = 0; i < reference.trace.size(); ++i) {
    INFO("trace entry " << i);
    CHECK(result.error_trace[i] == Approx(reference.trace[i]).epsilon(1e-7));
  }
  REQUIRE(scales.size() == reference.scale.size());
  for (std::size_t i = 0; i < reference.scale.size(); ++i) {
    INFO("iteration " << i + 1);
    CHECK(scales[i] == Approx(reference.scale[i]).epsilon(1e-7));
  }
  CHECK(x[0] == Approx(reference.end[0]).epsilon(1e-7));
  CHECK(x[1] == Approx(reference.end[1]).epsilon(1e-7));
}

}  // namespace

TEST_CASE("scg follows mlutilities.scg's trajectory step by step", "[optim]") {
  // References: the Python of mlutilities.scg run with numpy float64. The runs include rejected steps
  // (flat stretches of the trace), the growth of beta they cause, and (double well, iteration 1) the
  // negative-curvature branch that raises beta by -theta/kappa.
  SECTION("Rosenbrock from (-1.2, 1), 30 iterations") {
    RecordingRosenbrock rosenbrock;
    check_follows_reference(
        rosenbrock,
        {{-1.2, 1.0},
         {6.776000000000001,   4.130898761878819,   3.7618233590470957,  3.6740907302232713,  3.6740907302232713,
          3.6740907302232713,  3.6740907302232713,  3.6740907302232713,  3.6740907302232713,  3.6740907302232713,
          3.6740907302232713,  3.6740907302232713,  3.6740907302232713,  3.6740907302232713,  3.6740907302232713,
          3.6740907302232713,  2.399135114631018,   1.897532245739135,   1.897532245739135,   1.897532245739135,
          1.3754157578553436,  0.8762310445584786,  0.7417094857577199,  0.49824108938227935, 0.24200509861443636,
          0.19378908007148593, 0.06965917400663707, 0.04332942597367925, 0.005902960905796242,
          0.0038222873038812827, 0.0001028262181167522},
         {1e-06,    5e-07,    2.5e-07,  1.25e-07, 5e-07,    2e-06,    8e-06,    3.2e-05,  0.000128, 0.000512,
          0.002048, 0.008192, 0.032768, 0.131072, 0.524288, 2.097152, 1.048576, 0.524288, 2.097152, 8.388608,
          4.194304, 2.097152, 2.097152, 1.048576, 0.524288, 0.262144, 0.131072, 0.065536, 0.032768, 0.016384},
         {0.9947816770449671, 0.9868411246072736}});
  }
  SECTION("double well from (0.1, 0.2), 12 iterations") {
    DoubleWell well;
    check_follows_reference(
        well, {{0.1, 0.2},
               {2.8332999999999995, 2.8332999999999995, 2.7012933463183555, 2.0080027725854377, 1.0497003886905387,
                1.009968262322591, 0.7910499863736291, 0.7241409695995955, 0.5601658225554658, 0.4784686306861801,
                0.4763130776214447, 0.47626600015314235, 0.4762614916289236},
               {6.72780950719544, 26.91123802878176, 13.45561901439088, 6.72780950719544, 3.36390475359772,
                1.68195237679886, 0.84097618839943, 0.84097618839943, 0.84097618839943, 0.420488094199715,
                0.2102440470998575, 0.10512202354992875},
               {0.9329152800849315, 0.9694570053046757}});
  }
}
