// Chapter 6, exercise 1: the second layer (20 -> 50 channels, 5 x 5, 24 x 24) at batch 64: the forward
// pass's FLOP, its compulsory traffic in float and its arithmetic intensity. Compute- or memory-bound on a
// machine with a 230 GFLOP/s peak and 40 GB/s?
#include <cstdio>

#include "common/conv/conv_shape.hpp"

int main() {
  convlab::ConvShape second;
  second.batch = 64;
  second.in_channels = 20;
  second.in_height = second.in_width = 24;
  second.out_channels = 50;
  second.kernel_height = second.kernel_width = 5;
  const double flop = second.forward_flops();
  const double bytes = double(second.input_size() + second.weight_size() + second.output_size()) * 4;
  const double intensity = flop / bytes, ridge = 230.0 / 40.0;
  std::printf("%.0f FLOP, %.0f bytes: %.1f FLOP per byte; the ridge of 230 GFLOP/s over 40 GB/s is at %.2f: %s\n",
              flop, bytes, intensity, ridge, intensity > ridge ? "compute-bound" : "memory-bound");
}
