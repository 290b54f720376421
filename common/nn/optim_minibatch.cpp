// Minibatch training: SGD with momentum and Adam (PyTorch's update rules), a seeded portable shuffle,
// and learning-rate schedules (constant, step, cosine, one-cycle as PyTorch's OneCycleLR).
#include "common/nn/optim_minibatch.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <vector>

namespace convlab {

MinibatchAlgorithm parse_minibatch_algorithm(std::string_view name) {
  if (name == "sgd") return MinibatchAlgorithm::Sgd;
  if (name == "adam") return MinibatchAlgorithm::Adam;
  throw std::invalid_argument("optim_minibatch: unknown algorithm '" + std::string(name) +
                              "' (expected sgd or adam)");
}

LearningRateSchedule parse_learning_rate_schedule(std::string_view name) {
  if (name == "constant") return LearningRateSchedule::Constant;
  if (name == "step") return LearningRateSchedule::Step;
  if (name == "cosine") return LearningRateSchedule::Cosine;
  if (name == "onecycle") return LearningRateSchedule::OneCycle;
  throw std::invalid_argument("optim_minibatch: unknown learning-rate schedule '" + std::string(name) +
                              "' (expected constant, step, cosine or onecycle)");
}

std::string to_string(MinibatchAlgorithm algorithm) {
  switch (algorithm) {
    case MinibatchAlgorithm::Sgd: return "sgd";
    case MinibatchAlgorithm::Adam: return "adam";
  }
  throw std::invalid_argument("optim_minibatch: invalid MinibatchAlgorithm value");
}

std::string to_string(LearningRateSchedule schedule) {
  switch (schedule) {
    case LearningRateSchedule::Constant: return "constant";
    case LearningRateSchedule::Step: return "step";
    case LearningRateSchedule::Cosine: return "cosine";
    case LearningRateSchedule::OneCycle: return "onecycle";
  }
  throw std::invalid_argument("optim_minibatch: invalid LearningRateSchedule value");
}

namespace {

void check_step(Index step, Index total_steps, Index steps_per_epoch) {
  if (total_steps <= 0 || steps_per_epoch <= 0)
    throw std::invalid_argument("optim_minibatch: total_steps and steps_per_epoch must be positive");
  if (step < 0 || step >= total_steps)
    throw std::invalid_argument("optim_minibatch: step " + std::to_string(step) + " outside [0, " +
                                std::to_string(total_steps) + ")");
}

// PyTorch's OneCycleLR (two phases, anneal_strategy "cos"): phase one ends at step
// warmup * total - 1, phase two at total - 1; within a phase, cos-anneal from its start to its end value.
// Returns the fraction of the way through the current phase and whether it is phase one.
struct OneCyclePhase {
  bool rising;
  double fraction;
};

OneCyclePhase one_cycle_phase(double warmup, Index step, Index total_steps) {
  const double rise_end = warmup * static_cast<double>(total_steps) - 1;
  const double fall_end = static_cast<double>(total_steps) - 1;
  const double s = static_cast<double>(step);
  // PyTorch divides by (end - start) unguarded; a phase of zero length is taken as already complete.
  auto fraction = [](double from, double to, double at) { return to > from ? (at - from) / (to - from) : 1.0; };
  if (s <= rise_end) return {true, fraction(0, rise_end, s)};
  return {false, fraction(rise_end, fall_end, s)};
}

double cos_anneal(double start, double end, double fraction) {
  return end + (start - end) / 2 * (std::cos(std::numbers::pi * fraction) + 1);
}

constexpr double kOneCycleDivFactor = 25;        // initial rate = peak / 25
constexpr double kOneCycleFinalDivFactor = 1e4;  // final rate = initial rate / 1e4
constexpr double kOneCycleBaseMomentum = 0.85, kOneCycleMaxMomentum = 0.95;

void check_options(const MinibatchOptions& options) {
  if (options.batch_size <= 0) throw std::invalid_argument("optim_minibatch: batch_size must be positive");
  if (options.epochs < 0) throw std::invalid_argument("optim_minibatch: epochs must not be negative");
  if (!(options.learning_rate > 0)) throw std::invalid_argument("optim_minibatch: learning_rate must be positive");
  if (options.schedule == LearningRateSchedule::Step && options.step_every_epochs <= 0)
    throw std::invalid_argument("optim_minibatch: step_every_epochs must be positive");
  if (options.schedule == LearningRateSchedule::OneCycle &&
      !(options.one_cycle_warmup > 0 && options.one_cycle_warmup < 1))
    throw std::invalid_argument("optim_minibatch: one_cycle_warmup must be in (0, 1)");
  if (options.algorithm == MinibatchAlgorithm::Adam &&
      !(options.adam_beta1 >= 0 && options.adam_beta1 < 1 && options.adam_beta2 >= 0 && options.adam_beta2 < 1))
    throw std::invalid_argument("optim_minibatch: Adam betas must be in [0, 1)");
}

// A uniform integer in [0, bound] from 64-bit draws, by rejection: unlike std::uniform_int_distribution
// its result is the same on every standard library.
std::uint64_t uniform_up_to(std::mt19937_64& generator, std::uint64_t bound) {
  if (bound == 0) return 0;
  const std::uint64_t range = bound + 1;  // bound < 2^63 here, so no overflow
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  for (;;) {
    const std::uint64_t draw = generator();
    if (draw < limit) return draw % range;
  }
}

// Parameter updates of at least this many values are split over the OpenMP threads.
constexpr std::size_t kParallelUpdateMin = std::size_t(1) << 16;

void fisher_yates_shuffle(std::vector<Index>& order, std::mt19937_64& generator) {
  for (std::size_t i = order.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_up_to(generator, i - 1));
    std::swap(order[i - 1], order[j]);
  }
}

}  // namespace

