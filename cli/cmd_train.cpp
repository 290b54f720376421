// `convlab train`: trains the classifier on a digit dataset with SCG, SGD or Adam and reports accuracy.
// With no options it runs the lecture's network (1, [20, 50], 10, (28, 28), (5, 5), (1, 1)) on MNIST with
// the recipe measured to reach the lecture's accuracy: standardised pixels, SGD with momentum 0.9, a
// one-cycle schedule peaking at lr 0.05, batch 64, 6 epochs (PyTorch reached 98.29% test with it).
//
// --lr is in PyTorch's units, a rate on the mean cross-entropy per example. The network's error is that
// divided by the K classes (-sum(T log Y) / (N K), as the course code did), so its gradient is K times
// smaller and SGD is handed lr * K: the same steps as PyTorch's. Adam's steps do not depend on the
// gradient's scale, so it is handed lr as it is.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/classifier_report.hpp"
#include "cli/commands.hpp"
#include "common/atomic_file.hpp"
#include "common/conv_registry.hpp"
#include "common/model_file.hpp"
#include "common/network_objectives.hpp"
#include "common/optim_minibatch.hpp"
#include "common/optim_scg.hpp"

namespace convlab::cli {
namespace {

struct TrainSettings {
  std::string impl{kDefaultConvImpl};
  std::string dataset{kDefaultDataset};
  std::string optimizer = "sgd";
  int iterations = 100;
  int epochs = 6;
  long long batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.9;
  std::string schedule = "onecycle";
  long long seed = 1;
  int threads = 0;  // 0: OpenMP's default
  std::string arch = "conv20:5x5:s1,dense50";
  long long train_limit = 0;  // 0: every training image
  std::string scaling = "standardize";
  std::string precision;  // empty: double for scg, float otherwise
  std::string save_path, history_path;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Everything the run needs, checked before any data is loaded or any time is spent training.
struct CheckedSettings {
  bool use_scg = false;
  MinibatchOptions minibatch;
  double rate_factor = 1;  // optimiser's learning rate / --lr
  Scaling scaling = Scaling::standardize;
  bool use_double = false;
};

LearningRateSchedule parse_schedule(const std::string& name) {
  try {
    return parse_learning_rate_schedule(name);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("unknown --schedule '" + name + "' (known: constant, step, cosine, onecycle)");
  }
}

std::string shortest(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

CheckedSettings check(const TrainSettings& s, const CLI::App& command) {
  CheckedSettings checked;
  conv_implementation(s.impl);  // throws listing the known names
  require_known_dataset(s.dataset);
  if (s.optimizer != "scg" && s.optimizer != "sgd" && s.optimizer != "adam") {
    throw std::invalid_argument("unknown --optimizer '" + s.optimizer + "' (known: scg, sgd, adam)");
  }
  checked.use_scg = s.optimizer == "scg";
  require_at_least(s.iterations, 1, "--iterations");
  require_at_least(s.epochs, 1, "--epochs");
  require_at_least(s.batch_size, 1, "--batch-size");
  if (!(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    throw std::invalid_argument("--lr must be a positive number, got " + shortest(s.learning_rate));
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) {
    throw std::invalid_argument("--momentum must be in [0, 1), got " + shortest(s.momentum));
  }
  require_at_least(s.seed, 0, "--seed");
  if (command.count("--threads")) require_at_least(s.threads, 1, "--threads");
  if (command.count("--train-limit")) require_at_least(s.train_limit, 1, "--train-limit");
  checked.scaling = parse_scaling(s.scaling);
  if (s.precision.empty()) {
    checked.use_double = checked.use_scg;
  } else if (s.precision == "float" || s.precision == "double") {
    checked.use_double = s.precision == "double";
  } else {
    throw std::invalid_argument("unknown --precision '" + s.precision + "' (known: float, double)");
  }
  if (!checked.use_scg) {
    checked.minibatch.algorithm = parse_minibatch_algorithm(s.optimizer);
    checked.minibatch.schedule = parse_schedule(s.schedule);
    if (checked.minibatch.algorithm == MinibatchAlgorithm::Sgd) checked.rate_factor = double(kDigitClasses);
    checked.minibatch.learning_rate = s.learning_rate * checked.rate_factor;
    checked.minibatch.momentum = s.momentum;
    checked.minibatch.batch_size = s.batch_size;
    checked.minibatch.epochs = s.epochs;
    checked.minibatch.seed = std::uint64_t(s.seed);
  } else {
    parse_schedule(s.schedule);  // still reject a misspelt name
  }
  Architecture::parse(s.arch, 1, 28, 28, Index(kDigitClasses));  // both datasets are 28x28, 10 classes
  if (!s.save_path.empty()) check_model_path_writable(s.save_path);
  if (!s.history_path.empty()) check_output_writable(s.history_path, "history");
  return checked;
}

template <typename T>
void train_with(const TrainSettings& s, const CheckedSettings& checked, const Dataset& train, const Dataset& test,
                const PixelScaling& scaling, const Architecture& architecture) {
  const std::vector<T> train_inputs = to_inputs<T>(train, scaling);
  const std::vector<T> test_inputs = to_inputs<T>(test, scaling);
  const std::string impl = s.impl;
  Network<T> network(architecture, [impl] { return make_conv_impl(impl); }, std::uint64_t(s.seed));

  std::cout << "Network " << architecture.describe() << ", " << network.parameter_count() << " parameters, "
            << (checked.use_double ? "double" : "float") << "\n"
            << "Data " << train.name << ": " << train.count() << " training and " << test.count()
            << " test images, scaling " << to_string(scaling.kind) << " (mean " << fixed(scaling.mean, 4)
            << ", std " << fixed(scaling.stddev, 4) << " in byte units)\n"
            << "Convolution " << s.impl << ", " << omp_get_max_threads() << " OpenMP threads, seed " << s.seed << "\n";

  std::ostringstream history;
  const auto start = Clock::now();
  double evaluation_seconds = 0;  // per-epoch test evaluation, left out of the training time
  if (checked.use_scg) {
    std::cout << "Optimizer scg, " << s.iterations << " iterations over the full batch\n" << std::flush;
    history << "iteration,error,likelihood,seconds\n";
    NetworkFullBatchObjective<T> objective(network, train_inputs, train.labels);
    ScgOptions options;
    options.iterations = s.iterations;
    options.on_progress = [&](const ScgProgress& p) {
      std::cout << "SCG iteration " << p.iteration << "/" << p.iterations << "  error " << fixed(p.error, 6)
                << "  likelihood " << fixed(std::exp(-p.error), 6) << "  " << fixed(seconds_since(start), 1)
                << " s\n" << std::flush;
    };
    options.on_iteration = [&](const ScgProgress& p) {
      history << p.iteration << "," << p.error << "," << std::exp(-p.error) << "," << seconds_since(start) << "\n";
    };
    const ScgResult result = scg<T>(objective, network.parameters(), options);
    std::cout << "SCG stopped after " << result.iterations << " iterations: " << result.reason << "\n";
  } else {
    const MinibatchOptions& base = checked.minibatch;
    std::cout << "Optimizer " << to_string(base.algorithm)
              << (base.algorithm == MinibatchAlgorithm::Sgd ? " momentum " + fixed(base.momentum, 2) : std::string())
              << ", schedule " << to_string(base.schedule) << " lr " << s.learning_rate
              << (checked.rate_factor != 1 ? " (x" + fixed(checked.rate_factor, 0) + " on the per-entry error)" : "")
              << ", batch "
              << base.batch_size << ", " << base.epochs << " epochs\n" << std::flush;
    history << "epoch,error,likelihood,seconds,test_percent_correct\n";
    NetworkMinibatchObjective<T> objective(network, train_inputs, train.labels);
    MinibatchOptions options = base;
    options.on_epoch = [&](const MinibatchOptions::EpochReport& report) {
      const double trained_seconds = seconds_since(start) - evaluation_seconds;
      const auto evaluation_start = Clock::now();
      const double test_percent = report_accuracy<T>(network, test_inputs, test, "");
      evaluation_seconds += seconds_since(evaluation_start);
      const double error = report.mean_batch_error;
      std::cout << "epoch " << report.epoch << "/" << options.epochs << "  error " << fixed(error, 6)
                << "  likelihood " << fixed(std::exp(-error), 6) << "  lr " << fixed(report.learning_rate / checked.rate_factor, 6)
                << "  test " << fixed(test_percent, 2) << "%  " << fixed(trained_seconds, 1) << " s\n"
                << std::flush;
      history << report.epoch << "," << error << "," << std::exp(-error) << "," << trained_seconds << ","
              << test_percent << "\n";
    };
    train_minibatch<T>(objective, network.parameters(), options);
  }
  const double training_seconds = seconds_since(start) - evaluation_seconds;

  std::cout << "\nTraining took " << fixed(training_seconds, 2) << " s"
            << (checked.use_scg ? "" : " (not counting the per-epoch test evaluation)") << "\n";
  const double train_percent = report_accuracy<T>(network, train_inputs, train,
                                                  "Confusion matrix, training set (percent of each true class):");
  const double test_percent = report_accuracy<T>(network, test_inputs, test,
                                                 "Confusion matrix, test set (percent of each true class):");
  std::cout << "\nPercent correct: train " << fixed(train_percent, 2) << "%, test " << fixed(test_percent, 2)
            << "%\n";

  if (!s.history_path.empty()) {
    const std::string text = history.str();
    write_file_atomically(s.history_path, std::as_bytes(std::span<const char>(text)), "history");
    std::cout << "Training curve written to " << s.history_path << "\n";
  }
  if (!s.save_path.empty()) {
    SavedModel model;
    model.architecture = architecture;
    model.precision = checked.use_double ? Precision::Double : Precision::Float;
    model.scaling = scaling;
    model.parameters.assign(network.parameters().begin(), network.parameters().end());
    save_model(s.save_path, model);
    std::cout << "Model saved to " << s.save_path << "\n";
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto settings = std::make_shared<TrainSettings>();
  CLI::App* command = app.add_subcommand("train", "Train the classifier (default: the lecture's network on MNIST)");
  TrainSettings& s = *settings;
  command->add_option("--impl", s.impl, "Convolution implementation (see `convlab impls`)")->capture_default_str();
  command->add_option("--dataset", s.dataset, "mnist or fashion-mnist")->capture_default_str();
  command->add_option("--optimizer", s.optimizer, "scg (full batch), sgd or adam")->capture_default_str();
  command->add_option("--iterations", s.iterations, "SCG iterations")->capture_default_str();
  command->add_option("--epochs", s.epochs, "Epochs (sgd, adam)")->capture_default_str();
  command->add_option("--batch-size", s.batch_size, "Minibatch size (sgd, adam)")->capture_default_str();
  command->add_option("--lr", s.learning_rate, "Learning rate on the per-example cross-entropy, as PyTorch's (the peak for onecycle)")->capture_default_str();
  command->add_option("--momentum", s.momentum, "SGD momentum (onecycle cycles it 0.95-0.85 instead)")
      ->capture_default_str();
  command->add_option("--schedule", s.schedule, "constant, step, cosine or onecycle")->capture_default_str();
  command->add_option("--seed", s.seed, "Seed of the initial weights and the shuffle")->capture_default_str();
  command->add_option("--threads", s.threads, "OpenMP threads (default: OpenMP's choice)");
  command->add_option("--arch", s.arch, "Layers: conv<units>:<kh>x<kw>[:s<stride>][:p<pad>],...,dense<units>,...")
      ->capture_default_str();
  command->add_option("--train-limit", s.train_limit, "Use only the first N training images");
  command->add_option("--scaling", s.scaling, "Pixel scaling: lecture (byte/256) or standardize")->capture_default_str();
  command->add_option("--precision", s.precision, "float or double (default: double for scg, float otherwise)");
  command->add_option("--save", s.save_path, "Save the trained model here");
  command->add_option("--history", s.history_path, "Write the training curve here (CSV)");
  command->callback([settings, command] {
    const TrainSettings& s = *settings;
    const CheckedSettings checked = check(s, *command);
    if (command->count("--threads")) omp_set_num_threads(s.threads);
    const std::optional<std::size_t> limit =
        command->count("--train-limit") ? std::optional<std::size_t>(std::size_t(s.train_limit)) : std::nullopt;
    const Dataset train = load_dataset(s.dataset, DatasetSplit::train, limit);
    const Dataset test = load_dataset(s.dataset, DatasetSplit::test);
    const PixelScaling scaling = fit_scaling(checked.scaling, train);
    const Architecture architecture =
        Architecture::parse(s.arch, 1, Index(train.rows), Index(train.cols), Index(kDigitClasses));
    if (checked.use_double) {
      train_with<double>(s, checked, train, test, scaling, architecture);
    } else {
      train_with<float>(s, checked, train, test, scaling, architecture);
    }
  });
}

}  // namespace convlab::cli
