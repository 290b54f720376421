// The lecture's windows walk-through: the windows view's numpy shape and strides, the detector, and the
// response map against a one-output-channel naive convolution of the same digit, bit for bit.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <tuple>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/data/datasets.hpp"
#include "cli/lecture_windows.hpp"
#include "tests/mnist_or_skip.hpp"

using convlab::Index;

TEST_CASE("the lecture's detector is 0.05 on the anti-diagonal and 0 elsewhere", "[windows]") {
  const auto weights = convlab::lecture_detector(3);
  const std::vector<double> expected = {0, 0, 0.05,  //
                                        0, 0.05, 0,  //
                                        0.05, 0, 0};
  CHECK(weights == expected);
  CHECK(convlab::make_detector("lecture", 10) == convlab::lecture_detector(10));
  CHECK(convlab::make_detector("band", 10) == convlab::band_detector(10));
  CHECK_THROWS_AS(convlab::make_detector("sobel", 10), std::invalid_argument);
  CHECK_THROWS_AS(convlab::lecture_detector(0), std::invalid_argument);
}

TEST_CASE("the band detector is +-1/(k rounded up to a power of two) on and off the anti-diagonal band",
          "[windows]") {
  const auto weights = convlab::band_detector(4);
  // Row-major 4x4: band cells have |row + col - 3| <= 1.
  const std::vector<double> expected = {-1, -1, 1, 1,  //
                                        -1, 1, 1, 1,   //
                                        1, 1, 1, -1,   //
                                        1, 1, -1, -1};
  REQUIRE(weights.size() == expected.size());
  for (std::size_t i = 0; i < weights.size(); ++i) CHECK(weights[i] == expected[i] / 4.0);
  for (double weight : convlab::band_detector(10)) CHECK(std::abs(weight) == 1.0 / 16);
  for (double weight : convlab::band_detector(5)) CHECK(std::abs(weight) == 1.0 / 8);
  CHECK(convlab::band_detector(1) == std::vector<double>{1.0});
  CHECK_THROWS_AS(convlab::band_detector(0), std::invalid_argument);
}

TEST_CASE("the response map of a training digit equals tanh of a naive 1-channel convolution", "[windows][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const auto digits = convlab::load_dataset("mnist", convlab::DatasetSplit::train, 3);
  const std::vector<float> inputs = convlab::to_inputs<float>(digits, convlab::PixelScaling{});
  const std::vector<double> inputs_double(inputs.begin(), inputs.end());

  // Window 10 stride 1 on digit 0 is the walk-through; the others show the equality does not hang on one
  // lucky summation order (the detector's power-of-two weights make every sum exact).
  for (const auto& [digit, window, stride] : {std::tuple<std::size_t, Index, Index>{0, 10, 1}, {0, 10, 3}, {1, 5, 1},
                                              {2, 3, 2}, {1, 7, 1}, {2, 28, 1}}) {
    CAPTURE(digit, window, stride);
    const std::span<const float> image(inputs.data() + digit * 784, 784);
    const auto weights = convlab::band_detector(window);
    const auto result = convlab::detector_response(image, 28, 28, weights, window, stride);

    const Index grid = (28 - window) / stride + 1;
    CHECK(result.windows_shape == std::array<Index, 5>{1, grid, grid, window, window});
    CHECK(result.windows_byte_strides == std::array<Index, 5>{3136, 112 * stride, 4 * stride, 112, 4});
    REQUIRE(result.rows == grid);
    REQUIRE(result.cols == grid);

    convlab::ConvShape shape;
    shape.in_height = shape.in_width = 28;
    shape.kernel_height = shape.kernel_width = window;
    shape.stride_height = shape.stride_width = stride;
    std::vector<double> convolved(std::size_t(shape.output_size()));
    convlab::make_conv_impl("naive")->forward(shape, inputs_double.data() + digit * 784, weights.data(), nullptr,
                                              convolved.data());
    REQUIRE(convolved.size() == result.response.size());
    double lowest = 2.0, highest = -2.0;
    for (std::size_t i = 0; i < convolved.size(); ++i) {
      const double expected = std::tanh(convolved[i]);
      CHECK(result.sums[i] == convolved[i]);  // bit for bit
      CHECK(result.response[i] == expected);
      lowest = std::min(lowest, expected);
      highest = std::max(highest, expected);
    }
    CHECK(result.min == lowest);
    CHECK(result.max == highest);
    CHECK(result.sum_min == *std::min_element(convolved.begin(), convolved.end()));
    CHECK(result.sum_max == *std::max_element(convolved.begin(), convolved.end()));
    if (window == 10) {
      CHECK(result.min < 0.0);  // the digit has ink off the band somewhere...
      CHECK(result.max > 0.0);  // ...and along it somewhere
    }
  }
}

TEST_CASE("the lecture's detector on the lecture's digit gives the response range the lecture printed",
          "[windows][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  // The lecture printed (0.0, 0.4244643684778938) for MNIST training image 15 (its first 7), float32
  // pixels / 256, 10x10 windows one pixel apart.
  const auto digits = convlab::load_dataset("mnist", convlab::DatasetSplit::train, 16);
  const std::vector<float> inputs = convlab::to_inputs<float>(digits, convlab::PixelScaling{});
  REQUIRE(digits.labels[15] == 7);
  const auto result = convlab::detector_response(std::span<const float>(inputs).subspan(15 * 784, 784), 28, 28,
                                                 convlab::lecture_detector(10), 10, 1);
  CHECK(result.min == 0.0);
  CHECK(result.max == 0.4244643684778938);
  CHECK(result.sum_max == 0.453125);
  CHECK(result.argmax_row == 13);
  CHECK(result.argmax_col == 10);
}

TEST_CASE("detector_response rejects mismatched sizes", "[windows]") {
  const std::vector<float> image(28 * 28, 0.5f);
  const auto weights = convlab::band_detector(10);
  CHECK_THROWS_AS(convlab::detector_response(image, 28, 27, weights, 10, 1), std::invalid_argument);
  CHECK_THROWS_AS(convlab::detector_response(image, 28, 28, weights, 9, 1), std::invalid_argument);
  CHECK_THROWS_AS(convlab::detector_response(image, 28, 28, convlab::band_detector(29), 29, 1),
                  convlab::ViewError);
}