double learning_rate_at(const MinibatchOptions& options, Index step, Index total_steps, Index steps_per_epoch) {
  check_step(step, total_steps, steps_per_epoch);
  const double rate = options.learning_rate;
  switch (options.schedule) {
    case LearningRateSchedule::Constant: return rate;
    case LearningRateSchedule::Step: {
      if (options.step_every_epochs <= 0)
        throw std::invalid_argument("optim_minibatch: step_every_epochs must be positive");
      const Index epoch = step / steps_per_epoch;  // 0-based
      return rate * std::pow(options.step_gamma, static_cast<double>(epoch / options.step_every_epochs));
    }
    case LearningRateSchedule::Cosine:
      return rate / 2 * (1 + std::cos(std::numbers::pi * static_cast<double>(step) / static_cast<double>(total_steps)));
    case LearningRateSchedule::OneCycle: {
      const double initial = rate / kOneCycleDivFactor;
      const double final_rate = initial / kOneCycleFinalDivFactor;
      const OneCyclePhase phase = one_cycle_phase(options.one_cycle_warmup, step, total_steps);
      return phase.rising ? cos_anneal(initial, rate, phase.fraction) : cos_anneal(rate, final_rate, phase.fraction);
    }
  }
  throw std::invalid_argument("optim_minibatch: invalid LearningRateSchedule value");
}

double momentum_at(const MinibatchOptions& options, Index step, Index total_steps, Index steps_per_epoch) {
  check_step(step, total_steps, steps_per_epoch);
  if (options.schedule != LearningRateSchedule::OneCycle) return options.momentum;
  const OneCyclePhase phase = one_cycle_phase(options.one_cycle_warmup, step, total_steps);
  return phase.rising ? cos_anneal(kOneCycleMaxMomentum, kOneCycleBaseMomentum, phase.fraction)
                      : cos_anneal(kOneCycleBaseMomentum, kOneCycleMaxMomentum, phase.fraction);
}

