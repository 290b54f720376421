// The classifier harness: architecture text and validation, whole-network gradient check, output shapes,
// determinism.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "common/conv_registry.hpp"
#include "common/network.hpp"
#include "common/network_objectives.hpp"

using convlab::Architecture;
using convlab::ArchitectureError;
using convlab::Index;
using convlab::Network;

namespace {

convlab::ConvImplFactory naive() {
  return [] { return convlab::make_conv_impl("naive"); };
}

// Inputs in [-1, 1) and labels 0..classes-1, from a fixed seed.
template <typename T>
void random_examples(const Architecture& a, Index count, std::vector<T>& inputs, std::vector<std::uint8_t>& labels,
                     unsigned seed = 7) {
  std::mt19937 generator(seed);
  inputs.resize(std::size_t(count * a.input_size()));
  for (T& x : inputs) x = T(double(generator() % 2001) / 1000.0 - 1.0);
  labels.resize(std::size_t(count));
  for (auto& label : labels) label = std::uint8_t(generator() % unsigned(a.classes));
}

}  // namespace

TEST_CASE("architecture text parses, prints and round-trips", "[network]") {
  const Architecture a = Architecture::parse("conv20:5x5:s1,dense50", 1, 28, 28, 10);
  CHECK(a == Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1}));
  CHECK(a.layers_text() == "conv20:5x5:s1,dense50");
  CHECK(a.describe() == "1x28x28 -> conv20:5x5:s1 (20x24x24) -> dense50 -> softmax10");
  CHECK(a.parameter_count() == 20 * 26 + (20 * 24 * 24 + 1) * 50 + 51 * 10);

  const Architecture b = Architecture::parse(" conv8:3x3:s2:p1 , conv16:3x2:s2x1:p1x0,dense30,dense20", 3, 9, 10, 4);
  REQUIRE(b.conv_layers.size() == 2);
  CHECK(b.conv_layers[1].window_width == 2);
  CHECK(b.conv_layers[1].stride_width == 1);
  CHECK(b.conv_layers[1].pad_width == 0);
  CHECK(b.layers_text() == "conv8:3x3:s2:p1,conv16:3x2:s2x1:p1x0,dense30,dense20");
  CHECK(Architecture::parse(b.layers_text(), 3, 9, 10, 4) == b);
  const auto layers = b.layers();
  REQUIRE(layers.size() == 5);
  CHECK(layers[0].out_height == 5);  // (9 + 2 - 3) / 2 + 1
  CHECK(layers[0].out_width == 5);   // (10 + 2 - 3) / 2 + 1
  CHECK(layers[1].out_height == 3);  // (5 + 2 - 3) / 2 + 1
  CHECK(layers[1].out_width == 4);   // (5 - 2) / 1 + 1
  CHECK(layers[2].in_channels == 16 * 3 * 4);
  CHECK(layers[4].units == 4);
}

