// The training loop shared by `convlab train` and `convlab compare` (see training_run.hpp).
#include "common/nn/training_run.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "common/nn/metrics.hpp"
#include "common/nn/network_objectives.hpp"
#include "common/nn/optim_scg.hpp"

namespace convlab {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

template <typename T>
TrainingOutcome train_network(Network<T>& network, const TrainingPlan& plan, std::span<const T> train_inputs,
                              std::span<const std::uint8_t> train_labels, std::span<const T> test_inputs,
                              std::span<const std::uint8_t> test_labels, std::ostream* progress) {
  std::ostringstream history;
  const auto start = Clock::now();
  std::vector<double> error_trace;
  double evaluation_seconds = 0;  // per-epoch test evaluation, left out of the training time
  if (plan.use_scg) {
    if (progress) *progress << "Optimizer scg, " << plan.scg_iterations << " iterations over the full batch\n" << std::flush;
    history << "iteration,error,likelihood,seconds\n";
    NetworkFullBatchObjective<T> objective(network, train_inputs, train_labels);
    ScgOptions options;
    options.iterations = plan.scg_iterations;
    options.profile = plan.scg_profile;
    options.on_progress = [&](const ScgProgress& p) {
      if (!progress) return;
      *progress << "SCG iteration " << p.iteration << "/" << p.iterations << "  error " << fixed(p.error, 6)
                << "  likelihood " << fixed(std::exp(-p.error), 6) << "  " << fixed(seconds_since(start), 1)
                << " s\n" << std::flush;
    };
    options.on_iteration = [&](const ScgProgress& p) {
      history << p.iteration << "," << p.error << "," << std::exp(-p.error) << "," << seconds_since(start) << "\n";
    };
    ScgResult result = scg<T>(objective, network.parameters(), options);
    error_trace = std::move(result.error_trace);
    if (progress) *progress << "SCG stopped after " << result.iterations << " iterations: " << result.reason << "\n";
  } else {
    MinibatchOptions options = plan.minibatch;
    options.on_step = nullptr;
    if (progress) {
      *progress << "Optimizer " << to_string(options.algorithm)
                << (options.algorithm == MinibatchAlgorithm::Sgd ? " momentum " + fixed(options.momentum, 2)
                                                                 : std::string())
                << ", schedule " << to_string(options.schedule) << " lr " << options.learning_rate / plan.rate_factor
                << (plan.rate_factor != 1 ? " (x" + fixed(plan.rate_factor, 0) + " on the per-entry error)" : "")
                << ", batch " << options.batch_size << ", " << options.epochs << " epochs\n" << std::flush;
    }
    history << "epoch,error,likelihood,seconds,test_percent_correct\n";
    NetworkMinibatchObjective<T> objective(network, train_inputs, train_labels);
    options.on_epoch = [&](const MinibatchOptions::EpochReport& report) {
      const double trained_seconds = seconds_since(start) - evaluation_seconds;
      const auto evaluation_start = Clock::now();
      const double test_percent = percent_correct(network.classify(test_inputs), test_labels);
      evaluation_seconds += seconds_since(evaluation_start);
      const double error = report.mean_batch_error;
      if (progress) {
        *progress << "epoch " << report.epoch << "/" << options.epochs << "  error " << fixed(error, 6)
                  << "  likelihood " << fixed(std::exp(-error), 6) << "  lr "
                  << fixed(report.learning_rate / plan.rate_factor, 6) << "  test " << fixed(test_percent, 2)
                  << "%  " << fixed(trained_seconds, 1) << " s\n" << std::flush;
      }
      history << report.epoch << "," << error << "," << std::exp(-error) << "," << trained_seconds << ","
              << test_percent << "\n";
    };
    train_minibatch<T>(objective, network.parameters(), options);
  }
  TrainingOutcome outcome;
  outcome.training_seconds = seconds_since(start) - evaluation_seconds;
  outcome.history_csv = history.str();
  outcome.scg_error_trace = std::move(error_trace);
  return outcome;
}

template TrainingOutcome train_network<float>(Network<float>&, const TrainingPlan&, std::span<const float>,
                                              std::span<const std::uint8_t>, std::span<const float>,
                                              std::span<const std::uint8_t>, std::ostream*);
template TrainingOutcome train_network<double>(Network<double>&, const TrainingPlan&, std::span<const double>,
                                               std::span<const std::uint8_t>, std::span<const double>,
                                               std::span<const std::uint8_t>, std::ostream*);

}  // namespace convlab
