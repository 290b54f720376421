// Adapters that let the optimisers (common/optim_*.hpp) train a Network: the objective interfaces of
// common/nn/objective.hpp over (network, inputs, labels). They hold references: keep all three alive.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "common/nn/network.hpp"
#include "common/nn/objective.hpp"

namespace convlab {

// The mean error over every example, accumulated chunk by chunk (for scaled conjugate gradient).
template <typename T>
class NetworkFullBatchObjective final : public FullBatchObjective<T> {
 public:
  NetworkFullBatchObjective(Network<T>& network, std::span<const T> inputs, std::span<const std::uint8_t> labels)
      : network_(network), inputs_(inputs), labels_(labels) {
    if (labels.empty()) throw std::invalid_argument("full-batch objective: no training examples");
  }
  Index parameter_count() const override { return network_.parameter_count(); }
  Index example_count() const override { return Index(labels_.size()); }
  double error(std::span<const T> weights) override { return network_.error(weights, inputs_, labels_); }
  double error_and_gradient(std::span<const T> weights, std::span<T> gradient) override {
    return network_.error_and_gradient(weights, inputs_, labels_, gradient);
  }
  void attach_profile(StepProfile* profile) override { network_.set_profile(profile); }

 private:
  Network<T>& network_;
  std::span<const T> inputs_;
  std::span<const std::uint8_t> labels_;
};

// The mean error over a minibatch of examples given by index.
template <typename T>
class NetworkMinibatchObjective final : public MinibatchObjective<T> {
 public:
  NetworkMinibatchObjective(Network<T>& network, std::span<const T> inputs, std::span<const std::uint8_t> labels)
      : network_(network), inputs_(inputs), labels_(labels) {
    if (labels.empty()) throw std::invalid_argument("minibatch objective: no training examples");
  }
  Index parameter_count() const override { return network_.parameter_count(); }
  Index example_count() const override { return Index(labels_.size()); }
  double error_and_gradient(std::span<const T> weights, std::span<const Index> batch,
                            std::span<T> gradient) override {
    if (batch.empty()) throw std::invalid_argument("minibatch objective: empty batch");
    return network_.error_and_gradient(weights, inputs_, labels_, batch, gradient);
  }
  void attach_profile(StepProfile* profile) override { network_.set_profile(profile); }

 private:
  Network<T>& network_;
  std::span<const T> inputs_;
  std::span<const std::uint8_t> labels_;
};

}  // namespace convlab