TEST_CASE("architecture errors are one clear line", "[network]") {
  CHECK_THROWS_WITH(Architecture::parse("conv20:30x30", 1, 28, 28, 10),
                    "layer 1 (conv20:30x30:s1): window 30x30 is larger than the input it sees, 28x28");
  CHECK_THROWS_WITH(Architecture::parse("conv20:5x5,conv10:5x5:s5,conv4:5x5", 1, 28, 28, 10),
                    "layer 3 (conv4:5x5:s1): window 5x5 is larger than the input it sees, 4x4");
  CHECK_THROWS_WITH(Architecture::parse("conv2:9x9:p1", 1, 6, 6, 10),
                    "layer 1 (conv2:9x9:s1:p1): window 9x9 is larger than the input it sees, 6x6 padded to 8x8");
  CHECK_THROWS_WITH(Architecture::parse("conv2:3x3:p3", 1, 6, 6, 10),
                    "layer 1 (conv2:3x3:s1:p3): padding must be smaller than the window (some outputs would see only zeros)");
  CHECK_THROWS_WITH(Architecture::parse("conv20:5x5:s0", 1, 28, 28, 10),
                    "layer 1 (conv20:5x5:s0): stride must be at least 1, got 0");
  CHECK_THROWS_WITH(Architecture::parse("conv0:5x5", 1, 28, 28, 10),
                    "layer 1 (conv0:5x5:s1): units must be at least 1, got 0");
  CHECK_THROWS_WITH(Architecture::parse("conv20:5x5,dense0", 1, 28, 28, 10),
                    "layer 2 (dense0): units must be at least 1, got 0");
  CHECK_THROWS_WITH(Architecture::parse("dense5,conv2:3x3", 1, 28, 28, 10),
                    "bad layer 'conv2:3x3' in --arch: convolution layers must come before dense layers");
  CHECK_THROWS_WITH(Architecture::parse("conv20", 1, 28, 28, 10),
                    "bad layer 'conv20' in --arch: missing the window, e.g. conv20:5x5");
  CHECK_THROWS_WITH(Architecture::parse("conv20:5x5:q3", 1, 28, 28, 10),
                    "bad layer 'conv20:5x5:q3' in --arch: unexpected field 'q3' (expected s<stride> or p<pad>, once each)");
  CHECK_THROWS_WITH(Architecture::parse("densex", 1, 28, 28, 10),
                    "bad layer 'densex' in --arch: expected a number for units, got 'x'");
  CHECK_THROWS_WITH(Architecture::parse("pool2", 1, 28, 28, 10),
                    "bad layer 'pool2' in --arch: expected conv<units>:<kh>x<kw>[:s<stride>][:p<pad>] or dense<units>");
  CHECK_THROWS_WITH(Architecture::parse("", 1, 28, 28, 10), "--arch is empty (expected e.g. conv20:5x5:s1,dense50)");
  CHECK_THROWS_WITH(Architecture::parse("dense5", 1, 28, 28, 1), "need at least 2 classes, got 1");
  // Sizes whose products overflow 64 bits (each extent within its 2^24 limit): found by tests/fuzz/fuzz_model.
  CHECK_THROWS_WITH(Architecture::parse("dense5", 1 << 22, 1 << 22, 1 << 22, 10),
                    "input 4194304x4194304x4194304 is too large: more than 2147483648 values per example");
  // 2^31 input values are allowed, twice that at a layer's output is not (whatever the parameter count).
  CHECK_THROWS_WITH(Architecture::parse("conv2:1x1,dense2", 1, 1 << 16, 1 << 15, 10),
                    "layer 1 (conv2:1x1:s1): output too large: more than 2147483648 values per example");
  CHECK_THROWS_AS(Architecture::parse("dense99999999,dense99999999", 1, 28, 28, 10), ArchitectureError);
}

TEST_CASE("whole-network gradient matches central differences (double, naive conv)", "[network]") {
  // Stride 2 with padding 1, a second convolution on the first's feature maps, a dense layer, softmax.
  const Architecture a = Architecture::parse("conv3:3x3:s2:p1,conv4:3x3:s1,dense5", 2, 9, 9, 3);
  Network<double> network(a, naive(), 11, /*chunk_size=*/4);  // 6 examples: two chunks, summed
  std::vector<double> inputs;
  std::vector<std::uint8_t> labels;
  random_examples(a, 6, inputs, labels);
  std::vector<double> weights(network.parameters().begin(), network.parameters().end());
  std::vector<double> gradient(weights.size());
  network.error_and_gradient(weights, inputs, labels, gradient);

  const double h = 1e-5;
  double worst = 0;
  Index worst_at = -1;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double saved = weights[i];
    weights[i] = saved + h;
    const double plus = network.error(weights, inputs, labels);
    weights[i] = saved - h;
    const double minus = network.error(weights, inputs, labels);
    weights[i] = saved;
    const double numeric = (plus - minus) / (2 * h);
    // Relative to the gradient's overall scale, so entries that are nearly zero are not judged on noise.
    const double relative = std::abs(numeric - gradient[i]) / std::max(std::abs(gradient[i]), 1e-4);
    if (relative > worst) {
      worst = relative;
      worst_at = Index(i);
    }
  }
  INFO("worst relative error " << worst << " at parameter " << worst_at << " of " << weights.size());
  CHECK(worst < 1e-6);
}

