// Chapter 3, exercise 2: the 2x3x4 example's first image with 2 x 2 windows 2 columns apart (stride 2 along
// both axes): its patch matrix. Only whole windows count.
#include <cstdio>
#include <numeric>
#include <vector>

#include "common/tensor/strided_view.hpp"

int main() {
  std::vector<int> values(24);
  std::iota(values.begin(), values.end(), 0);
  const convlab::StridedView<const int, 3> images(std::span<const int>(values), {2, 3, 4});
  const auto windows = convlab::sliding_windows(images, {2, 2}, {2, 2});
  std::printf("windows per image: %td x %td\n", windows.shape(1), windows.shape(2));
  for (convlab::Index r = 0; r < windows.shape(1); ++r)
    for (convlab::Index c = 0; c < windows.shape(2); ++c)
      std::printf("window (%td, %td): %d %d %d %d\n", r, c, windows(0, r, c, 0, 0), windows(0, r, c, 0, 1),
                  windows(0, r, c, 1, 0), windows(0, r, c, 1, 1));
}
