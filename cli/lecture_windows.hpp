// The lecture's windows walk-through on one digit: a numpy-style windows view of the image, a hand-made
// diagonal-stroke detector, and the response map tanh(sum(window * weights)) for every window.
// Shared by `convlab windows` and the plots that draw the detector and the response.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "common/tensor/strided_view.hpp"

namespace convlab {

// The lecture's detector of a stroke from lower left to upper right: 0.05 on the anti-diagonal
// (row + col = size - 1) of a size x size window, 0 elsewhere (row-major). The lecture built it as
// W[range(9, -1, -1), range(10)] = 1; W *= 0.05.
std::vector<double> lecture_detector(Index size);

// convlab's own variant, which also penalises ink off the stroke: +scale on the anti-diagonal band
// |row + col - (size - 1)| <= 1, -scale elsewhere, scale = 1 / (size rounded up to a power of two),
// 1/16 for 10x10. A power-of-two scale makes every product with a pixel / 256 and every partial sum exact
// in double, so its response is the same bit for bit in any summation order.
std::vector<double> band_detector(Index size);

// "lecture" or "band"; throws std::invalid_argument naming the known detectors otherwise.
std::vector<double> make_detector(const std::string& name, Index size);

struct WindowResponse {
  std::array<Index, 5> windows_shape{};         // (1, grid rows, grid cols, window, window)
  std::array<Index, 5> windows_byte_strides{};  // as numpy shows them for the lecture's float32 image
  Index rows = 0, cols = 0;                     // the response map's shape (= grid rows, grid cols)
  std::vector<double> sums;                     // rows x cols, row-major: sum(window * weights)
  std::vector<double> response;                 // rows x cols, row-major: tanh(sums)
  double min = 0.0, max = 0.0;                  // of response
  double sum_min = 0.0, sum_max = 0.0;          // of sums
  Index argmax_row = 0, argmax_col = 0;         // the first window with the largest response
};

// `image` is one image_rows x image_cols digit (row-major), float32 as in the lecture's mnist.pkl.gz;
// `weights` is window x window (row-major). Windows come from sliding_windows over the image; each sum
// adds the window's products with the weights in row-major order in double, starting from 0 - the order
// of a direct convolution, and the order in which the lecture's numpy product reproduced its printed
// maximum to the last digit.
WindowResponse detector_response(std::span<const float> image, Index image_rows, Index image_cols,
                                 std::span<const double> weights, Index window, Index stride);

}  // namespace convlab