TEST_CASE("a minibatch subset gives the same error and gradient as those examples alone", "[network]") {
  const Architecture a = Architecture::parse("conv3:3x3:s2:p1,dense5", 1, 8, 8, 4);
  Network<double> network(a, naive(), 3, 2);
  std::vector<double> inputs;
  std::vector<std::uint8_t> labels;
  random_examples(a, 7, inputs, labels);
  const std::vector<Index> subset = {5, 1, 6};
  std::vector<double> picked_inputs;
  std::vector<std::uint8_t> picked_labels;
  for (Index i : subset) {
    picked_inputs.insert(picked_inputs.end(), inputs.begin() + i * a.input_size(), inputs.begin() + (i + 1) * a.input_size());
    picked_labels.push_back(labels[std::size_t(i)]);
  }
  std::vector<double> g1(std::size_t(network.parameter_count())), g2(g1.size());
  const double e1 = network.error_and_gradient(network.parameters(), inputs, labels, subset, g1);
  const double e2 = network.error_and_gradient(network.parameters(), picked_inputs, picked_labels, g2);
  CHECK(e1 == e2);
  CHECK(g1 == g2);
  convlab::NetworkMinibatchObjective<double> objective(network, inputs, labels);
  CHECK(objective.example_count() == 7);
  std::vector<double> g3(g1.size());
  CHECK(objective.error_and_gradient(network.parameters(), subset, g3) == e1);
  CHECK(g3 == g1);
  CHECK_THROWS_WITH(network.error_and_gradient(network.parameters(), inputs, labels, std::vector<Index>{7}, g1),
                    "network: example index 7 is outside 0..6");
}

TEST_CASE("error and gradient are deterministic and nearly chunk-independent", "[network]") {
  const Architecture a = Architecture::parse("conv4:3x3,dense6", 1, 8, 8, 3);
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  random_examples(a, 10, inputs, labels);
  Network<float> whole(a, naive(), 5, 100), chunked(a, naive(), 5, 3);
  REQUIRE(std::vector<float>(whole.parameters().begin(), whole.parameters().end()) ==
          std::vector<float>(chunked.parameters().begin(), chunked.parameters().end()));
  std::vector<float> g1(std::size_t(whole.parameter_count())), g2(g1.size()), g3(g1.size());
  convlab::NetworkFullBatchObjective<float> objective(chunked, inputs, labels);
  const double e1 = objective.error_and_gradient(chunked.parameters(), g1);
  const double e2 = objective.error_and_gradient(chunked.parameters(), g2);
  CHECK(e1 == e2);
  CHECK(g1 == g2);  // bit for bit
  CHECK(objective.error(chunked.parameters()) == e1);
  const double e3 = whole.error_and_gradient(whole.parameters(), inputs, labels, g3);
  CHECK(e3 == Approx(e1).epsilon(1e-6));
  for (std::size_t i = 0; i < g1.size(); ++i) CHECK(g3[i] == Approx(g1[i]).epsilon(1e-4).margin(1e-7));
}

