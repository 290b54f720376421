// Chapter 1: the lecture's 2x3x4 array, its strides, and a windows view over the same memory.
#include <cstdio>
#include <numeric>
#include <vector>

#include "common/tensor/strided_view.hpp"

int main() {
  std::vector<double> values(24);
  std::iota(values.begin(), values.end(), 0.0);  // 0, 1, ..., 23 in one contiguous buffer
  const convlab::StridedView<double, 3> array(std::span<double>(values), {2, 3, 4});

  const auto steps = array.strides();
  const auto bytes = array.byte_strides();
  std::printf("shape (2, 3, 4)\n");
  std::printf("strides in elements (%td, %td, %td)\n", steps[0], steps[1], steps[2]);
  std::printf("strides in bytes    (%td, %td, %td)\n", bytes[0], bytes[1], bytes[2]);
  std::printf("array(1, 2, 3) = %g, at position 1*12 + 2*4 + 3*1 = %d\n", array(1, 2, 3), 1 * 12 + 2 * 4 + 3);

  // 2x2 windows, one step apart: shape (2, 2, 3, 2, 2), no element copied.
  const auto windows = convlab::sliding_windows(array, {2, 2}, {1, 1});
  const auto shape = windows.shape();
  const auto wsteps = windows.strides();
  std::printf("windows shape   (%td, %td, %td, %td, %td)\n", shape[0], shape[1], shape[2], shape[3], shape[4]);
  std::printf("windows strides (%td, %td, %td, %td, %td) elements\n", wsteps[0], wsteps[1], wsteps[2], wsteps[3],
              wsteps[4]);
  std::printf("window [1, 0, 1] = [[%g, %g], [%g, %g]]\n", windows(1, 0, 1, 0, 0), windows(1, 0, 1, 0, 1),
              windows(1, 0, 1, 1, 0), windows(1, 0, 1, 1, 1));

  values[13] = -1.0;  // change the buffer: the view sees it, because it IS the buffer
  std::printf("after values[13] = -1: window [1, 0, 1] starts with %g\n", windows(1, 0, 1, 0, 0));
}
