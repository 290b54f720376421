#include "common/conv/conv_shape.hpp"

#include <limits>
#include <sstream>

namespace convlab {

Index conv_output_size(Index input, Index kernel, Index stride, Index padding, Index dilation) {
  if (input < 1) throw ConvShapeError("input size must be at least 1, got " + std::to_string(input));
  if (kernel < 1) throw ConvShapeError("window size must be at least 1, got " + std::to_string(kernel));
  if (stride < 1) throw ConvShapeError("stride must be at least 1, got " + std::to_string(stride));
  if (padding < 0) throw ConvShapeError("padding must not be negative, got " + std::to_string(padding));
  if (dilation < 1) throw ConvShapeError("dilation must be at least 1, got " + std::to_string(dilation));
  const Index padded = input + 2 * padding;
  const Index span = dilation * (kernel - 1) + 1;
  if (span > padded) {
    throw ConvShapeError("window of " + std::to_string(span) + " is larger than the padded input of " +
                         std::to_string(padded) + " (input " + std::to_string(input) + ", padding " +
                         std::to_string(padding) + ")");
  }
  return (padded - span) / stride + 1;
}

void ConvShape::validate() const {
  const auto positive = [](Index value, const char* name) {
    if (value < 1) throw ConvShapeError(std::string(name) + " must be at least 1, got " + std::to_string(value));
  };
  positive(batch, "batch");
  positive(in_channels, "input channels");
  positive(in_height, "input height");
  positive(in_width, "input width");
  positive(out_channels, "output channels");
  positive(kernel_height, "window height");
  positive(kernel_width, "window width");
  positive(stride_height, "stride (rows)");
  positive(stride_width, "stride (cols)");
  if (pad_height < 0 || pad_width < 0) throw ConvShapeError("padding must not be negative");
  // Guard every element count against overflow before anything multiplies them.
  constexpr Index kLimit = Index(1) << 40;
  const auto bounded = [&](std::initializer_list<Index> factors, const char* what) {
    Index product = 1;
    for (Index factor : factors) {
      if (factor > kLimit / product) throw ConvShapeError(std::string(what) + " has too many elements");
      product *= factor;
    }
  };
  bounded({batch, in_channels, in_height + 2 * pad_height, in_width + 2 * pad_width}, "the input");
  bounded({out_channels, in_channels, kernel_height, kernel_width}, "the weight tensor");
  const Index oh = out_height();
  const Index ow = out_width();
  bounded({batch, out_channels, oh, ow}, "the output");
  bounded({batch, oh, ow, in_channels, kernel_height, kernel_width}, "the column matrix");
}

std::string ConvShape::describe() const {
  std::ostringstream text;
  text << "N=" << batch << " C=" << in_channels << " " << in_height << "x" << in_width << " -> F=" << out_channels
       << " " << kernel_height << "x" << kernel_width << " s" << stride_height;
  if (stride_width != stride_height) text << "," << stride_width;
  text << " p" << pad_height;
  if (pad_width != pad_height) text << "," << pad_width;
  text << " -> " << out_height() << "x" << out_width();
  return text.str();
}

}  // namespace convlab
