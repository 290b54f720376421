// Chapter 2, exercise 1: outputs per side of a 32 x 32 input with 5 x 5 windows, stride 2, padding 2; the
// same with dilation 2; and the padding that keeps a stride-1 3 x 3 layer's output at the input's size.
#include <cstdio>

#include "common/conv/conv_shape.hpp"

int main() {
  std::printf("5x5, stride 2, padding 2:              %td\n", convlab::conv_output_size(32, 5, 2, 2));
  std::printf("5x5, stride 2, padding 2, dilation 2:  %td\n", convlab::conv_output_size(32, 5, 2, 2, 2));
  for (convlab::Index padding = 0; padding <= 2; ++padding) {
    std::printf("3x3, stride 1, padding %td:              %td%s\n", padding, convlab::conv_output_size(32, 3, 1, padding),
                convlab::conv_output_size(32, 3, 1, padding) == 32 ? "  (same size)" : "");
  }
}
