// Scaled conjugate gradient (Moller 1993), a step-by-step port of the course's mlutilities.scg.
//
// Variable names follow the Python (mu, kappa, sigma, theta, delta, alpha, Delta, beta, gamma) so the
// two can be read side by side. Vectors are in T; every scalar and dot product is in double so a float
// network still gets double-precision step control.
#include "common/nn/optim_scg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace convlab {
namespace {

template <typename T>
double dot(std::span<const T> a, std::span<const T> b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return sum;
}

// out = a + scale * b
template <typename T>
void add_scaled(std::span<const T> a, double scale, std::span<const T> b, std::span<T> out) {
  for (std::size_t i = 0; i < a.size(); ++i)
    out[i] = static_cast<T>(static_cast<double>(a[i]) + scale * static_cast<double>(b[i]));
}

template <typename T>
void negate_into(std::span<const T> from, std::span<T> to) {
  for (std::size_t i = 0; i < from.size(); ++i) to[i] = -from[i];
}

// With a profile: one iteration as one step. The iteration's wall time is added however it ends (an early
// return included), and the step is counted once an evaluation has run in it.
class IterationStep {
 public:
  explicit IterationStep(StepProfile* profile) : profile_(profile) {
    if (profile_) start_ = StepProfile::Clock::now();
  }
  IterationStep(const IterationStep&) = delete;
  IterationStep& operator=(const IterationStep&) = delete;
  ~IterationStep() {
    if (!profile_) return;
    profile_->add_wall_time(start_);
    if (examples_ > 0) profile_->count_step(examples_);
  }
  void evaluated(Index examples) { examples_ += examples; }

 private:
  StepProfile* profile_;
  StepProfile::Clock::time_point start_{};
  Index examples_ = 0;
};

}  // namespace

