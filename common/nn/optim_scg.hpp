// Full-batch scaled conjugate gradient (Moller 1993), as the course's mlutilities.scg implements it.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/nn/objective.hpp"
#include "common/nn/step_profile.hpp"

namespace convlab {

struct ScgProgress {
  int iteration = 0;        // 1-based
  int iterations = 0;       // the budget
  double error = 0;         // error at the current weights
  double scale = 0;         // beta (Moller's lambda)
};

struct ScgOptions {
  int iterations = 100;
  double x_precision = 0;   // stop when max |alpha d| falls below this (0: never)
  double f_precision = 0;   // stop when |f_new - f_old| falls below this (0: never)
  // Called every tenth of the iterations (as mlutilities.scg prints), and after the last one.
  std::function<void(const ScgProgress&)> on_progress;
  // Called after every iteration (for training curves); may be empty.
  std::function<void(const ScgProgress&)> on_iteration;
  // When non-null, every iteration is one step of it (common/nn/step_profile.hpp): the iteration's wall time,
  // the objective's operations in its evaluations (attached for the iterations, not the first evaluation before
  // them), and SCG's own arithmetic on the weight-sized vectors (dot products, scaled sums, copies) as `update`.
  // A step's examples are the examples of the evaluations it ran. The weights are the same as without.
  StepProfile* profile = nullptr;
};

struct ScgResult {
  std::vector<double> error_trace;  // the initial error, then one entry per iteration
  int iterations = 0;               // iterations carried out
  std::string reason;               // why it stopped: "did not converge" when the budget ran out
};

// Minimises objective over `weights` in place. ScgResult::reason is one of mlutilities.scg's strings:
// "limit on machine precision" (|d|^2 below T's epsilon), "limit on x Precision", "limit on f Precision",
// "zero gradient", "did not converge". Costs per iteration: one error() and, after an accepted step, two
// error_and_gradient() calls (at the probe point and at the new weights); one of each at the start.
// Throws std::invalid_argument if weights.size() != objective.parameter_count() or iterations < 0.
template <typename T>
ScgResult scg(FullBatchObjective<T>& objective, std::span<T> weights, const ScgOptions& options);

}  // namespace convlab
