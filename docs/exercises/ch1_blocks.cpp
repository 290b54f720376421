// Chapter 1, exercise 2: non-overlapping 3 x 3 blocks of one 6 x 6 image (windows with stride 3) as a view:
// its shape and element strides, and block (1, 0). Then a view that asks for one block too many.
#include <cstdio>
#include <numeric>
#include <vector>

#include "common/tensor/strided_view.hpp"

int main() {
  std::vector<int> image(36);
  std::iota(image.begin(), image.end(), 0);
  const convlab::StridedView<const int, 3> images(std::span<const int>(image), {1, 6, 6});
  const auto blocks = convlab::sliding_windows(images, {3, 3}, {3, 3});
  const auto shape = blocks.shape();
  const auto steps = blocks.strides();
  std::printf("shape (%td, %td, %td, %td, %td), element strides (%td, %td, %td, %td, %td)\n", shape[0], shape[1],
              shape[2], shape[3], shape[4], steps[0], steps[1], steps[2], steps[3], steps[4]);
  std::printf("block (1, 0): %d %d %d / %d %d %d / %d %d %d\n", blocks(0, 1, 0, 0, 0), blocks(0, 1, 0, 0, 1),
              blocks(0, 1, 0, 0, 2), blocks(0, 1, 0, 1, 0), blocks(0, 1, 0, 1, 1), blocks(0, 1, 0, 1, 2),
              blocks(0, 1, 0, 2, 0), blocks(0, 1, 0, 2, 1), blocks(0, 1, 0, 2, 2));
  try {
    const convlab::StridedView<const int, 5> too_many(std::span<const int>(image), {1, 3, 2, 3, 3},
                                                      {36, 18, 3, 6, 1});
    std::printf("accepted a view of %td elements\n", too_many.size());
  } catch (const convlab::ViewError&) {
    std::printf("3 rows of blocks: refused, the view would reach outside the 36 elements\n");
  }
}
