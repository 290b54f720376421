// Tests of minibatch training (common/nn/optim_minibatch.hpp): update rules against PyTorch 1.13, schedules,
// shuffling, determinism and partial batches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "common/nn/optim_minibatch.hpp"

using convlab::Index;
using convlab::LearningRateSchedule;
using convlab::MinibatchAlgorithm;
using convlab::MinibatchObjective;
using convlab::MinibatchOptions;

namespace {

// Mean of 0.5 (x_i . w - y_i)^2 over the batch; remembers every batch it was given.
template <typename T>
class LeastSquares : public MinibatchObjective<T> {
 public:
  LeastSquares(std::vector<double> x, std::vector<double> y) : x_(std::move(x)), y_(std::move(y)) {}
  Index parameter_count() const override { return static_cast<Index>(x_.size() / y_.size()); }
  Index example_count() const override { return static_cast<Index>(y_.size()); }
  double error_and_gradient(std::span<const T> w, std::span<const Index> batch, std::span<T> gradient) override {
    batches.emplace_back(batch.begin(), batch.end());
    const std::size_t n = w.size();
    std::vector<double> g(n, 0.0);
    double sum = 0;
    for (const Index example : batch) {
      const auto r = static_cast<std::size_t>(example);
      double residual = -y_[r];
      for (std::size_t c = 0; c < n; ++c) residual += x_[r * n + c] * static_cast<double>(w[c]);
      sum += 0.5 * residual * residual;
      for (std::size_t c = 0; c < n; ++c) g[c] += residual * x_[r * n + c];
    }
    const auto count = static_cast<double>(batch.size());
    for (std::size_t c = 0; c < n; ++c) gradient[c] = static_cast<T>(g[c] / count);
    return sum / count;
  }
  double full_error(std::span<const T> w) {
    std::vector<Index> all(y_.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Index>(i);
    std::vector<T> unused(w.size());
    const double error = error_and_gradient(w, all, unused);
    batches.pop_back();
    return error;
  }
  std::vector<std::vector<Index>> batches;

 private:
  std::vector<double> x_, y_;
};

// y = X w_true + small noise, X uniform in [-1, 1].
template <typename T>
LeastSquares<T> make_regression(std::size_t rows, std::size_t columns, std::uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<double> uniform(-1, 1);
  std::vector<double> x(rows * columns), y(rows, 0.0);
  for (auto& v : x) v = uniform(generator);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < columns; ++c) y[r] += x[r * columns + c] * (static_cast<double>(c) - 1.5);
    y[r] += 0.01 * uniform(generator);
  }
  return LeastSquares<T>(std::move(x), std::move(y));
}

// Mean logistic loss of labels {0, 1} over the batch; the last weight is the bias.
template <typename T>
class Logistic : public MinibatchObjective<T> {
 public:
  Logistic(std::size_t features, int examples, std::uint64_t seed) : features_(features) {
    std::mt19937_64 generator(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int r = 0; r < examples; ++r) {
      labels_.push_back(r % 2);
      for (std::size_t c = 0; c < features; ++c) x_.push_back(noise(generator) + (r % 2 ? 1.0 : -1.0));
    }
  }
  Index parameter_count() const override { return static_cast<Index>(features_ + 1); }
  Index example_count() const override { return static_cast<Index>(labels_.size()); }
  double error_and_gradient(std::span<const T> w, std::span<const Index> batch, std::span<T> gradient) override {
    const std::size_t n = features_;
    std::vector<double> g(n + 1, 0.0);
    double sum = 0;
    for (const Index example : batch) {
      const auto r = static_cast<std::size_t>(example);
      double z = static_cast<double>(w[n]);
      for (std::size_t c = 0; c < n; ++c) z += x_[r * n + c] * static_cast<double>(w[c]);
      const double signed_z = labels_[r] ? z : -z;
      sum += std::max(-signed_z, 0.0) + std::log1p(std::exp(-std::abs(signed_z)));
      const double dz = 1 / (1 + std::exp(-z)) - labels_[r];
      for (std::size_t c = 0; c < n; ++c) g[c] += dz * x_[r * n + c];
      g[n] += dz;
    }
    const auto count = static_cast<double>(batch.size());
    for (std::size_t c = 0; c <= n; ++c) gradient[c] = static_cast<T>(g[c] / count);
    return sum / count;
  }
  double full_error(std::span<const T> w) {
    std::vector<Index> all(labels_.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Index>(i);
    std::vector<T> unused(w.size());
    return error_and_gradient(w, all, unused);
  }

 private:
  std::size_t features_;
  std::vector<double> x_;
  std::vector<int> labels_;
};

}  // namespace

