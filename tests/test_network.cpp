// The classifier harness: architecture text and validation, whole-network gradient check, output shapes,
// determinism.
#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/nn/network.hpp"
#include "common/nn/network_objectives.hpp"

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

// The largest difference between the network's gradient and central differences of its error, relative
// to the gradient's overall scale (entries that are nearly zero are not judged on noise).
double worst_gradient_error(Network<double>& network, const std::vector<double>& inputs,
                            const std::vector<std::uint8_t>& labels) {
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
    const double relative = std::abs(numeric - gradient[i]) / std::max(std::abs(gradient[i]), 1e-4);
    if (relative > worst) {
      worst = relative;
      worst_at = Index(i);
    }
  }
  UNSCOPED_INFO("worst relative error " << worst << " at parameter " << worst_at << " of " << weights.size());
  return worst;
}

TEST_CASE("whole-network gradient matches central differences (double, naive conv)", "[network]") {
  // Stride 2 with padding 1, a second convolution on the first's feature maps, a dense layer, softmax.
  const Architecture a = Architecture::parse("conv3:3x3:s2:p1,conv4:3x3:s1,dense5", 2, 9, 9, 3);
  Network<double> network(a, naive(), 11, /*chunk_size=*/4);  // 6 examples: two chunks, summed
  std::vector<double> inputs;
  std::vector<std::uint8_t> labels;
  random_examples(a, 6, inputs, labels);
  CHECK(worst_gradient_error(network, inputs, labels) < 1e-6);
}

