// An optional per-operation profile of minibatch training steps: wall time, FLOPs and bytes per operation,
// accumulated over every step while a StepProfile is attached (MinibatchOptions::profile). Off (a null
// pointer) it costs one pointer test per operation; on, two clock reads. Either way the computed numbers are
// the same, bit for bit: the profile only reads the clock.
//
// Operations (names stable: the benchmark's counters, `convlab train --profile --json` and bench/summarize.py
// use them):
//   conv_forward       convolution forward pass, bias included       FLOPs: ConvShape::forward_flops()
//   conv_input_grad    convolution input gradient (never the first layer's)  ConvShape::backward_input_flops()
//   conv_weight_grad   convolution weight and bias gradient          ConvShape::backward_weights_flops()
//   dense_forward      X W (+ bias) of every dense layer, softmax layer's included   2 n in units
//   dense_backward     X^T dY, dY W^T (not for a first layer) and the bias sums       2 n in units per product
//   activations        tanh and its derivative                       bytes: read + written, below
//   softmax_loss       the softmax, -log Y[label] and the output delta (Y - T) scale
//   update             the optimiser's elementwise update of every parameter
//   data               the epoch's shuffle, gathering a minibatch's images and labels
//   other              the step's wall time minus the sum of the above (learning rate, summing chunk
//                      gradients when a batch is larger than the network's chunk, calls, timer reads)
// FLOPs count a multiply-add as 2 and only the products (the bias adds and sums are left out, a rounding
// error on the count): for the lecture's network (conv 20 5x5 on 28x28, dense 50, softmax 10) a batch of n
// is 2 n (20*24*24*25) FLOPs per conv pass, 2 n 11520*50 per dense-50 product, 2 n 50*10 per softmax-layer
// product. Bytes are compulsory traffic: every operand read once and every result written once (elementwise
// operations in place still read and write), e.g. tanh forward 2 count sizeof(T), its derivative 3 count
// sizeof(T), an SGD update 5 parameters sizeof(T), Adam 7. The bound of an operation (bench/summarize.py,
// docs): products against the measured FMA peak, the rest against the measured copy bandwidth (read + write).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/tensor/strided_view.hpp"

namespace convlab {

enum class StepOperation : int {
  conv_forward,
  conv_input_grad,
  conv_weight_grad,
  dense_forward,
  dense_backward,
  activations,
  softmax_loss,
  update,
  data,
  other,  // never timed: the remainder of the step's wall time
};
inline constexpr int kStepOperationCount = int(StepOperation::other) + 1;

// "conv_forward", ... as in the enum.
std::string_view step_operation_name(StepOperation operation);
// True for the matrix products (conv_*, dense_*), whose bound is the FMA peak; false for the rest.
bool step_operation_is_product(StepOperation operation);

class StepProfile {
 public:
  using Clock = std::chrono::steady_clock;

  // Adds one timed run of `operation` (not `other`) from `start` to now, with its FLOPs and bytes.
  void add(StepOperation operation, Clock::time_point start, double flops, double bytes);
  // Adds `ns` nanoseconds of `operation` (not `other`) measured elsewhere (PartedProfile).
  void add_nanoseconds(StepOperation operation, std::int64_t ns, double flops, double bytes);
  // Adds the wall time from `start` to now to the steps' time: the operations above must run inside such
  // intervals, one after the other (no two overlapping), so that `other` cannot be negative. The epoch's
  // shuffle is one such interval, counted in the time of the steps but not as one.
  void add_wall_time(Clock::time_point start);
  // One more step, over `examples` examples.
  void count_step(Index examples) {
    ++steps_;
    examples_ += examples;
  }

  Index steps() const { return steps_; }
  Index examples() const { return examples_; }
  double step_seconds() const { return double(step_ns_) * 1e-9; }
  // Accumulated over every step; `other` is the step time minus the rest, so the shares add to 1 exactly
  // up to the rounding of the final division (the times are whole nanoseconds).
  double seconds(StepOperation operation) const;
  double share(StepOperation operation) const;  // seconds / step_seconds (0 before any step)
  double flops(StepOperation operation) const { return flops_[std::size_t(operation)]; }
  double bytes(StepOperation operation) const { return bytes_[std::size_t(operation)]; }

 private:
  std::int64_t timed_ns() const;
  std::array<std::int64_t, kStepOperationCount> ns_{};
  std::array<double, kStepOperationCount> flops_{}, bytes_{};
  std::int64_t step_ns_ = 0;
  Index steps_ = 0, examples_ = 0;
};

// Times one operation when a profile is attached: construct before it, call done() after it.
class OperationTimer {
 public:
  explicit OperationTimer(StepProfile* profile) : profile_(profile) {
    if (profile_) start_ = StepProfile::Clock::now();
  }
  void done(StepOperation operation, double flops, double bytes) {
    if (profile_) profile_->add(operation, start_, flops, bytes);
  }

 private:
  StepProfile* profile_;
  StepProfile::Clock::time_point start_{};
};

// Operations that run side by side, each part of a parallel region on its own thread (Network's filter
// parts). Each part keeps its own times (no two threads write one counter); finish() then splits the
// region's wall time among the operations in proportion to their summed part times, so that the step's
// operations still add up to at most its wall time, and an operation's GFLOP/s is its FLOPs over the wall
// time it held both cores. On one thread the parts run one after the other and the split is exact.
class PartedProfile {
 public:
  PartedProfile(StepProfile* profile, Index parts);
  bool on() const { return profile_ != nullptr; }
  void add(Index part, StepOperation operation, StepProfile::Clock::time_point start, double flops, double bytes);
  // Adds the region that began at `region_start` (and ends now) to the profile.
  void finish(StepProfile::Clock::time_point region_start);

 private:
  struct alignas(64) Part {
    std::array<std::int64_t, kStepOperationCount> ns{};
    std::array<double, kStepOperationCount> flops{}, bytes{};
  };
  StepProfile* profile_;
  std::vector<Part> parts_;
};

}  // namespace convlab
