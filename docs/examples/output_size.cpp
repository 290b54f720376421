// Chapter 2: how many windows fit, with stride, padding and dilation, and the lecture's layer.
#include <cstdio>

#include "common/conv/conv_shape.hpp"

using convlab::conv_output_size;

int main() {
  // conv_output_size(input, kernel, stride, padding, dilation) = floor((i + 2p - d(k-1) - 1) / s) + 1
  std::printf("10x10 windows of a 28x28 digit:        %td per side\n", conv_output_size(28, 10, 1, 0));
  std::printf("the lecture's 5x5 windows:             %td per side\n", conv_output_size(28, 5, 1, 0));
  std::printf("5x5 windows, stride 4:                 %td per side\n", conv_output_size(28, 5, 4, 0));
  std::printf("5x5 windows, padding 2:                %td per side\n", conv_output_size(28, 5, 1, 2));
  std::printf("5x5 windows, dilation 2 (9x9 reach):   %td per side\n", conv_output_size(28, 5, 1, 0, 2));
  std::printf("3x3 windows, stride 2, padding 1:      %td per side\n", conv_output_size(28, 3, 2, 1));

  convlab::ConvShape lecture;  // one image, 1 channel, 28x28 -> 20 units, 5x5 windows
  lecture.out_channels = 20;
  lecture.in_height = lecture.in_width = 28;
  lecture.kernel_height = lecture.kernel_width = 5;
  std::printf("%s\n", lecture.describe().c_str());
  lecture.stride_height = lecture.stride_width = 4;  // what windowStrides=(4, 4) should have meant
  std::printf("%s\n", lecture.describe().c_str());
}