template <typename T>
MinibatchResult train_minibatch(MinibatchObjective<T>& objective, std::span<T> weights,
                                const MinibatchOptions& options) {
  check_options(options);
  const Index parameter_count = objective.parameter_count();
  if (static_cast<Index>(weights.size()) != parameter_count)
    throw std::invalid_argument("optim_minibatch: weights have " + std::to_string(weights.size()) +
                                " entries but the objective has " + std::to_string(parameter_count) +
                                " parameters");
  const Index example_count = objective.example_count();
  if (example_count <= 0) throw std::invalid_argument("optim_minibatch: the objective has no examples");

  const Index batch_size = std::min(options.batch_size, example_count);
  const Index steps_per_epoch = (example_count + batch_size - 1) / batch_size;
  const Index total_steps = steps_per_epoch * options.epochs;
  const bool adam = options.algorithm == MinibatchAlgorithm::Adam;
  const auto n = static_cast<std::size_t>(parameter_count);

  // Work buffers, allocated once: the gradient, and the momentum (SGD) or first and second moments (Adam).
  std::vector<T> gradient(n), first_moment(n, T(0)), second_moment(adam ? n : 0, T(0));
  std::vector<Index> order(static_cast<std::size_t>(example_count));
  for (Index i = 0; i < example_count; ++i) order[static_cast<std::size_t>(i)] = i;
  std::mt19937_64 generator(options.seed);

  MinibatchResult result;
  result.epoch_errors.reserve(static_cast<std::size_t>(options.epochs));
  Index step = 0;
  StepProfile* const profile = options.profile;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto shuffle_start = profile ? StepProfile::Clock::now() : StepProfile::Clock::time_point{};
    fisher_yates_shuffle(order, generator);
    if (profile) {
      // each of the swaps reads and writes two entries
      profile->add(StepOperation::data, shuffle_start, 0, 4.0 * double(example_count) * sizeof(Index));
      profile->add_wall_time(shuffle_start);
    }
    double weighted_error_sum = 0;
    double rate = 0;
    for (Index start = 0; start < example_count; start += batch_size) {
      const auto step_start = profile ? StepProfile::Clock::now() : StepProfile::Clock::time_point{};
      const Index count = std::min(batch_size, example_count - start);
      const std::span<const Index> batch(order.data() + start, static_cast<std::size_t>(count));
      double batch_error = 0;
      {
        const ProfileAttachment attached(objective, profile);
        batch_error = objective.error_and_gradient(weights, batch, gradient);
      }
      weighted_error_sum += batch_error * static_cast<double>(count);
      rate = learning_rate_at(options, step, total_steps, steps_per_epoch);
      const T decay = static_cast<T>(options.weight_decay);

      OperationTimer update(profile);
      if (!adam) {
        // PyTorch SGD: v = momentum v + (g + decay w); w -= rate v.
        const T momentum = static_cast<T>(momentum_at(options, step, total_steps, steps_per_epoch));
        const T lr = static_cast<T>(rate);
        T* const w = weights.data();
        T* const v = first_moment.data();
        const T* const grad = gradient.data();
        // Elementwise, so threads change no result; on the lecture's 576530 parameters a serial pass over
        // the three arrays (6.9 MB, mostly outside L2) took a tenth of each training step.
#pragma omp parallel for simd schedule(static) if (n >= kParallelUpdateMin)
        for (std::size_t i = 0; i < n; ++i) {
          const T g = grad[i] + decay * w[i];
          v[i] = momentum * v[i] + g;
          w[i] -= lr * v[i];
        }
      } else {
        // PyTorch Adam (L2 decay added to the gradient, bias-corrected moments):
        // w -= (rate / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
        const double t = static_cast<double>(step + 1);
        const T beta1 = static_cast<T>(options.adam_beta1), beta2 = static_cast<T>(options.adam_beta2);
        const T step_size = static_cast<T>(rate / (1 - std::pow(options.adam_beta1, t)));
        const T correction2_sqrt = static_cast<T>(std::sqrt(1 - std::pow(options.adam_beta2, t)));
        const T epsilon = static_cast<T>(options.adam_epsilon);
        T* const w = weights.data();
        T* const m = first_moment.data();
        T* const v = second_moment.data();
        const T* const grad = gradient.data();
#pragma omp parallel for simd schedule(static) if (n >= kParallelUpdateMin)
        for (std::size_t i = 0; i < n; ++i) {
          const T g = grad[i] + decay * w[i];
          m[i] = beta1 * m[i] + (T(1) - beta1) * g;
          v[i] = beta2 * v[i] + (T(1) - beta2) * g * g;
          const T denominator = std::sqrt(v[i]) / correction2_sqrt + epsilon;
          w[i] -= step_size * m[i] / denominator;
        }
      }
      // SGD reads w, v and the gradient and writes w and v; Adam also reads and writes its second moment
      update.done(StepOperation::update, 0, (adam ? 7.0 : 5.0) * double(n) * sizeof(T));
      if (profile) {
        profile->add_wall_time(step_start);
        profile->count_step(count);
      }
      ++step;
      if (options.on_step)
        options.on_step(MinibatchOptions::StepReport{epoch, step, total_steps, batch_error, rate});
    }
    const double mean_error = weighted_error_sum / static_cast<double>(example_count);
    result.epoch_errors.push_back(mean_error);
    if (options.on_epoch) options.on_epoch(MinibatchOptions::EpochReport{epoch, mean_error, rate});
  }
  result.steps = step;
  return result;
}

template MinibatchResult train_minibatch<float>(MinibatchObjective<float>&, std::span<float>, const MinibatchOptions&);
template MinibatchResult train_minibatch<double>(MinibatchObjective<double>&, std::span<double>,
                                                 const MinibatchOptions&);

}  // namespace convlab
