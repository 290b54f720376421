// The shape of a classifier: convolution layers, then dense tanh layers, then a softmax over the classes.
//
// Text form (what `convlab train --arch` takes and what model files and reports print), layers joined by
// commas, convolutions first:
//   conv<units>:<kh>x<kw>[:s<stride>][:p<pad>]    stride/pad as one number or <h>x<w>; default s1, p0
//   dense<units>
// e.g. "conv20:5x5:s1,dense50" (the lecture's network). Classes and input shape come from the dataset.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/conv/conv_shape.hpp"

namespace convlab {

class ArchitectureError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct ConvLayerSpec {
  Index units = 1;
  Index window_height = 1, window_width = 1;
  Index stride_height = 1, stride_width = 1;
  Index pad_height = 0, pad_width = 0;
  bool operator==(const ConvLayerSpec&) const = default;
};

// One layer's place in the network, derived from an Architecture.
struct LayerGeometry {
  bool is_conv = false;
  Index in_channels = 0, in_height = 1, in_width = 1;  // dense: in_channels is the input length
  Index units = 0, out_height = 1, out_width = 1;
  Index weight_count = 0;  // conv: units*in_channels*kh*kw; dense: inputs*units
  Index bias_count = 0;
  Index fan_in = 0;        // weights feeding one unit (the initialisation scale is 1/sqrt(fan_in))
  Index input_size() const { return in_channels * in_height * in_width; }   // per example
  Index output_size() const { return units * out_height * out_width; }      // per example
};

// Convolution layer `spec` at its place `g` in a network, for a batch of n examples.
ConvShape conv_layer_shape(const LayerGeometry& g, const ConvLayerSpec& spec, Index n);

struct Architecture {
  Index input_channels = 1, input_height = 28, input_width = 28;
  Index classes = 10;
  std::vector<ConvLayerSpec> conv_layers;
  std::vector<Index> dense_layers;  // hidden dense tanh layers' units (the softmax layer is implicit)

  // The lecture's constructor: (input channels, [conv units, dense units...], classes, input shape,
  // window shape, window strides). The first entry of `hidden_units` is the convolution's unit count.
  static Architecture lecture(Index input_channels, const std::vector<Index>& hidden_units, Index classes,
                              std::pair<Index, Index> input_shape, std::pair<Index, Index> window_shape,
                              std::pair<Index, Index> window_strides);

  // Parses the layer text (see top of file) onto the given input shape and classes; validates.
  static Architecture parse(std::string_view layers, Index input_channels, Index input_height,
                            Index input_width, Index classes);

  std::string layers_text() const;  // "conv20:5x5:s1,dense50"
  std::string describe() const;     // "1x28x28 -> conv20:5x5:s1 (20x24x24) -> dense50 -> softmax10"

  // Throws ArchitectureError with a one-line message: zero units, stride 0, negative padding, a window
  // larger than the (padded) input it sees, fewer than 2 classes, too many parameters.
  void validate() const;

  // Every layer in order, the softmax output layer last (is_conv false, units = classes).
  std::vector<LayerGeometry> layers() const;
  // The convolution layers' shapes for a batch of n examples, in order.
  std::vector<ConvShape> conv_shapes(Index n) const;
  Index parameter_count() const;
  Index input_size() const { return input_channels * input_height * input_width; }

  bool operator==(const Architecture&) const = default;
};

struct ConvImplInfo;
// Empty when implementation `info` computes the passes of every convolution layer of `a` that inference
// (forward) or training (all three) needs; else why not, naming the layer.
std::string unsupported_layer(const ConvImplInfo& info, const Architecture& a, bool training);

}  // namespace convlab
