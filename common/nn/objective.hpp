// What an optimiser sees of a model: a function of a flat weight vector, and its gradient.
//
// Optimisers (common/optim_*.hpp) know nothing of networks; the network provides these adapters.
#pragma once

#include <span>

#include "common/tensor/strided_view.hpp"

namespace convlab {
class StepProfile;
}

namespace convlab {

// Full-batch: the error over the whole training set (for scaled conjugate gradient).
template <typename T>
class FullBatchObjective {
 public:
  virtual ~FullBatchObjective() = default;
  virtual Index parameter_count() const = 0;
  // The examples one evaluation runs over (0 when the objective does not say).
  virtual Index example_count() const { return 0; }
  virtual double error(std::span<const T> weights) = 0;
  // Returns the error and writes d error / d weights into `gradient` (same size as weights).
  virtual double error_and_gradient(std::span<const T> weights, std::span<T> gradient) = 0;
  // As MinibatchObjective::attach_profile: while attached, each evaluation adds its operations' times.
  virtual void attach_profile(StepProfile* /*profile*/) {}
};

// Minibatch: the mean error over a subset of training examples, given by index.
template <typename T>
class MinibatchObjective {
 public:
  virtual ~MinibatchObjective() = default;
  virtual Index parameter_count() const = 0;
  virtual Index example_count() const = 0;
  virtual double error_and_gradient(std::span<const T> weights, std::span<const Index> batch,
                                    std::span<T> gradient) = 0;
  // While attached (non-null), error_and_gradient adds its operations' times to `profile`
  // (common/nn/step_profile.hpp); train_minibatch attaches it around each call when profiling. An objective
  // that cannot break its work down ignores it, and its time shows as the step's "other".
  virtual void attach_profile(StepProfile* /*profile*/) {}
};

// Attaches `profile` (when non-null) to an objective for the lifetime of this object, and detaches it however
// that scope ends: the optimisers' way of profiling a step (minibatch) or every iteration (SCG).
template <typename Objective>
class ProfileAttachment {
 public:
  ProfileAttachment(Objective& objective, StepProfile* profile) : objective_(objective), on_(profile != nullptr) {
    if (on_) objective_.attach_profile(profile);
  }
  ProfileAttachment(const ProfileAttachment&) = delete;
  ProfileAttachment& operator=(const ProfileAttachment&) = delete;
  ~ProfileAttachment() {
    if (on_) objective_.attach_profile(nullptr);
  }

 private:
  Objective& objective_;
  bool on_;
};

}  // namespace convlab
