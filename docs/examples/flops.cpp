// Chapter 6: floating-point operations per pass, 2 * N * F * oh * ow * C * kh * kw.
#include <cstdio>

#include "common/conv/conv_shape.hpp"

int main() {
  convlab::ConvShape layer;  // the lecture's convolution on a batch of 64
  layer.batch = 64;
  layer.out_channels = 20;
  layer.in_height = layer.in_width = 28;
  layer.kernel_height = layer.kernel_width = 5;
  std::printf("%s\n", layer.describe().c_str());
  std::printf("products summed per output: C*kh*kw = %td\n", layer.reduction_length());
  std::printf("outputs: N*F*oh*ow = %td\n", layer.output_size());
  std::printf("forward:          %.0f FLOP\n", layer.forward_flops());
  std::printf("backward_input:   %.0f FLOP\n", layer.backward_input_flops());
  std::printf("backward_weights: %.0f FLOP\n", layer.backward_weights_flops());

  // One epoch of training over the MNIST training set. The first layer's input gradient is never needed
  // (nothing comes before the layer to pass it to), so training computes the forward pass and the weight
  // gradient only.
  layer.batch = 60000;
  std::printf("one training epoch, forward + weight gradient: %.2f GFLOP\n",
              (layer.forward_flops() + layer.backward_weights_flops()) / 1e9);
  std::printf("the same with the input gradient as well:      %.2f GFLOP\n",
              (layer.forward_flops() + layer.backward_input_flops() + layer.backward_weights_flops()) / 1e9);
}
