// One training run of a Network, as `convlab train` and `convlab compare` both do it: full-batch scaled
// conjugate gradient or minibatch SGD/Adam, with the training curve recorded as CSV and the per-epoch test
// evaluation (minibatch only) left out of the training time.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "common/nn/network.hpp"
#include "common/nn/optim_minibatch.hpp"

namespace convlab {

struct TrainingPlan {
  bool use_scg = false;
  int scg_iterations = 100;
  StepProfile* scg_profile = nullptr;  // when use_scg: ScgOptions::profile (each iteration one step)
  MinibatchOptions minibatch;  // when !use_scg; its on_step/on_epoch are ignored (train_network sets its own)
  double rate_factor = 1;      // the optimiser's learning rate / the user's --lr (progress lines divide by it)
};

struct TrainingOutcome {
  double training_seconds = 0;  // wall time in the optimiser, minus the per-epoch test evaluations
  // scg: "iteration,error,likelihood,seconds"; minibatch: "epoch,error,likelihood,seconds,test_percent_correct"
  std::string history_csv;
  std::vector<double> scg_error_trace;  // scg: the initial error, then one per iteration (the lecture's getErrors())
};

// Trains `network` in place from its current parameters. When `progress` is non-null, writes the
// optimiser's description, one line per epoch (minibatch) or per tenth of the iterations (scg), and SCG's
// stopping reason to it, as `convlab train` prints them.
template <typename T>
TrainingOutcome train_network(Network<T>& network, const TrainingPlan& plan, std::span<const T> train_inputs,
                              std::span<const std::uint8_t> train_labels, std::span<const T> test_inputs,
                              std::span<const std::uint8_t> test_labels, std::ostream* progress);

extern template TrainingOutcome train_network<float>(Network<float>&, const TrainingPlan&, std::span<const float>,
                                                     std::span<const std::uint8_t>, std::span<const float>,
                                                     std::span<const std::uint8_t>, std::ostream*);
extern template TrainingOutcome train_network<double>(Network<double>&, const TrainingPlan&,
                                                      std::span<const double>, std::span<const std::uint8_t>,
                                                      std::span<const double>, std::span<const std::uint8_t>,
                                                      std::ostream*);

}  // namespace convlab
