// End to end: one training epoch of the lecture's network (conv 20 5x5 -> tanh -> dense 50 tanh -> softmax
// 10) per convolution implementation, through the project's own harness (common/nn/network.hpp) and minibatch
// SGD (momentum 0.9, batch 64), on the first N MNIST training images. Mirrors bench/peers/torch_epoch.py.
// Each epoch is profiled operation by operation (common/nn/step_profile.hpp: two clock reads per operation,
// a few microseconds per step of milliseconds; the weights are the same as without): per operation the
// counters op_<name>_seconds and op_<name>_share (of the steps' time), and op_<name>_GFLOPS for the products
// or op_<name>_GBps (bytes read + written per second) for the rest; step_seconds and steps. The bounds
// (FMA peak, copy bandwidth) are the same run's peak benchmarks, compared by bench/summarize.py.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_suites.hpp"
#include "common/nn/architecture.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/data/datasets.hpp"
#include "common/nn/network.hpp"
#include "common/nn/network_objectives.hpp"
#include "common/nn/optim_minibatch.hpp"
#include "common/nn/step_profile.hpp"

namespace convlab::bench {

namespace {

constexpr Index kEpochBatch = 64;

// The training images as network inputs (lecture scaling, byte / 256), loaded once for every benchmark.
struct EpochData {
  Dataset dataset;
  std::vector<float> inputs;
};

const EpochData& epoch_data(std::size_t images) {
  static std::optional<EpochData> data;
  if (!data) {
    EpochData loaded;
    loaded.dataset = load_dataset("mnist", DatasetSplit::train, images);
    loaded.inputs = to_inputs<float>(loaded.dataset, PixelScaling{});
    data = std::move(loaded);
  }
  return *data;
}

void epoch_benchmark(benchmark::State& state, const ConvImplInfo* info, int threads, std::size_t images) {
  omp_set_num_threads(threads);
  const EpochData* data = nullptr;
  try {
    data = &epoch_data(images);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  const Architecture architecture = Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1});
  MinibatchOptions options;
  options.algorithm = MinibatchAlgorithm::Sgd;
  options.schedule = LearningRateSchedule::Constant;
  // The harness's error is averaged over the 10 classes too, so this matches PyTorch's lr 0.01 step size.
  options.learning_rate = 0.1;
  options.momentum = 0.9;
  options.batch_size = kEpochBatch;
  options.epochs = 1;
  double loss = 0;
  StepProfile profile;
  options.profile = &profile;
  for (auto _ : state) {
    state.PauseTiming();  // a fresh, identically initialised network for every epoch
    Network<float> network(architecture, [info] { return info->make(); }, 1);
    NetworkMinibatchObjective<float> objective(network, data->inputs, data->dataset.labels);
    state.ResumeTiming();
    const MinibatchResult result = train_minibatch<float>(objective, network.parameters(), options);
    loss = result.epoch_errors.empty() ? 0.0 : result.epoch_errors.front();
  }
  const double count = double(data->dataset.count());
  state.counters["images_per_second"] =
      benchmark::Counter(count * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["images"] = count;
  state.counters["mean_train_error"] = loss;
  state.counters["compute_threads"] = threads;
  state.counters["step_seconds"] = profile.step_seconds();
  state.counters["steps"] = double(profile.steps());
  for (int i = 0; i < kStepOperationCount; ++i) {
    const auto operation = StepOperation(i);
    const std::string prefix = "op_" + std::string(step_operation_name(operation)) + "_";
    const double seconds = profile.seconds(operation);
    state.counters[prefix + "seconds"] = seconds;
    state.counters[prefix + "share"] = profile.share(operation);
    if (operation == StepOperation::other) continue;
    if (step_operation_is_product(operation)) {
      state.counters[prefix + "GFLOPS"] = seconds > 0 ? profile.flops(operation) / seconds / 1e9 : 0.0;
    } else {
      state.counters[prefix + "GBps"] = seconds > 0 ? profile.bytes(operation) / seconds / 1e9 : 0.0;
    }
  }
  state.SetLabel(architecture.describe() + ", SGD momentum 0.9, lr 0.1");
}

}  // namespace

void register_epoch_benchmarks(const BenchPlan& plan, std::size_t images) {
  for (const ConvImplInfo& info : conv_implementations()) {
    // The reference implementation would take minutes per epoch; its speed is in the conv tables.
    if (info.role == ConvRole::reference) continue;
    if (!unsupported_layer(info, Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1}), true).empty()) continue;
    for (int threads : plan.thread_counts) {
      const std::string name = "epoch/" + info.name + "/lecture_net/float/batch:" + std::to_string(kEpochBatch) +
                               "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), epoch_benchmark, &info, threads, images)
          ->Iterations(1)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace convlab::bench