template <typename T>
ScgResult scg(FullBatchObjective<T>& objective, std::span<T> weights, const ScgOptions& options) {
  if (static_cast<Index>(weights.size()) != objective.parameter_count())
    throw std::invalid_argument("optim_scg: weights have " + std::to_string(weights.size()) +
                                " entries but the objective has " +
                                std::to_string(objective.parameter_count()) + " parameters");
  if (options.iterations < 0) throw std::invalid_argument("optim_scg: negative iteration budget");
  if (weights.empty()) throw std::invalid_argument("optim_scg: no weights to optimise");

  const std::size_t n = weights.size();
  const double sigma0 = 1.0e-6;
  const double float_precision = std::numeric_limits<T>::epsilon();
  const double betamin = 1.0e-15, betamax = 1.0e20;
  const int n_iterations = options.iterations;
  const int progress_every = std::max(1, n_iterations / 10);

  // All work vectors, allocated once. x is the caller's `weights`.
  // gradient_at_xnew: the trial point's error is evaluated together with its gradient, which a successful
  // step needs next. mlutilities.scg evaluates f(xnew) and, on success, gradf(xnew) separately; both give
  // the same numbers (the error comes from the same forward pass either way), so the trace is the same and
  // a success costs one forward pass less (a failure one backward pass more; failures are the rarer).
  std::vector<T> gradnew(n), gradold(n), d(n), xplus(n), gplus(n), xnew(n), gradient_at_xnew(n);
  const std::span<T> x = weights;
  const std::span<const T> cx = weights;
  auto c = [](const std::vector<T>& v) { return std::span<const T>(v); };

  ScgResult result;
  result.error_trace.reserve(static_cast<std::size_t>(n_iterations) + 1);

  double fold = objective.error_and_gradient(cx, gradnew);
  double fnow = fold;
  gradold = gradnew;
  negate_into(c(gradnew), std::span<T>(d));
  bool success = true;
  std::size_t nsuccess = 0;
  double beta = 1.0e-6;
  double mu = 0, kappa = 0, theta = 0;
  result.error_trace.push_back(fold);

  ScgProgress last{0, n_iterations, fnow, beta};
  int last_reported = 0;  // the last iteration on_progress saw
  auto finish = [&](int iterations_done, const char* reason) {
    result.iterations = iterations_done;
    result.reason = reason;
    if (options.on_progress && iterations_done > 0 && last_reported != iterations_done) options.on_progress(last);
    return result;
  };

  // The profile's `update`: SCG's passes over weight-sized vectors, each counted as the bytes it reads and writes.
  StepProfile* const profile = options.profile;
  const double vector_bytes = double(n) * sizeof(T);
  const ProfileAttachment attached(objective, profile);  // for the iterations, not the evaluation before them
  const Index examples = objective.example_count();
  int j = 1;
  while (j <= n_iterations) {
    IterationStep step(profile);
    if (success) {
      OperationTimer search(profile);
      mu = dot(c(d), c(gradnew));
      double passes = 2;
      if (mu >= 0) {
        negate_into(c(gradnew), std::span<T>(d));
        mu = dot(c(d), c(gradnew));
        passes += 4;
      }
      kappa = dot(c(d), c(d));
      passes += 1;
      if (kappa < float_precision) {
        search.done(StepOperation::update, 0, passes * vector_bytes);
        return finish(j - 1, "limit on machine precision");
      }
      const double sigma = sigma0 / std::sqrt(kappa);
      add_scaled(cx, sigma, c(d), std::span<T>(xplus));
      search.done(StepOperation::update, 0, (passes + 3) * vector_bytes);
      objective.error_and_gradient(c(xplus), gplus);
      step.evaluated(examples);
      OperationTimer curvature_timer(profile);
      // theta = d . (gplus - gradnew) / sigma
      double curvature = 0;
      for (std::size_t i = 0; i < n; ++i)
        curvature += static_cast<double>(d[i]) * (static_cast<double>(gplus[i]) - static_cast<double>(gradnew[i]));
      theta = curvature / sigma;
      curvature_timer.done(StepOperation::update, 0, 3 * vector_bytes);
    }

    // Increase the effective curvature and evaluate the step size alpha.
    double delta = theta + beta * kappa;
    if (delta <= 0) {
      delta = beta * kappa;
      beta = beta - theta / kappa;
    }
    double alpha = 0, fnew = fold;
    double Delta = std::numeric_limits<double>::quiet_NaN();
    // delta is zero only if beta * kappa underflowed; later versions of mlutilities.scg count that as a
    // failed step rather than evaluate the error at infinite weights, and so do we.
    if (delta != 0) {
      alpha = -mu / delta;
      OperationTimer trial(profile);
      add_scaled(cx, alpha, c(d), std::span<T>(xnew));
      trial.done(StepOperation::update, 0, 3 * vector_bytes);
      fnew = objective.error_and_gradient(c(xnew), gradient_at_xnew);
      step.evaluated(examples);
      Delta = 2 * (fnew - fold) / (alpha * mu);
    }
    if (!std::isnan(Delta) && Delta >= 0) {
      success = true;
      ++nsuccess;
      OperationTimer accept(profile);
      std::copy(xnew.begin(), xnew.end(), x.begin());
      accept.done(StepOperation::update, 0, 2 * vector_bytes);
      fnow = fnew;
    } else {
      success = false;
      fnow = fold;
    }

    last = ScgProgress{j, n_iterations, fnow, beta};
    if (j % progress_every == 0 && options.on_progress) {
      options.on_progress(last);
      last_reported = j;
    }
    if (options.on_iteration) options.on_iteration(last);
    result.error_trace.push_back(fnow);

    if (success) {
      OperationTimer checks(profile);
      double largest_step = 0;
      for (std::size_t i = 0; i < n; ++i)
        largest_step = std::max(largest_step, std::abs(alpha * static_cast<double>(d[i])));
      checks.done(StepOperation::update, 0, vector_bytes);
      if (largest_step < options.x_precision) return finish(j, "limit on x Precision");
      if (std::abs(fnew - fold) < options.f_precision) return finish(j, "limit on f Precision");
      std::swap(gradold, gradnew);
      std::swap(gradnew, gradient_at_xnew);  // evaluated at xnew, which x now is
      fold = fnew;
      OperationTimer norm(profile);
      const bool zero_gradient = dot(c(gradnew), c(gradnew)) == 0;
      norm.done(StepOperation::update, 0, vector_bytes);
      if (zero_gradient) return finish(j, "zero gradient");
    }

    // Adjust beta according to the comparison ratio.
    if (std::isnan(Delta) || Delta < 0.25)
      beta = std::min(4.0 * beta, betamax);
    else if (Delta > 0.75)
      beta = std::max(0.5 * beta, betamin);

    // Update the search direction by Polak-Ribiere, or restart along the negative gradient after as
    // many successes as there are weights.
    OperationTimer direction(profile);
    if (nsuccess == n) {
      negate_into(c(gradnew), std::span<T>(d));
      nsuccess = 0;
      direction.done(StepOperation::update, 0, 2 * vector_bytes);
    } else if (success) {
      // gamma = (gradold - gradnew) . gradnew / mu
      double numerator = 0;
      for (std::size_t i = 0; i < n; ++i)
        numerator += (static_cast<double>(gradold[i]) - static_cast<double>(gradnew[i])) *
                     (static_cast<double>(gradnew[i]) / mu);
      const double gamma = numerator;
      for (std::size_t i = 0; i < n; ++i)
        d[i] = static_cast<T>(gamma * static_cast<double>(d[i]) - static_cast<double>(gradnew[i]));
      direction.done(StepOperation::update, 0, 5 * vector_bytes);
    }
    ++j;
  }
  return finish(n_iterations, "did not converge");
}

template ScgResult scg<float>(FullBatchObjective<float>&, std::span<float>, const ScgOptions&);
template ScgResult scg<double>(FullBatchObjective<double>&, std::span<double>, const ScgOptions&);

}  // namespace convlab
