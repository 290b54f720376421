// Chapter 9, exercise 1: the transform plane convlab's fft picks (per axis the smallest power of two at least
// max(input + padding, window, output): fft_transform_size) for four layers, and the real multiply-adds of the
// pointwise product per (image, filter, channel) - four per complex point - against the direct sum's.
#include <cstdio>

#include "common/conv/conv_shape.hpp"
#include "impls/fft/fft_conv.hpp"

int main() {
  struct Layer {
    const char* name;
    convlab::Index size, window, pad;
  };
  const Layer layers[] = {{"the lecture's first layer", 28, 5, 0},
                          {"res2a_branch2b", 56, 3, 1},
                          {"11x11, padding 5, 27x27", 27, 11, 5},
                          {"11x11, padding 5, 28x28", 28, 11, 5}};
  for (const Layer& layer : layers) {
    convlab::ConvShape s;
    s.in_height = s.in_width = layer.size;
    s.kernel_height = s.kernel_width = layer.window;
    s.pad_height = s.pad_width = layer.pad;
    const convlab::FftSize plane = convlab::fft_transform_size(s);
    const long pointwise = 4 * long(plane.points());
    const long direct = long(s.out_height() * s.out_width() * layer.window * layer.window);
    std::printf("%s: %ldx%ld outputs, plane %ldx%ld; per channel pair %ld multiply-adds pointwise, %ld direct "
                "(%.2fx)\n", layer.name, long(s.out_height()), long(s.out_width()), long(plane.height),
                long(plane.width), pointwise, direct, double(direct) / double(pointwise));
  }
}