TEST_CASE("algorithm and schedule names parse and print", "[optim]") {
  for (auto algorithm : {MinibatchAlgorithm::Sgd, MinibatchAlgorithm::Adam})
    CHECK(convlab::parse_minibatch_algorithm(convlab::to_string(algorithm)) == algorithm);
  for (auto schedule : {LearningRateSchedule::Constant, LearningRateSchedule::Step, LearningRateSchedule::Cosine,
                        LearningRateSchedule::OneCycle})
    CHECK(convlab::parse_learning_rate_schedule(convlab::to_string(schedule)) == schedule);
  CHECK(convlab::to_string(MinibatchAlgorithm::Adam) == "adam");
  CHECK(convlab::to_string(LearningRateSchedule::OneCycle) == "onecycle");
  CHECK_THROWS_AS(convlab::parse_minibatch_algorithm("rmsprop"), std::invalid_argument);
  CHECK_THROWS_AS(convlab::parse_minibatch_algorithm("SGD"), std::invalid_argument);
  CHECK_THROWS_AS(convlab::parse_learning_rate_schedule("one-cycle"), std::invalid_argument);
  CHECK_THROWS_AS(convlab::parse_learning_rate_schedule(""), std::invalid_argument);
}

TEST_CASE("one-cycle rates and momenta match PyTorch's OneCycleLR", "[optim]") {
  // Reference values printed by torch 1.13 OneCycleLR(max_lr=0.1, total_steps=100) over SGD(momentum=0.9).
  MinibatchOptions options;
  options.schedule = LearningRateSchedule::OneCycle;
  options.learning_rate = 0.1;
  const auto rate = [&](Index step) { return convlab::learning_rate_at(options, step, 100, 10); };
  const auto momentum = [&](Index step) { return convlab::momentum_at(options, step, 100, 10); };
  CHECK(rate(0) == Approx(0.1 / 25).epsilon(1e-14));  // starts at peak / 25
  CHECK(rate(1) == Approx(0.004281378056590748).epsilon(1e-12));
  CHECK(rate(14) == Approx(0.04940133238789996).epsilon(1e-12));
  CHECK(rate(29) == Approx(0.1).epsilon(1e-14));      // the peak at 30% of the steps (step 0.3 * 100 - 1)
  CHECK(rate(30) == Approx(0.09994965352845243).epsilon(1e-12));
  CHECK(rate(64) == Approx(0.0500002).epsilon(1e-12));  // halfway down: (peak + peak / 2.5e5) / 2
  CHECK(rate(98) == Approx(5.07464715475788e-05).epsilon(1e-10));
  CHECK(rate(99) == Approx(0.1 / 25 / 1e4).epsilon(1e-12));  // ends at peak / 2.5e5
  CHECK(momentum(0) == Approx(0.95).epsilon(1e-14));
  CHECK(momentum(1) == Approx(0.9497068978577179).epsilon(1e-12));
  CHECK(momentum(14) == Approx(0.9027069454292709).epsilon(1e-12));
  CHECK(momentum(29) == Approx(0.85).epsilon(1e-14));
  CHECK(momentum(64) == Approx(0.9).epsilon(1e-12));
  CHECK(momentum(99) == Approx(0.95).epsilon(1e-14));

  // OneCycleLR(max_lr=0.2, total_steps=37, pct_start=0.25): the peak falls between steps.
  options.learning_rate = 0.2;
  options.one_cycle_warmup = 0.25;
  const auto rate37 = [&](Index step) { return convlab::learning_rate_at(options, step, 37, 5); };
  CHECK(rate37(0) == Approx(0.008).epsilon(1e-12));
  CHECK(rate37(5) == Approx(0.1353985244784725).epsilon(1e-12));
  CHECK(rate37(8) == Approx(0.19956530456701613).epsilon(1e-12));
  CHECK(rate37(9) == Approx(0.19963975029525724).epsilon(1e-12));
  CHECK(rate37(20) == Approx(0.12382616383887993).epsilon(1e-12));
  CHECK(rate37(36) == Approx(8e-07).epsilon(1e-12));
}

