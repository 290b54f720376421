// The per-operation step profile (common/nn/step_profile.hpp): its shares add to 1, no operation is negative,
// its FLOP counts are the hand count for the lecture's network, and attaching it changes no weight (1 and 2
// threads), and an SCG run profiles each iteration without changing a weight. Nothing here depends on how long
// anything took.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/nn/network.hpp"
#include "common/nn/network_objectives.hpp"
#include "common/nn/optim_minibatch.hpp"
#include "common/nn/optim_scg.hpp"
#include "common/nn/step_profile.hpp"

using convlab::Architecture;
using convlab::Index;
using convlab::Network;
using convlab::StepOperation;
using convlab::StepProfile;

namespace {

constexpr Index kExamples = 40, kBatch = 8;  // 5 steps

Architecture lecture_network() { return Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1}); }

struct Examples {
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
};

Examples random_examples(const Architecture& a) {
  std::mt19937 generator(11);
  Examples e;
  e.inputs.resize(std::size_t(kExamples * a.input_size()));
  for (float& x : e.inputs) x = float(double(generator() % 256) / 256.0);
  e.labels.resize(std::size_t(kExamples));
  for (auto& label : e.labels) label = std::uint8_t(generator() % unsigned(a.classes));
  return e;
}

class ThreadCount {
 public:
  ThreadCount() : saved_(omp_get_max_threads()) {}
  ~ThreadCount() { omp_set_num_threads(saved_); }
  void set(int threads) { omp_set_num_threads(threads); }

 private:
  int saved_;
};

// The implementation trained here: the first registered one that parallelises with OpenMP threads and computes
// every layer (the thread-count checks below need threads; no implementation is named here).
const std::string& threaded_impl() {
  static const std::string name = [] {
    for (const convlab::ConvImplInfo& info : convlab::conv_implementations())
      if (info.uses_threads && !info.unsupported) return info.name;
    throw std::logic_error("no registered implementation uses OpenMP threads on every layer");
  }();
  return name;
}

