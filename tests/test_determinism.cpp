// Determinism: the same training command with the same seed saves a bitwise-identical model whatever the
// OpenMP thread count (1 or 2), for every registered implementation, by minibatch SGD in float and by
// full-batch SCG in double. What is compared is the saved model file itself, byte for byte. Tagged [slow]:
// 16 s in Release but 85 s under the sanitizers, which cannot see nondeterminism anyway.
#include <omp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/data/datasets.hpp"
#include "common/nn/model_file.hpp"
#include "common/nn/network.hpp"
#include "common/nn/network_objectives.hpp"
#include "common/nn/optim_minibatch.hpp"
#include "common/nn/optim_scg.hpp"
#include "tests/mnist_or_skip.hpp"

namespace {

namespace fs = std::filesystem;
using convlab::Architecture;

// Restores OpenMP's thread count at the end of the test.
class ThreadCount {
 public:
  ThreadCount() : saved_(omp_get_max_threads()) {}
  ~ThreadCount() { omp_set_num_threads(saved_); }
  void set(int threads) { omp_set_num_threads(threads); }

 private:
  int saved_;
};

// Large enough that every threaded path runs in parallel: a batch of 64 through conv8:5x5 on 28x28 is
// 14.7 MFLOP forward, above the openmp implementation's 4 MFLOP threshold, and the dense layer's gemm is
// 64 x 4608 x 32.
// A 5x5 convolution, or for an implementation that leaves such layers out (Winograd: 3x3 only) a padded 3x3.
Architecture determinism_net(const std::string& impl) {
  const Architecture five = Architecture::parse("conv8:5x5:s1,dense32", 1, 28, 28, 10);
  if (convlab::unsupported_layer(convlab::conv_implementation(impl), five, true).empty()) return five;
  return Architecture::parse("conv8:3x3:p1,dense32", 1, 28, 28, 10);
}

struct TrainingData {
  convlab::Dataset train = convlab::load_dataset("mnist", convlab::DatasetSplit::train, 300);
  convlab::PixelScaling scaling = convlab::fit_scaling(convlab::Scaling::standardize, train);
};

std::vector<std::uint8_t> saved_bytes(const Architecture& architecture, convlab::Precision precision,
                                      const convlab::PixelScaling& scaling, std::vector<double> parameters) {
  const fs::path path = fs::temp_directory_path() / ("convlab-determinism-" + std::to_string(::getpid()) + ".bin");
  convlab::SavedModel model{architecture, precision, scaling, std::move(parameters)};
  convlab::save_model(path, model);
  std::ifstream file(path, std::ios::binary);
  std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  fs::remove(path);
  return bytes;
}

// `convlab train --optimizer sgd --epochs 1 --batch-size 64 --seed <seed> --train-limit 300`, in float.
std::vector<std::uint8_t> train_sgd(const TrainingData& data, const std::string& impl, std::uint64_t seed) {
  const auto inputs = convlab::to_inputs<float>(data.train, data.scaling);
  convlab::Network<float> network(determinism_net(impl), [&] { return convlab::make_conv_impl(impl); }, seed);
  convlab::NetworkMinibatchObjective<float> objective(network, inputs, data.train.labels);
  convlab::MinibatchOptions options;  // SGD with momentum, one-cycle
  options.learning_rate = 0.5;
  options.batch_size = 64;  // 300 = 4 x 64 + 44: a short last batch too
  options.epochs = 1;
  options.seed = seed;
  convlab::train_minibatch<float>(objective, network.parameters(), options);
  return saved_bytes(network.architecture(), convlab::Precision::Float, data.scaling,
                     {network.parameters().begin(), network.parameters().end()});
}

// `convlab train --optimizer scg --iterations 3 --seed <seed> --train-limit 300`, in double.
std::vector<std::uint8_t> train_scg(const TrainingData& data, const std::string& impl, std::uint64_t seed) {
  const auto inputs = convlab::to_inputs<double>(data.train, data.scaling);
  convlab::Network<double> network(determinism_net(impl), [&] { return convlab::make_conv_impl(impl); }, seed,
                                   /*chunk_size=*/128);  // three chunks per gradient, the last one short
  convlab::NetworkFullBatchObjective<double> objective(network, inputs, data.train.labels);
  convlab::ScgOptions options;
  options.iterations = 3;
  convlab::scg<double>(objective, network.parameters(), options);
  return saved_bytes(network.architecture(), convlab::Precision::Double, data.scaling,
                     {network.parameters().begin(), network.parameters().end()});
}

}  // namespace

TEST_CASE("every implementation trains to bitwise-identical models with 1 and 2 threads", "[determinism][slow][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const TrainingData data;
  ThreadCount threads;
  for (const convlab::ConvImplInfo& info : convlab::conv_implementations()) {
    INFO("implementation " << info.name);
    threads.set(1);
    const auto sgd_one = train_sgd(data, info.name, 7);
    const auto scg_one = train_scg(data, info.name, 7);
    threads.set(2);
    const auto sgd_two = train_sgd(data, info.name, 7);
    const auto scg_two = train_scg(data, info.name, 7);
    const auto sgd_again = train_sgd(data, info.name, 7);
    const auto sgd_other_seed = train_sgd(data, info.name, 8);
    CHECK(sgd_one == sgd_two);
    CHECK(scg_one == scg_two);
    CHECK(sgd_again == sgd_two);         // same seed, same threads: the same model
    CHECK(sgd_other_seed != sgd_two);    // and the seed does matter
  }
}
