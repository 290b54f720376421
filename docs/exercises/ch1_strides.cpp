// Chapter 1, exercise 1: a float32 array of shape (3, 28, 28) - three MNIST digits. Its byte strides, and the
// byte offset of element (2, 5, 7).
#include <cstdio>
#include <vector>

#include "common/tensor/strided_view.hpp"

int main() {
  std::vector<float> digits(3 * 28 * 28);
  const convlab::StridedView<float, 3> view(std::span<float>(digits), {3, 28, 28});
  const auto bytes = view.byte_strides();
  std::printf("byte strides (%td, %td, %td)\n", bytes[0], bytes[1], bytes[2]);
  const auto offset = reinterpret_cast<const char*>(&view(2, 5, 7)) - reinterpret_cast<const char*>(digits.data());
  std::printf("element (2, 5, 7) at byte %td = 2*%td + 5*%td + 7*%td\n", offset, bytes[0], bytes[1], bytes[2]);
}