TEST_CASE("initial weights are uniform(-1, 1)/sqrt(fan-in) and depend only on the seed", "[network]") {
  const Architecture a = Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1});
  Network<double> n1(a, naive(), 42), n2(a, naive(), 42), n3(a, naive(), 43);
  CHECK(n1.parameter_count() == a.parameter_count());
  CHECK(std::equal(n1.parameters().begin(), n1.parameters().end(), n2.parameters().begin()));
  CHECK_FALSE(std::equal(n1.parameters().begin(), n1.parameters().end(), n3.parameters().begin()));
  const auto& layout = n1.parameter_layout();
  REQUIRE(layout.size() == 3);
  CHECK(layout[0].weight_count == 20 * 25);
  CHECK(layout[1].weights_offset == 20 * 26);
  CHECK(layout[2].bias_offset + layout[2].bias_count == n1.parameter_count());
  for (std::size_t l = 0; l < layout.size(); ++l) {
    const double bound = 1 / std::sqrt(double(n1.layers()[l].fan_in));
    double largest = 0;
    for (Index i = layout[l].weights_offset; i < layout[l].bias_offset + layout[l].bias_count; ++i) {
      largest = std::max(largest, std::abs(n1.parameters()[std::size_t(i)]));
    }
    CHECK(largest <= bound);
    CHECK(largest > 0.9 * bound);
  }
}

TEST_CASE("use returns classes, probabilities and every hidden layer's output", "[network]") {
  const Architecture a = Architecture::parse("conv3:3x3:s2:p1,conv2:2x2,dense4", 1, 7, 7, 5);
  Network<float> network(a, naive(), 9, 2);
  std::vector<float> inputs;
  std::vector<std::uint8_t> labels;
  random_examples(a, 5, inputs, labels);
  const auto outputs = network.use(inputs, true, true);
  REQUIRE(outputs.classes.size() == 5);
  REQUIRE(outputs.probabilities.size() == 5 * 5);
  REQUIRE(outputs.hidden.size() == 3);
  CHECK(outputs.hidden[0].size() == 5 * 3 * 4 * 4);
  CHECK(outputs.hidden[1].size() == 5 * 2 * 3 * 3);
  CHECK(outputs.hidden[2].size() == 5 * 4);
  for (Index n = 0; n < 5; ++n) {
    const float* p = outputs.probabilities.data() + n * 5;
    CHECK(std::accumulate(p, p + 5, 0.0) == Approx(1.0).epsilon(1e-5));
    CHECK(outputs.classes[std::size_t(n)] == std::max_element(p, p + 5) - p);
  }
  for (const auto& layer : outputs.hidden) {
    for (float value : layer) CHECK(std::abs(value) <= 1.0f);
  }
  CHECK(network.classify(inputs) == outputs.classes);
  CHECK(network.use(inputs).probabilities.empty());
  CHECK_THROWS_WITH(network.use(std::vector<float>(50)),
                    "network: 50 input values are not a whole number of examples of 49");
  std::vector<float> gradient(std::size_t(network.parameter_count()));
  labels[2] = 7;
  CHECK_THROWS_WITH(network.error_and_gradient(network.parameters(), inputs, labels, gradient),
                    "network: label 7 is not below the 5 classes");
}

// The lecture's error is the mean over all N*K target entries, -sum(T log Y) / (N K): with one-hot
// targets, the mean over examples of -log(probability of the label), divided by the K classes.
TEST_CASE("the error is the negative log-likelihood averaged over all N*K target entries", "[network]") {
  const Architecture a = Architecture::parse("conv3:3x3:s2:p1,dense5", 1, 8, 8, 4);
  Network<double> network(a, naive(), 11);
  std::vector<double> inputs;
  std::vector<std::uint8_t> labels;
  random_examples(a, 9, inputs, labels);

  const std::vector<double> zeros(std::size_t(network.parameter_count()), 0.0);
  CHECK(network.error(zeros, inputs, labels) == Approx(std::log(4.0) / 4).epsilon(1e-14));  // uniform softmax

  const auto outputs = network.use(inputs, true);
  double log_likelihood = 0;
  for (std::size_t n = 0; n < labels.size(); ++n) log_likelihood += std::log(outputs.probabilities[n * 4 + labels[n]]);
  const double expected = -log_likelihood / (double(labels.size()) * 4);
  CHECK(network.error(network.parameters(), inputs, labels) == Approx(expected).epsilon(1e-12));
}
