// Chapter 2, exercise 2: the lecture's detector over the lecture's digit (MNIST training image 15), with the
// windows 2 pixels apart instead of 1: the response map's shape and its minimum and maximum. Does the
// strongest window survive the stride?
#include <cstdio>
#include <vector>

#include "common/data/datasets.hpp"
#include "cli/lecture_windows.hpp"

int main() {
  const convlab::Dataset digits = convlab::load_dataset("mnist", convlab::DatasetSplit::train, 16);
  const std::vector<float> inputs = convlab::to_inputs<float>(digits, convlab::PixelScaling{});
  const std::span<const float> digit = std::span<const float>(inputs).subspan(15 * 784, 784);
  for (convlab::Index stride : {1, 2}) {
    const auto result = convlab::detector_response(digit, 28, 28, convlab::lecture_detector(10), 10, stride);
    std::printf("stride %td: %td x %td windows, response from %.17g to %.17g, strongest at window (%td, %td), "
                "pixel (%td, %td)\n",
                stride, result.rows, result.cols, result.min, result.max, result.argmax_row, result.argmax_col,
                result.argmax_row * stride, result.argmax_col * stride);
  }
}
