// The training options `convlab train` and `convlab compare` share (dataset, optimiser, budget, seed,
// threads, network, scaling, precision), their checks, and turning them into a TrainingPlan.
//
// --lr is in PyTorch's units, a rate on the mean cross-entropy per example. The network's error is that
// divided by the K classes (-sum(T log Y) / (N K), as the course code did), so its gradient is K times
// smaller and SGD is handed lr * K: the same steps as PyTorch's. Adam's steps do not depend on the
// gradient's scale, so it is handed lr as it is.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "common/conv/conv_registry.hpp"
#include "common/nn/architecture.hpp"
#include "common/data/datasets.hpp"
#include "common/nn/training_run.hpp"

namespace convlab::cli {

struct TrainingOptions {
  std::string dataset{kDefaultDataset};
  std::string optimizer = "sgd";
  int iterations = 100;
  // The default recipe: the fastest one that reached the lecture's 98.24 % for 5 of 5 seeds in
  // scripts/recipe_sweep.py's sweeps (docs/performance.md, "The training recipe").
  int epochs = 4;
  long long batch_size = 128;
  double learning_rate = 0.05;
  double momentum = 0.9;
  std::string schedule = "onecycle";
  long long seed = 1;
  int threads = 0;            // 0: OpenMP's default
  std::string arch = "conv20:5x5:s1,dense50";
  long long train_limit = 0;  // 0: every training image
  long long test_limit = 0;   // 0: every test image
  std::string scaling = "standardize";
  std::string precision;      // empty: double for scg, float otherwise
};

// Everything a run needs from TrainingOptions, checked before any data is loaded or time spent training.
struct CheckedTraining {
  TrainingPlan plan;
  Scaling scaling = Scaling::standardize;
  bool use_double = false;
  std::optional<std::size_t> train_limit;  // unset: every training image
  std::optional<std::size_t> test_limit;   // unset: every test image
};

// Adds the options to `command`, bound to `options` (whose current values are the defaults shown).
void add_training_options(CLI::App& command, TrainingOptions& options);

// Throws std::invalid_argument with a one-line message naming the bad option.
CheckedTraining check_training_options(const TrainingOptions& options, const CLI::App& command);

// The architecture --arch names on the digit datasets' 28x28 images and 10 classes.
Architecture digit_architecture(const TrainingOptions& options);

// The convolution factory a Network of `architecture` gets for implementation `impl`. Throws
// std::invalid_argument naming the layer when `impl` cannot run one of its convolutions (every pass when
// `training`, the forward pass otherwise), before any data is loaded or a network built.
std::function<std::unique_ptr<ConvImpl>()> network_conv_factory(const std::string& impl,
                                                                const Architecture& architecture, bool training);

// Applies --threads (when given) to OpenMP.
void apply_thread_option(const TrainingOptions& options, const CLI::App& command);

}  // namespace convlab::cli
