// Chapter 3: the patch matrix of the lecture's 2x3x4 example, small enough to read: each of the two 3x4
// "images" has 2 x 3 windows of 2 x 2, so its matrix has 6 rows (one per window, that is per output pixel)
// and 4 columns (one per weight of a 2 x 2 unit).
#include <cstdio>
#include <numeric>
#include <vector>

#include "common/tensor/strided_view.hpp"

int main() {
  std::vector<double> values(24);
  std::iota(values.begin(), values.end(), 0.0);
  const convlab::StridedView<const double, 3> images(std::span<const double>(values), {2, 3, 4});
  const auto windows = convlab::sliding_windows(images, {2, 2}, {1, 1});  // (2, 2, 3, 2, 2)

  for (convlab::Index n = 0; n < windows.shape(0); ++n) {
    std::printf("image %td: patch matrix, %td x %td\n", n, windows.shape(1) * windows.shape(2),
                windows.shape(3) * windows.shape(4));
    for (convlab::Index r = 0; r < windows.shape(1); ++r)
      for (convlab::Index c = 0; c < windows.shape(2); ++c) {
        std::printf("  window (%td, %td): ", r, c);
        for (convlab::Index i = 0; i < windows.shape(3); ++i)
          for (convlab::Index j = 0; j < windows.shape(4); ++j) std::printf("%3g", windows(n, r, c, i, j));
        std::printf("\n");
      }
  }
  // One unit, weights [1, 0, 0, -1] (top-left minus bottom-right): the product of each image's 6 x 4 matrix
  // with the 4 weights is that image's 2 x 3 output.
  const double weights[4] = {1, 0, 0, -1};
  for (convlab::Index n = 0; n < 2; ++n) {
    std::printf("image %td: output", n);
    for (convlab::Index r = 0; r < 2; ++r)
      for (convlab::Index c = 0; c < 3; ++c) {
        double sum = 0;
        for (convlab::Index i = 0; i < 2; ++i)
          for (convlab::Index j = 0; j < 2; ++j) sum += weights[i * 2 + j] * windows(n, r, c, i, j);
        std::printf(" %g", sum);
      }
    std::printf("\n");
  }
}
