// Chapter 6, exercise 2: how many images per second can the lecture's first layer (forward) process at
// 100 GFLOP/s, and at an FMA peak of 454 GFLOP/s?
#include <cstdio>
#include <initializer_list>

#include "common/conv/conv_shape.hpp"

int main() {
  convlab::ConvShape lecture;
  lecture.out_channels = 20;
  lecture.in_height = lecture.in_width = 28;
  lecture.kernel_height = lecture.kernel_width = 5;
  const double per_image = lecture.forward_flops();
  for (double gflops : {100.0, 454.0}) std::printf("%.0f GFLOP/s: %.0f images/s\n", gflops, gflops * 1e9 / per_image);
}
