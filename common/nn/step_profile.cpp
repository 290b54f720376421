// The per-operation step profile (see step_profile.hpp).
#include "common/nn/step_profile.hpp"

#include <stdexcept>

namespace convlab {

std::string_view step_operation_name(StepOperation operation) {
  switch (operation) {
    case StepOperation::conv_forward: return "conv_forward";
    case StepOperation::conv_input_grad: return "conv_input_grad";
    case StepOperation::conv_weight_grad: return "conv_weight_grad";
    case StepOperation::dense_forward: return "dense_forward";
    case StepOperation::dense_backward: return "dense_backward";
    case StepOperation::activations: return "activations";
    case StepOperation::softmax_loss: return "softmax_loss";
    case StepOperation::update: return "update";
    case StepOperation::data: return "data";
    case StepOperation::other: return "other";
  }
  throw std::invalid_argument("step_profile: invalid StepOperation value");
}

bool step_operation_is_product(StepOperation operation) {
  switch (operation) {
    case StepOperation::conv_forward:
    case StepOperation::conv_input_grad:
    case StepOperation::conv_weight_grad:
    case StepOperation::dense_forward:
    case StepOperation::dense_backward: return true;
    default: return false;
  }
}

void StepProfile::add(StepOperation operation, Clock::time_point start, double flops, double bytes) {
  add_nanoseconds(operation, std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count(),
                  flops, bytes);
}

void StepProfile::add_nanoseconds(StepOperation operation, std::int64_t ns, double flops, double bytes) {
  if (operation == StepOperation::other) throw std::invalid_argument("step_profile: 'other' is never timed");
  const auto i = std::size_t(operation);
  ns_[i] += ns;
  flops_[i] += flops;
  bytes_[i] += bytes;
}

void StepProfile::add_wall_time(Clock::time_point start) {
  step_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

std::int64_t StepProfile::timed_ns() const {
  std::int64_t sum = 0;
  for (int i = 0; i < kStepOperationCount; ++i)
    if (i != int(StepOperation::other)) sum += ns_[std::size_t(i)];
  return sum;
}

double StepProfile::seconds(StepOperation operation) const {
  // Integer nanoseconds: the remainder is exact, and never negative while the operations' intervals lie
  // inside the wall-time intervals without overlapping (add_wall_time).
  const std::int64_t ns = operation == StepOperation::other ? step_ns_ - timed_ns() : ns_[std::size_t(operation)];
  return double(ns) * 1e-9;
}

double StepProfile::share(StepOperation operation) const {
  return step_ns_ > 0 ? seconds(operation) / step_seconds() : 0.0;
}

PartedProfile::PartedProfile(StepProfile* profile, Index parts)
    : profile_(profile), parts_(profile ? std::size_t(parts) : 0) {}

void PartedProfile::add(Index part, StepOperation operation, StepProfile::Clock::time_point start, double flops,
                        double bytes) {
  if (!profile_) return;
  Part& mine = parts_.at(std::size_t(part));
  const auto i = std::size_t(operation);
  mine.ns[i] += std::chrono::duration_cast<std::chrono::nanoseconds>(StepProfile::Clock::now() - start).count();
  mine.flops[i] += flops;
  mine.bytes[i] += bytes;
}

void PartedProfile::finish(StepProfile::Clock::time_point region_start) {
  if (!profile_) return;
  const std::int64_t wall =
      std::chrono::duration_cast<std::chrono::nanoseconds>(StepProfile::Clock::now() - region_start).count();
  std::array<std::int64_t, kStepOperationCount> ns{};
  std::int64_t total = 0;
  for (const Part& part : parts_) {
    for (std::size_t i = 0; i < ns.size(); ++i) ns[i] += part.ns[i];
  }
  for (std::int64_t each : ns) total += each;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    double flops = 0, bytes = 0;
    for (const Part& part : parts_) {
      flops += part.flops[i];
      bytes += part.bytes[i];
    }
    if (ns[i] == 0 && flops == 0 && bytes == 0) continue;
    // rounded down, so the shares of the region never add up to more than its wall time
    const std::int64_t share = total > 0 ? std::int64_t((__int128(wall) * ns[i]) / total) : 0;
    profile_->add_nanoseconds(StepOperation(i), share, flops, bytes);
  }
  for (Part& part : parts_) part = Part{};
}

}  // namespace convlab
