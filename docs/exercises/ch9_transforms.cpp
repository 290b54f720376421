// Chapter 9, exercise 2: where the work of an FFT convolution goes, per image, counted in floating-point
// operations: a radix-2 butterfly is one complex product and two complex additions (10), a complex
// multiply-add 8, a direct multiply-add 2. A 2-D transform of N points takes N/2 log2 N butterflies; fft
// transforms each input plane (C), multiplies pointwise per channel pair (F C N) and inverts each output
// plane (F); the weights' transforms are left out (once per call, or never with held weights).
#include <cstdio>

#include "common/conv/conv_shape.hpp"
#include "impls/fft/fft_conv.hpp"

namespace {
void count(const char* name, convlab::Index channels, convlab::Index filters, convlab::Index size,
           convlab::Index window, convlab::Index pad) {
  convlab::ConvShape s;
  s.batch = 1;
  s.in_channels = channels;
  s.out_channels = filters;
  s.in_height = s.in_width = size;
  s.kernel_height = s.kernel_width = window;
  s.pad_height = s.pad_width = pad;
  const double n = double(convlab::fft_transform_size(s).points());
  double log2n = 0;
  for (double p = 1; p < n; p *= 2) ++log2n;
  const double transform = n / 2 * log2n * 10;
  const double inputs = double(channels) * transform, outputs = double(filters) * transform;
  const double pointwise = double(filters * channels) * n * 8;
  const double direct = double(filters * channels * s.out_height() * s.out_width() * window * window) * 2;
  const double total = inputs + pointwise + outputs;
  std::printf("%s: input transforms %.3g, pointwise %.3g, inverse transforms %.3g flop; FFT %.3g against direct "
              "%.3g (%.2fx)\n", name, inputs, pointwise, outputs, total, direct, direct / total);
}
}  // namespace

int main() {
  count("the lecture's first layer (1 -> 20, 5x5)", 1, 20, 28, 5, 0);
  count("64 -> 64 channels, 11x11, padding 5, 27x27", 64, 64, 27, 11, 5);
}