TEST_CASE("constant, step and cosine schedules give their documented rates", "[optim]") {
  MinibatchOptions options;
  options.learning_rate = 0.1;
  options.schedule = LearningRateSchedule::Constant;
  CHECK(convlab::learning_rate_at(options, 0, 100, 10) == 0.1);
  CHECK(convlab::learning_rate_at(options, 99, 100, 10) == 0.1);
  CHECK(convlab::momentum_at(options, 50, 100, 10) == 0.9);

  options.schedule = LearningRateSchedule::Step;  // x0.1 every 2 epochs of 10 steps
  CHECK(convlab::learning_rate_at(options, 0, 100, 10) == Approx(0.1));
  CHECK(convlab::learning_rate_at(options, 19, 100, 10) == Approx(0.1));
  CHECK(convlab::learning_rate_at(options, 20, 100, 10) == Approx(0.01));
  CHECK(convlab::learning_rate_at(options, 45, 100, 10) == Approx(0.001));
  CHECK(convlab::learning_rate_at(options, 99, 100, 10) == Approx(1e-5));

  // Cosine: values of torch 1.13 CosineAnnealingLR(T_max=100) over lr 0.1.
  options.schedule = LearningRateSchedule::Cosine;
  CHECK(convlab::learning_rate_at(options, 0, 100, 10) == Approx(0.1).epsilon(1e-14));
  CHECK(convlab::learning_rate_at(options, 25, 100, 10) == Approx(0.0853553390593274).epsilon(1e-12));
  CHECK(convlab::learning_rate_at(options, 50, 100, 10) == Approx(0.05).epsilon(1e-12));
  CHECK(convlab::learning_rate_at(options, 99, 100, 10) == Approx(2.4671981713420017e-05).epsilon(1e-9));

  CHECK_THROWS_AS(convlab::learning_rate_at(options, 100, 100, 10), std::invalid_argument);
  CHECK_THROWS_AS(convlab::learning_rate_at(options, -1, 100, 10), std::invalid_argument);
  CHECK_THROWS_AS(convlab::learning_rate_at(options, 0, 100, 0), std::invalid_argument);
}

TEST_CASE("SGD and Adam updates match PyTorch step for step", "[optim]") {
  // Five full-batch steps on 4 examples from w = (0.3, -0.2); references printed by torch 1.13 in float64.
  LeastSquares<double> problem({1, 2, 3, -1, 0.5, 0.5, -2, 1}, {1, 2, 0.5, -1});
  MinibatchOptions options;
  options.batch_size = 4;
  options.epochs = 5;
  options.schedule = LearningRateSchedule::Constant;
  std::vector<double> w;

  SECTION("SGD(lr=0.1, momentum=0.9, weight_decay=0.01)") {
    options.algorithm = MinibatchAlgorithm::Sgd;
    options.learning_rate = 0.1;
    options.momentum = 0.9;
    options.weight_decay = 0.01;
    w = {0.3, -0.2};
    convlab::train_minibatch(problem, std::span<double>(w), options);
    CHECK(w[0] == Approx(0.9024537614805681).epsilon(1e-12));
    CHECK(w[1] == Approx(0.2470971059809281).epsilon(1e-12));
  }
  SECTION("Adam(lr=0.05, weight_decay=0.01)") {
    options.algorithm = MinibatchAlgorithm::Adam;
    options.learning_rate = 0.05;
    options.weight_decay = 0.01;
    w = {0.3, -0.2};
    convlab::train_minibatch(problem, std::span<double>(w), options);
    CHECK(w[0] == Approx(0.543781686138231).epsilon(1e-12));
    CHECK(w[1] == Approx(0.04361427756507442).epsilon(1e-12));
  }
  SECTION("SGD under OneCycleLR(max_lr=0.1, total_steps=5), momentum cycled") {
    options.algorithm = MinibatchAlgorithm::Sgd;
    options.schedule = LearningRateSchedule::OneCycle;
    options.learning_rate = 0.1;
    w = {0.3, -0.2};
    convlab::train_minibatch(problem, std::span<double>(w), options);
    CHECK(w[0] == Approx(0.6750499261625249).epsilon(1e-12));
    CHECK(w[1] == Approx(-0.06057234287988285).epsilon(1e-12));
  }
}

