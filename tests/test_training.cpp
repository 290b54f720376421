// Training the classifier end to end on real MNIST images: accuracy, determinism, SCG progress.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/data/datasets.hpp"
#include "common/nn/metrics.hpp"
#include "common/nn/network.hpp"
#include "common/nn/network_objectives.hpp"
#include "common/nn/optim_minibatch.hpp"
#include "common/nn/optim_scg.hpp"
#include "tests/mnist_or_skip.hpp"

using convlab::Architecture;
using convlab::Network;

namespace {

convlab::ConvImplFactory naive() {
  return [] { return convlab::make_conv_impl("naive"); };
}

// The first `train_count` training and `test_count` test images, standardised by the training part.
struct SmallMnist {
  convlab::Dataset train, test;
  convlab::PixelScaling scaling;
  SmallMnist(std::size_t train_count, std::size_t test_count)
      : train(convlab::load_dataset("mnist", convlab::DatasetSplit::train, train_count)),
        test(convlab::load_dataset("mnist", convlab::DatasetSplit::test, test_count)),
        scaling(convlab::fit_scaling(convlab::Scaling::standardize, train)) {}
};

// A small net (strided convolution) so the run takes seconds with the naive convolution.
Architecture small_net() { return Architecture::parse("conv8:5x5:s2,dense32", 1, 28, 28, 10); }

}  // namespace

// Tagged [slow] (not run under the sanitizers, where its 3 epochs of naive's convolution on 3000 images are among
// the longest cases): what it runs is checked there by the next test case (the network's minibatch objective, with
// Adam) and test_optim_minibatch.cpp (SGD under the one-cycle schedule, step for step against PyTorch).
TEST_CASE("a short minibatch run on 3000 MNIST images reaches >= 90% test accuracy", "[training][mnist][slow]") {
  CONVLAB_REQUIRE_MNIST();
  const SmallMnist data(3000, 1000);
  const auto train_inputs = convlab::to_inputs<float>(data.train, data.scaling);
  const auto test_inputs = convlab::to_inputs<float>(data.test, data.scaling);
  Network<float> network(small_net(), naive(), 1);
  convlab::NetworkMinibatchObjective<float> objective(network, train_inputs, data.train.labels);
  convlab::MinibatchOptions options;  // SGD, momentum, one-cycle
  // PyTorch's 0.05 on the per-example cross-entropy: our error is that divided by the 10 classes.
  options.learning_rate = 0.05 * 10;
  options.batch_size = 16;
  options.epochs = 3;
  const auto result = convlab::train_minibatch<float>(objective, network.parameters(), options);
  REQUIRE(result.epoch_errors.size() == 3);
  CHECK(result.epoch_errors.back() < result.epoch_errors.front());
  const double test_accuracy = convlab::percent_correct(network.classify(test_inputs), data.test.labels);
  INFO("test accuracy " << test_accuracy << "%, epoch errors " << result.epoch_errors[0] << " .. "
                        << result.epoch_errors.back());
  CHECK(test_accuracy >= 90.0);
}

TEST_CASE("two training runs with the same seed give identical parameters", "[training][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const SmallMnist data(400, 1);
  const auto inputs = convlab::to_inputs<float>(data.train, data.scaling);
  const auto run = [&](std::uint64_t seed) {
    Network<float> network(Architecture::parse("conv4:5x5:s2:p1,conv6:3x3:s2,dense16", 1, 28, 28, 10), naive(), seed,
                           /*chunk_size=*/50);
    convlab::NetworkMinibatchObjective<float> objective(network, inputs, data.train.labels);
    convlab::MinibatchOptions options;
    options.algorithm = convlab::MinibatchAlgorithm::Adam;
    options.learning_rate = 0.01;
    options.batch_size = 64;  // 400 = 6 x 64 + 16: a short last batch too
    options.epochs = 2;
    options.seed = seed;
    convlab::train_minibatch<float>(objective, network.parameters(), options);
    return std::vector<float>(network.parameters().begin(), network.parameters().end());
  };
  const std::vector<float> first = run(3), second = run(3), other = run(4);
  CHECK(first == second);
  CHECK(first != other);
}

TEST_CASE("full-batch SCG in double lowers the error on 300 MNIST images, deterministically", "[training][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const SmallMnist data(300, 1);
  const auto inputs = convlab::to_inputs<double>(data.train, data.scaling);
  const auto run = [&] {
    Network<double> network(Architecture::parse("conv4:5x5:s3,dense16", 1, 28, 28, 10), naive(), 2,
                            /*chunk_size=*/120);  // three chunks per gradient
    convlab::NetworkFullBatchObjective<double> objective(network, inputs, data.train.labels);
    convlab::ScgOptions options;
    options.iterations = 10;
    const auto result = convlab::scg<double>(objective, network.parameters(), options);
    return std::make_pair(result.error_trace, std::vector<double>(network.parameters().begin(), network.parameters().end()));
  };
  const auto [trace, parameters] = run();
  REQUIRE(trace.size() >= 2);
  CHECK(trace.back() < 0.8 * trace.front());
  CHECK(run().second == parameters);
}
