// The lecture's windows walk-through on one digit: a numpy-style windows view of the image, a hand-made
// diagonal-stroke detector, and the response map tanh(sum(window * weights)) for every window.
// Shared by `convlab windows` and the plots that draw the detector and the response.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "common/strided_view.hpp"

namespace convlab {

// A size x size detector for a stroke running from bottom-left to top-right ("/", the slant of most
// handwritten 1s, 4s and 7s), row-major: +scale on the anti-diagonal band |row + col - (size - 1)| <= 1
// and -scale elsewhere, scale = 1 / (size rounded up to a power of two), 1/16 for 10x10. The lecture's own
// weights were not available to us, so this is our choice: it rewards ink along the band and penalises
// ink elsewhere; the scale keeps tanh out of saturation (a 10x10 window of lecture-scaled pixels sums to
// between -4.5 and 1.75); and being a power of two it makes every product of a weight and a pixel/256,
// and every partial sum, exact in double (and in float): the response is the same bit for bit whatever
// order the additions run in, fused or not - naive convolution, im2col, numpy's tensordot alike.
std::vector<double> diagonal_detector(Index size);

struct WindowResponse {
  std::array<Index, 5> windows_shape{};         // (1, grid rows, grid cols, window, window)
  std::array<Index, 5> windows_byte_strides{};  // as numpy shows them for a float64 image
  Index rows = 0, cols = 0;                     // the response map's shape (= grid rows, grid cols)
  std::vector<double> sums;                     // rows x cols, row-major: sum(window * weights)
  std::vector<double> response;                 // rows x cols, row-major: tanh(sums)
  double min = 0.0, max = 0.0;                  // of response
  double sum_min = 0.0, sum_max = 0.0;          // of sums
};

// `image` is one image_rows x image_cols digit (row-major); `weights` is window x window (row-major).
// Windows come from sliding_windows over the image; each response is tanh of the window's products with
// the weights summed in row-major order, starting from 0 (the order of a direct convolution).
WindowResponse detector_response(std::span<const double> image, Index image_rows, Index image_cols,
                                 std::span<const double> weights, Index window, Index stride);

}  // namespace convlab