TEMPLATE_TEST_CASE("SGD and Adam reduce a least-squares and a logistic error", "[optim]", float, double) {
  const auto algorithm = GENERATE(MinibatchAlgorithm::Sgd, MinibatchAlgorithm::Adam);
  const auto schedule = GENERATE(LearningRateSchedule::Constant, LearningRateSchedule::OneCycle);
  MinibatchOptions options;
  options.algorithm = algorithm;
  options.schedule = schedule;
  options.learning_rate = 0.05;
  options.batch_size = 16;
  options.epochs = 20;
  INFO(convlab::to_string(algorithm) << " " << convlab::to_string(schedule));
  {
    auto problem = make_regression<TestType>(200, 4, 3);
    std::vector<TestType> w(4, TestType(0));
    const double before = problem.full_error(w);
    const auto result = convlab::train_minibatch(problem, std::span<TestType>(w), options);
    const double after = problem.full_error(w);
    CHECK(after < 1e-3 * before);
    REQUIRE(result.epoch_errors.size() == 20);
    CHECK(result.epoch_errors.back() < 0.1 * result.epoch_errors.front());
    for (std::size_t c = 0; c < 4; ++c) CHECK(w[c] == Approx(static_cast<double>(c) - 1.5).margin(0.02));
  }
  {
    Logistic<TestType> problem(3, 300, 4);
    std::vector<TestType> w(4, TestType(0));
    const double before = problem.full_error(w);
    convlab::train_minibatch(problem, std::span<TestType>(w), options);
    const double after = problem.full_error(w);
    CHECK(before == Approx(std::log(2.0)));
    CHECK(after < 0.2);
  }
}

TEST_CASE("minibatch training is deterministic in its seed", "[optim]") {
  MinibatchOptions options;
  options.algorithm = MinibatchAlgorithm::Adam;
  options.batch_size = 7;
  options.epochs = 3;
  auto run = [&](std::uint64_t seed, std::vector<std::vector<Index>>* batches) {
    auto problem = make_regression<float>(50, 3, 8);
    std::vector<float> w(3, 0.0f);
    options.seed = seed;
    convlab::train_minibatch(problem, std::span<float>(w), options);
    if (batches) *batches = problem.batches;
    return w;
  };
  std::vector<std::vector<Index>> first_batches, second_batches, other_batches;
  const auto first = run(42, &first_batches);
  const auto second = run(42, &second_batches);
  const auto other = run(43, &other_batches);
  CHECK(first == second);  // bit for bit
  CHECK(first_batches == second_batches);
  CHECK(first_batches != other_batches);
  CHECK(first != other);
  // Epochs are shuffled differently from one another too.
  REQUIRE(first_batches.size() == 3 * 8);
  CHECK(first_batches[0] != first_batches[8]);
}

