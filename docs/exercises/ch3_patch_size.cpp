// Chapter 3, exercise 1: the patch matrix of the second layer (20 channels of 24 x 24, 50 units of 5 x 5,
// stride 1): its rows and columns per image, and how much larger it is than the image.
#include <cstdio>

#include "common/conv/conv_shape.hpp"

int main() {
  convlab::ConvShape second;
  second.in_channels = 20;
  second.in_height = second.in_width = 24;
  second.out_channels = 50;
  second.kernel_height = second.kernel_width = 5;
  const convlab::Index rows = second.out_height() * second.out_width(), columns = second.reduction_length();
  const convlab::Index image = second.in_channels * second.in_height * second.in_width;
  std::printf("patch matrix: %td rows x %td columns = %td elements; the image: %td; %.1fx\n", rows, columns,
              rows * columns, image, double(rows * columns) / double(image));
  std::printf("the product: (50 x %td) times (%td x %td)\n", columns, columns, rows);
}
