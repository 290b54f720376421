// The windows walk-through: every window is read through the strided view, never by index arithmetic.
#include "cli/lecture_windows.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace convlab {

namespace {

void require_positive_size(Index size) {
  if (size <= 0) throw std::invalid_argument("detector size must be positive, got " + std::to_string(size));
}

}  // namespace

std::vector<double> lecture_detector(Index size) {
  require_positive_size(size);
  std::vector<double> weights(std::size_t(size * size), 0.0);
  for (Index col = 0; col < size; ++col) weights[std::size_t((size - 1 - col) * size + col)] = 0.05;
  return weights;
}

std::vector<double> band_detector(Index size) {
  require_positive_size(size);
  int exponent = 0;  // smallest with 2^exponent >= size
  while ((Index(1) << exponent) < size) ++exponent;
  const double scale = std::ldexp(1.0, -exponent);
  std::vector<double> weights(std::size_t(size * size));
  for (Index row = 0; row < size; ++row) {
    for (Index col = 0; col < size; ++col) {
      const Index off_band = row + col - (size - 1);
      const bool on_band = off_band >= -1 && off_band <= 1;
      weights[std::size_t(row * size + col)] = on_band ? scale : -scale;
    }
  }
  return weights;
}

std::vector<double> make_detector(const std::string& name, Index size) {
  if (name == "lecture") return lecture_detector(size);
  if (name == "band") return band_detector(size);
  throw std::invalid_argument("unknown detector '" + name + "' (known: lecture, band)");
}

WindowResponse detector_response(std::span<const float> image, Index image_rows, Index image_cols,
                                 std::span<const double> weights, Index window, Index stride) {
  if (image_rows <= 0 || image_cols <= 0 || Index(image.size()) != image_rows * image_cols) {
    throw std::invalid_argument("detector_response: image of " + std::to_string(image.size()) +
                                " values is not " + std::to_string(image_rows) + " x " + std::to_string(image_cols));
  }
  if (window <= 0 || Index(weights.size()) != window * window) {
    throw std::invalid_argument("detector_response: " + std::to_string(weights.size()) +
                                " weights do not form a " + std::to_string(window) + " x " +
                                std::to_string(window) + " window");
  }
  const StridedView<const float, 3> images(image, {1, image_rows, image_cols});
  const StridedView<const float, 5> windows = sliding_windows(images, {window, window}, {stride, stride});

  WindowResponse result;
  result.windows_shape = windows.shape();
  result.windows_byte_strides = windows.byte_strides();
  result.rows = windows.shape(1);
  result.cols = windows.shape(2);
  result.sums.resize(std::size_t(result.rows * result.cols));
  result.response.resize(result.sums.size());
  for (Index r = 0; r < result.rows; ++r) {
    for (Index c = 0; c < result.cols; ++c) {
      double sum = 0.0;
      for (Index i = 0; i < window; ++i) {
        for (Index j = 0; j < window; ++j) sum += weights[std::size_t(i * window + j)] * double(windows(0, r, c, i, j));
      }
      result.sums[std::size_t(r * result.cols + c)] = sum;
      result.response[std::size_t(r * result.cols + c)] = std::tanh(sum);
    }
  }
  const auto [lowest, highest] = std::minmax_element(result.response.begin(), result.response.end());
  result.min = *lowest;
  const Index argmax = Index(std::max_element(result.response.begin(), result.response.end()) -
                             result.response.begin());  // the first of equals, unlike minmax_element's

  result.argmax_row = argmax / result.cols;
  result.argmax_col = argmax % result.cols;
  result.max = *highest;
  const auto [lowest_sum, highest_sum] = std::minmax_element(result.sums.begin(), result.sums.end());
  result.sum_min = *lowest_sum;
  result.sum_max = *highest_sum;
  return result;
}

}  // namespace convlab