// A first convolution followed by a dense layer runs as filter parts (network.hpp): 5 filters make parts of
// 2 and 3, whose feature maps are stored part by part and whose dense products are summed.
TEST_CASE("the filter-parted first layers: gradient, hidden maps in example order, same bits on 1 and 2 threads",
          "[network][heavy]") {
  const int saved_threads = omp_get_max_threads();
  for (const char* layers : {"conv5:3x3:s2:p1,dense6", "conv5:3x3:s1,dense6,dense4", "conv5:2x3"}) {
    INFO("layers " << layers);
    const Architecture a = Architecture::parse(layers, 2, 9, 9, 3);
    Network<double> network(a, naive(), 11, /*chunk_size=*/4);
    std::vector<double> inputs;
    std::vector<std::uint8_t> labels;
    random_examples(a, 6, inputs, labels);
    CHECK(worst_gradient_error(network, inputs, labels) < 1e-6);

    // The first layer's maps from the network equal tanh of the naive convolution, example by example.
    const convlab::ConvShape shape = a.conv_shapes(6).front();
    std::vector<double> maps(std::size_t(shape.output_size()));
    const auto& block = network.parameter_layout().front();
    convlab::make_conv_impl("naive")->forward(shape, inputs.data(), network.parameters().data() + block.weights_offset,
                                              network.parameters().data() + block.bias_offset, maps.data());
    for (double& m : maps) m = std::tanh(m);
    const auto outputs = network.use(inputs, false, true);
    REQUIRE(outputs.hidden.front().size() == maps.size());
    double worst = 0;
    for (std::size_t i = 0; i < maps.size(); ++i) worst = std::max(worst, std::abs(outputs.hidden.front()[i] - maps[i]));
    CHECK(worst < 1e-15);

    std::vector<double> one(std::size_t(network.parameter_count())), two(one.size());
    omp_set_num_threads(1);
    const double error_one = network.error_and_gradient(network.parameters(), inputs, labels, one);
    omp_set_num_threads(2);
    const double error_two = network.error_and_gradient(network.parameters(), inputs, labels, two);
    omp_set_num_threads(saved_threads);
    CHECK(error_one == error_two);
    CHECK(one == two);
  }
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

// The forward pass against a hand computation, every layer: input 1x3x3 -> conv1:2x2 (tanh) -> dense2 (tanh)
// -> softmax2, every parameter set by hand in the documented layout (per layer weights then biases; conv
// weights F x C x kh x kw, dense weights inputs x units row-major). The inputs and parameters are multiples
// of 1/8, so the convolution's sums are exact in double: only tanh, exp and the later layers' sums round
// (a few ulp, whatever the order), hence the 1e-12 relative bound. Each implementation runs the convolution.
TEST_CASE("the forward pass equals a hand computation at every layer (double)", "[network]") {
  const Architecture a = Architecture::parse("conv1:2x2,dense2", 1, 3, 3, 2);
  REQUIRE(a.describe() == "1x3x3 -> conv1:2x2:s1 (1x2x2) -> dense2 -> softmax2");

  // The input image (one channel, row by row).
  const std::vector<double> x = {0.5,  -1.0, 0.25,   // row 0
                                 0.75, 0.5,  -0.5,   // row 1
                                 -0.5, 1.0,  0.5};   // row 2
  // Conv: 1 unit x 1 channel x 2x2 window, w[ky][kx], and its bias (cross-correlation: no flip).
  const double w00 = 0.5, w01 = -0.25, w10 = 0.125, w11 = 0.75, conv_bias = -0.125;
  // Dense: 4 inputs (the conv map, row by row) x 2 units, v[i][k], and its biases.
  const double v[4][2] = {{0.5, -0.25}, {0.25, 0.5}, {-0.75, 0.125}, {1.0, -0.5}};
  const double dense_bias[2] = {0.125, -0.25};
  // Softmax layer: 2 inputs x 2 classes, u[j][k], and its biases.
  const double u[2][2] = {{1.5, -0.5}, {-1.0, 0.75}};
  const double out_bias[2] = {0.25, -0.125};

  // Conv layer, output (oy, ox) = tanh(sum over ky, kx of w[ky][kx] * x[oy+ky][ox+kx] + bias).
  const double s00 = w00 * 0.5 + w01 * -1.0 + w10 * 0.75 + w11 * 0.5 + conv_bias;   // .25+.25+.09375+.375-.125
  const double s01 = w00 * -1.0 + w01 * 0.25 + w10 * 0.5 + w11 * -0.5 + conv_bias;  // -.5-.0625+.0625-.375-.125
  const double s10 = w00 * 0.75 + w01 * 0.5 + w10 * -0.5 + w11 * 1.0 + conv_bias;   // .375-.125-.0625+.75-.125
  const double s11 = w00 * 0.5 + w01 * -0.5 + w10 * 1.0 + w11 * 0.5 + conv_bias;    // .25+.125+.125+.375-.125
  REQUIRE(s00 == 0.84375);
  REQUIRE(s01 == -1.0);
  REQUIRE(s10 == 0.8125);
  REQUIRE(s11 == 0.75);
  const double h[4] = {std::tanh(s00), std::tanh(s01), std::tanh(s10), std::tanh(s11)};
  // Dense layer: d[k] = tanh(sum over i of h[i] * v[i][k] + bias[k]).
  double d[2];
  for (int k = 0; k < 2; ++k) {
    d[k] = std::tanh(h[0] * v[0][k] + h[1] * v[1][k] + h[2] * v[2][k] + h[3] * v[3][k] + dense_bias[k]);
  }
  // Output layer: z[k] = sum over j of d[j] * u[j][k] + bias[k]; p = softmax(z) = exp(z[k]) / sum exp(z).
  const double z0 = d[0] * u[0][0] + d[1] * u[1][0] + out_bias[0];
  const double z1 = d[0] * u[0][1] + d[1] * u[1][1] + out_bias[1];
  const double p0 = std::exp(z0) / (std::exp(z0) + std::exp(z1));
  const double p1 = std::exp(z1) / (std::exp(z0) + std::exp(z1));
  // (h is about 0.688, -0.762, 0.671, 0.635; d about 0.389, -0.776; z about 1.610, -0.902; p about 0.925,
  // 0.075: no value near zero, so the relative bound below is tight for each.)

  // The same numbers in the flat parameter vector, in the documented order.
  const std::vector<double> parameters = {
      w00, w01, w10, w11, conv_bias,                                            // conv: weights, bias
      v[0][0], v[0][1], v[1][0], v[1][1], v[2][0], v[2][1], v[3][0], v[3][1],  // dense weights, by input
      dense_bias[0], dense_bias[1],                                             // dense biases
      u[0][0], u[0][1], u[1][0], u[1][1], out_bias[0], out_bias[1]};            // softmax: weights, biases
  const auto close = [](double expected) { return Approx(expected).epsilon(1e-12).margin(0); };

  for (const convlab::ConvImplInfo& info : convlab::conv_implementations()) {
    INFO("convolution " << info.name);
    if (!convlab::unsupported_layer(info, a, true).empty()) continue;  // its refusal: tests/test_registry.cpp
    Network<double> network(a, [&info] { return info.make(); }, 3);
    REQUIRE(network.parameter_count() == Index(parameters.size()));
    const auto& layout = network.parameter_layout();
    REQUIRE(layout.size() == 3);
    CHECK(layout[0].weights_offset == 0);
    CHECK(layout[0].bias_offset == 4);
    CHECK(layout[1].weights_offset == 5);
    CHECK(layout[1].bias_offset == 13);
    CHECK(layout[2].weights_offset == 15);
    CHECK(layout[2].bias_offset == 19);
    std::copy(parameters.begin(), parameters.end(), network.parameters().begin());

    const auto outputs = network.use(x, true, true);
    REQUIRE(outputs.hidden.size() == 2);
    REQUIRE(outputs.hidden[0].size() == 4);
    REQUIRE(outputs.hidden[1].size() == 2);
    REQUIRE(outputs.probabilities.size() == 2);
    for (std::size_t i = 0; i < 4; ++i) {
      INFO("conv output " << i);
      CHECK(outputs.hidden[0][i] == close(h[i]));
    }
    CHECK(outputs.hidden[1][0] == close(d[0]));
    CHECK(outputs.hidden[1][1] == close(d[1]));
    CHECK(outputs.probabilities[0] == close(p0));
    CHECK(outputs.probabilities[1] == close(p1));
    CHECK(outputs.classes == std::vector<std::uint8_t>{p0 > p1 ? std::uint8_t(0) : std::uint8_t(1)});
  }
}
