// Chapter 2: what deep-learning libraries call convolution is cross-correlation - the window is not
// flipped - and where the flip does appear: in the input gradient. One row of 5 pixels, one 1 x 3 unit.
#include <cstdio>
#include <vector>

#include "common/conv/conv_registry.hpp"

int main() {
  convlab::ConvShape row;  // N=1 C=1 1x5 -> F=1 1x3 -> 1x3
  row.in_height = 1;
  row.in_width = 5;
  row.kernel_height = 1;
  row.kernel_width = 3;
  const std::vector<double> x = {1, 2, 4, 8, 16};
  const std::vector<double> w = {1, 10, 100};
  std::vector<double> y(3);
  convlab::make_conv_impl("naive")->forward(row, x.data(), w.data(), nullptr, y.data());
  std::printf("convlab forward:       y = [%g, %g, %g]\n", y[0], y[1], y[2]);
  std::printf("cross-correlation:     y[o] = w[0] x[o] + w[1] x[o+1] + w[2] x[o+2] -> y[0] = %g\n",
              w[0] * x[0] + w[1] * x[1] + w[2] * x[2]);
  std::printf("convolution (flipped): y[o] = w[2] x[o] + w[1] x[o+1] + w[0] x[o+2] -> y[0] = %g\n",
              w[2] * x[0] + w[1] * x[1] + w[0] * x[2]);

  // The input gradient: dx[i] = sum over o of w[i - o] dy[o]. Read as a window sliding over dy (zero-padded
  // by k - 1 = 2 on each side), the weights meet dy in the opposite order: that window is the flipped one.
  const std::vector<double> dy = {1, 2, 3};
  std::vector<double> dx(5);
  convlab::make_conv_impl("naive")->backward_input(row, dy.data(), w.data(), dx.data());
  std::printf("dy = [%g, %g, %g] -> dx = [%g, %g, %g, %g, %g]\n", dy[0], dy[1], dy[2], dx[0], dx[1], dx[2], dx[3],
              dx[4]);
  std::printf("dx[2] = w[2] dy[0] + w[1] dy[1] + w[0] dy[2] = %g: the window over dy holds w flipped\n",
              w[2] * dy[0] + w[1] * dy[1] + w[0] * dy[2]);
}
