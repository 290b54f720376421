// Minibatch training: SGD with momentum or Adam, shuffled by a seed, with a learning-rate schedule.
// Same seed and same thread count give the same weights, bit for bit.
// Each epoch shuffles the example indices (std::mt19937_64 seeded once with `seed`, our own Fisher-Yates,
// so the order is the same with every standard library) and visits them in batches of batch_size; the
// last batch of an epoch holds the remainder. MinibatchResult::epoch_errors and EpochReport's
// mean_batch_error weight each batch's error by its size, so they are the mean per-example error.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/nn/objective.hpp"
#include "common/nn/step_profile.hpp"

namespace convlab {

enum class MinibatchAlgorithm { Sgd, Adam };
enum class LearningRateSchedule { Constant, Step, Cosine, OneCycle };

// Parse "sgd"/"adam" and "constant"/"step"/"cosine"/"onecycle"; throw std::invalid_argument otherwise.
MinibatchAlgorithm parse_minibatch_algorithm(std::string_view name);
LearningRateSchedule parse_learning_rate_schedule(std::string_view name);
std::string to_string(MinibatchAlgorithm algorithm);
std::string to_string(LearningRateSchedule schedule);

struct MinibatchOptions {
  MinibatchAlgorithm algorithm = MinibatchAlgorithm::Sgd;
  LearningRateSchedule schedule = LearningRateSchedule::OneCycle;
  double learning_rate = 0.05;   // the peak rate for one-cycle, the initial rate otherwise
  double momentum = 0.9;         // SGD (heavy ball)
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  double weight_decay = 0;
  double step_gamma = 0.1;       // Step: multiply the rate by this ...
  int step_every_epochs = 2;     // ... every this many epochs
  double one_cycle_warmup = 0.3; // OneCycle: fraction of steps spent rising to the peak
  Index batch_size = 64;
  int epochs = 6;
  std::uint64_t seed = 1;
  struct StepReport {
    int epoch;           // 1-based
    Index step;          // 1-based, counted over the whole run
    Index total_steps;
    double batch_error;  // mean error of this minibatch before the update
    double learning_rate;
  };
  struct EpochReport {
    int epoch;                 // 1-based
    double mean_batch_error;   // mean of the minibatch errors seen during the epoch
    double learning_rate;      // the rate at the epoch's last step
  };
  std::function<void(const StepReport&)> on_step;    // may be empty
  std::function<void(const EpochReport&)> on_epoch;  // may be empty
  // When non-null, every step's operations are timed into it (common/nn/step_profile.hpp): the epoch's
  // shuffle and the update here, the rest by the objective (MinibatchObjective::attach_profile) while it
  // computes the step's gradient. The callbacks above are not timed. The weights are the same, bit for bit.
  StepProfile* profile = nullptr;
};

struct MinibatchResult {
  std::vector<double> epoch_errors;  // mean minibatch error per epoch
  Index steps = 0;
};

// The learning rate at step `step` (0-based) of `total_steps` under `options`.
//   Constant: learning_rate.
//   Step:     learning_rate * step_gamma^(epoch / step_every_epochs), epoch = step / steps_per_epoch (0-based).
//   Cosine:   learning_rate * (1 + cos(pi step / total_steps)) / 2, per step (PyTorch CosineAnnealingLR,
//             T_max = total_steps, eta_min = 0).
//   OneCycle: PyTorch OneCycleLR (anneal_strategy "cos", div_factor 25, final_div_factor 1e4,
//             pct_start = one_cycle_warmup): cos-rises from learning_rate/25 at step 0 to learning_rate at
//             step warmup*total_steps - 1, then cos-anneals to learning_rate/2.5e5 at step total_steps - 1.
// Throws std::invalid_argument unless 0 <= step < total_steps and steps_per_epoch > 0.
double learning_rate_at(const MinibatchOptions& options, Index step, Index total_steps, Index steps_per_epoch);

// The SGD momentum at a step: options.momentum, except under OneCycle, where, as PyTorch's OneCycleLR does
// by default (cycle_momentum), it cos-falls from 0.95 to 0.85 while the rate rises and climbs back to 0.95
// while it falls; options.momentum is then unused. (Adam's beta1 is never cycled.)
double momentum_at(const MinibatchOptions& options, Index step, Index total_steps, Index steps_per_epoch);

template <typename T>
MinibatchResult train_minibatch(MinibatchObjective<T>& objective, std::span<T> weights,
                                const MinibatchOptions& options);

}  // namespace convlab