// One epoch of SGD (the benchmark's settings) from seed 1; the trained parameters.
std::vector<float> train(const std::string& impl, const Examples& e, StepProfile* profile) {
  Network<float> network(lecture_network(), [impl] { return convlab::make_conv_impl(impl); }, 1);
  convlab::NetworkMinibatchObjective<float> objective(network, e.inputs, e.labels);
  convlab::MinibatchOptions options;
  options.schedule = convlab::LearningRateSchedule::Constant;
  options.learning_rate = 0.1;
  options.batch_size = kBatch;
  options.epochs = 1;
  options.profile = profile;
  convlab::train_minibatch<float>(objective, network.parameters(), options);
  return {network.parameters().begin(), network.parameters().end()};
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("step operation names are stable and only the products count against the FMA peak", "[step_profile]") {
  const char* names[] = {"conv_forward", "conv_input_grad", "conv_weight_grad", "dense_forward", "dense_backward",
                         "activations",  "softmax_loss",    "update",           "data",          "other"};
  REQUIRE(convlab::kStepOperationCount == 10);
  for (int i = 0; i < convlab::kStepOperationCount; ++i) {
    CHECK(convlab::step_operation_name(StepOperation(i)) == names[i]);
    CHECK(convlab::step_operation_is_product(StepOperation(i)) == (i <= int(StepOperation::dense_backward)));
  }
}

TEST_CASE("the lecture network's step profile: shares add to 1, none negative, FLOPs as counted by hand",
          "[step_profile]") {
  const Examples e = random_examples(lecture_network());
  StepProfile profile;
  train(threaded_impl(), e, &profile);

  CHECK(profile.steps() == kExamples / kBatch);
  CHECK(profile.examples() == kExamples);
  REQUIRE(profile.step_seconds() > 0);
  double shares = 0;
  for (int i = 0; i < convlab::kStepOperationCount; ++i) {
    const auto operation = StepOperation(i);
    INFO(std::string(convlab::step_operation_name(operation)));
    CHECK(profile.seconds(operation) >= 0);
    CHECK(profile.share(operation) >= 0);
    shares += profile.share(operation);
  }
  CHECK(shares == Approx(1.0).epsilon(1e-12));
  // Every operation the lecture network runs was timed (the clock is finer than any of them); the first
  // layer's input gradient is never computed.
  for (StepOperation timed : {StepOperation::conv_forward, StepOperation::conv_weight_grad, StepOperation::dense_forward,
                              StepOperation::dense_backward, StepOperation::activations, StepOperation::softmax_loss,
                              StepOperation::update, StepOperation::data}) {
    INFO(std::string(convlab::step_operation_name(timed)));
    CHECK(profile.seconds(timed) > 0);
  }
  CHECK(profile.seconds(StepOperation::conv_input_grad) == 0);
  CHECK(profile.flops(StepOperation::conv_input_grad) == 0);

  // By hand, per image: the conv layer has 20 x 24 x 24 outputs of 5 x 5 products (2 FLOPs each); the dense
  // layer 11520 inputs x 50 units, the softmax layer 50 x 10. Forward: one product per layer; backward: the
  // weight gradient of each, the input gradient of both dense layers (the first layer's is never needed).
  const double n = double(kExamples);
  const double conv = 2.0 * 20 * 24 * 24 * 25;            // 576000
  const double dense = 2.0 * 11520 * 50, output = 2.0 * 50 * 10;
  CHECK(profile.flops(StepOperation::conv_forward) == n * conv);
  CHECK(profile.flops(StepOperation::conv_weight_grad) == n * conv);
  CHECK(profile.flops(StepOperation::dense_forward) == n * (dense + output));
  CHECK(profile.flops(StepOperation::dense_backward) == n * 2 * (dense + output));
  for (StepOperation elementwise : {StepOperation::activations, StepOperation::softmax_loss, StepOperation::update,
                                    StepOperation::data, StepOperation::other})
    CHECK(profile.flops(elementwise) == 0);
  // Bytes: tanh forward reads and writes the 11520 + 50 hidden outputs of an image, its derivative reads
  // two arrays and writes one (the dense layer's 11520 inputs and the softmax layer's 50); an SGD update
  // reads three arrays of the 577080 parameters and writes two, once per step.
  const double parameters = 20 * 25 + 20 + 11520 * 50 + 50 + 50 * 10 + 10;
  CHECK(profile.bytes(StepOperation::activations) == n * 4 * (2 * (11520 + 50) + 3 * (11520 + 50)));
  CHECK(profile.bytes(StepOperation::update) == double(kExamples / kBatch) * 5 * parameters * 4);
  CHECK(profile.bytes(StepOperation::data) > 0);
  CHECK(profile.bytes(StepOperation::softmax_loss) > 0);
}

TEST_CASE("training with a step profile attached gives bitwise the same weights, on 1 and 2 threads",
          "[step_profile]") {
  const Examples e = random_examples(lecture_network());
  ThreadCount threads;
  threads.set(1);
  const std::vector<float> reference = train(threaded_impl(), e, nullptr);
  StepProfile one_thread;
  CHECK(bitwise_equal(train(threaded_impl(), e, &one_thread), reference));
  threads.set(2);
  StepProfile two_threads;
  CHECK(bitwise_equal(train(threaded_impl(), e, &two_threads), reference));
  CHECK(bitwise_equal(train(threaded_impl(), e, nullptr), reference));
  // and the weights moved: the comparison is not between untouched initial values
  Network<float> initial(lecture_network(), [] { return convlab::make_conv_impl(threaded_impl()); }, 1);
  CHECK_FALSE(bitwise_equal({initial.parameters().begin(), initial.parameters().end()}, reference));
  CHECK(two_threads.steps() == one_thread.steps());
  CHECK(two_threads.flops(StepOperation::conv_forward) == one_thread.flops(StepOperation::conv_forward));
}

TEST_CASE("an SCG run's profile: one step per iteration, its evaluations' operations, the same weights",
          "[step_profile]") {
  const Examples e = random_examples(lecture_network());
  const auto run = [&](StepProfile* profile) {
    Network<float> network(lecture_network(), [] { return convlab::make_conv_impl(threaded_impl()); }, 1,
                           /*chunk_size=*/16);  // three chunks an evaluation, the last one short
    convlab::NetworkFullBatchObjective<float> objective(network, e.inputs, e.labels);
    convlab::ScgOptions options;
    options.iterations = 3;
    options.profile = profile;
    const convlab::ScgResult result = convlab::scg<float>(objective, network.parameters(), options);
    CHECK(result.iterations == 3);
    return std::vector<float>(network.parameters().begin(), network.parameters().end());
  };
  ThreadCount threads;
  threads.set(2);
  const std::vector<float> reference = run(nullptr);
  StepProfile profile;
  CHECK(bitwise_equal(run(&profile), reference));

  CHECK(profile.steps() == 3);
  // One or two evaluations over every example per iteration (the evaluation before the first is not profiled).
  REQUIRE(profile.examples() % kExamples == 0);
  const double evaluations = double(profile.examples() / kExamples);
  CHECK(evaluations >= 3);
  CHECK(evaluations <= 6);
  double shares = 0;
  for (int i = 0; i < convlab::kStepOperationCount; ++i) {
    CHECK(profile.seconds(StepOperation(i)) >= 0);
    shares += profile.share(StepOperation(i));
  }
  CHECK(shares == Approx(1.0).epsilon(1e-12));
  const double conv = 2.0 * 20 * 24 * 24 * 25, dense = 2.0 * 11520 * 50, output = 2.0 * 50 * 10;
  const double per_evaluation = double(kExamples);
  CHECK(profile.flops(StepOperation::conv_forward) == evaluations * per_evaluation * conv);
  CHECK(profile.flops(StepOperation::conv_weight_grad) == evaluations * per_evaluation * conv);
  CHECK(profile.flops(StepOperation::dense_forward) == evaluations * per_evaluation * (dense + output));
  CHECK(profile.flops(StepOperation::dense_backward) == evaluations * per_evaluation * 2 * (dense + output));
  // SCG's own passes over the 577080 weights: at least the search direction's dot products and the trial point.
  CHECK(profile.bytes(StepOperation::update) >= 3 * 6 * 577080.0 * sizeof(float));
  CHECK(profile.seconds(StepOperation::update) > 0);
}