TEST_CASE("the shuffle is the portable Fisher-Yates over mt19937_64", "[optim]") {
  // Recompute the first epoch's order independently: for i = n-1 .. 1, swap order[i] with order[j], j drawn
  // uniformly from [0, i] by rejection from 64-bit outputs of std::mt19937_64(seed).
  const Index n = 23;
  auto problem = make_regression<double>(static_cast<std::size_t>(n), 2, 1);
  std::vector<double> w(2, 0.0);
  MinibatchOptions options;
  options.batch_size = n;
  options.epochs = 1;
  options.seed = 2024;
  convlab::train_minibatch(problem, std::span<double>(w), options);
  std::vector<Index> expected(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) expected[static_cast<std::size_t>(i)] = i;
  std::mt19937_64 generator(2024);
  for (std::uint64_t i = static_cast<std::uint64_t>(n) - 1; i >= 1; --i) {
    const std::uint64_t range = i + 1;
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    std::uint64_t draw;
    do draw = generator(); while (draw >= limit);
    std::swap(expected[i], expected[draw % range]);
  }
  REQUIRE(problem.batches.size() == 1);
  CHECK(problem.batches[0] == expected);
}

TEST_CASE("batch sizes that do not divide the example count include the last partial batch", "[optim]") {
  auto problem = make_regression<double>(10, 2, 5);
  std::vector<double> w(2, 0.0);
  MinibatchOptions options;
  options.batch_size = 4;
  options.epochs = 2;
  std::vector<MinibatchOptions::StepReport> steps;
  std::vector<MinibatchOptions::EpochReport> epochs;
  options.on_step = [&](const MinibatchOptions::StepReport& r) { steps.push_back(r); };
  options.on_epoch = [&](const MinibatchOptions::EpochReport& r) { epochs.push_back(r); };
  const auto result = convlab::train_minibatch(problem, std::span<double>(w), options);
  CHECK(result.steps == 6);
  REQUIRE(problem.batches.size() == 6);
  for (int epoch = 0; epoch < 2; ++epoch) {
    CHECK(problem.batches[3 * epoch + 0].size() == 4);
    CHECK(problem.batches[3 * epoch + 1].size() == 4);
    CHECK(problem.batches[3 * epoch + 2].size() == 2);
    std::multiset<Index> seen;
    for (int b = 0; b < 3; ++b)
      seen.insert(problem.batches[3 * epoch + b].begin(), problem.batches[3 * epoch + b].end());
    CHECK(seen == std::multiset<Index>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // every example once per epoch
  }
  REQUIRE(steps.size() == 6);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CHECK(steps[i].step == static_cast<Index>(i) + 1);
    CHECK(steps[i].total_steps == 6);
    CHECK(steps[i].epoch == static_cast<int>(i) / 3 + 1);
    CHECK(steps[i].learning_rate == convlab::learning_rate_at(options, static_cast<Index>(i), 6, 3));
  }
  REQUIRE(epochs.size() == 2);
  CHECK(epochs[1].epoch == 2);
  CHECK(epochs[1].learning_rate == steps.back().learning_rate);
  // Batch errors weighted by batch size: the epoch's mean per-example error.
  CHECK(epochs[0].mean_batch_error ==
        Approx((4 * steps[0].batch_error + 4 * steps[1].batch_error + 2 * steps[2].batch_error) / 10));
  CHECK(result.epoch_errors == std::vector<double>{epochs[0].mean_batch_error, epochs[1].mean_batch_error});

  SECTION("a batch larger than the data set is one batch") {
    problem.batches.clear();
    options.batch_size = 64;
    options.on_step = nullptr;
    options.on_epoch = nullptr;
    CHECK(convlab::train_minibatch(problem, std::span<double>(w), options).steps == 2);
    CHECK(problem.batches[0].size() == 10);
  }
}

TEST_CASE("minibatch training rejects bad options", "[optim]") {
  auto problem = make_regression<double>(10, 2, 5);
  std::vector<double> w(2, 0.0);
  MinibatchOptions options;
  options.batch_size = 0;
  CHECK_THROWS_AS(convlab::train_minibatch(problem, std::span<double>(w), options), std::invalid_argument);
  options.batch_size = 4;
  options.learning_rate = -1;
  CHECK_THROWS_AS(convlab::train_minibatch(problem, std::span<double>(w), options), std::invalid_argument);
  options.learning_rate = 0.1;
  std::vector<double> wrong(3, 0.0);
  CHECK_THROWS_AS(convlab::train_minibatch(problem, std::span<double>(wrong), options), std::invalid_argument);
}
