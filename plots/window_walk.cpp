// The window walk: the forward pass reads input (oy*s + ky*d - p, ox*s + kx*d - p) for output (oy, ox) and tap
// (ky, kx); the input gradient collects, for input (r, c), every (output, tap) pair that read it.
#include "plots/window_walk.hpp"

#include <stdexcept>
#include <string>

#include "common/conv/conv_shape.hpp"

namespace convlab::plots {

Index WindowWalkGeometry::output_rows() const {
  return conv_output_size(input_rows, window_rows, stride, padding, dilation);
}

Index WindowWalkGeometry::output_cols() const {
  return conv_output_size(input_cols, window_cols, stride, padding, dilation);
}

void WindowWalkGeometry::validate() const {
  auto at_least_one = [](Index value, const char* what) {
    if (value < 1) throw std::invalid_argument(std::string(what) + " must be at least 1, got " + std::to_string(value));
  };
  at_least_one(input_rows, "the input's rows");
  at_least_one(input_cols, "the input's columns");
  at_least_one(window_rows, "the window's rows");
  at_least_one(window_cols, "the window's columns");
  at_least_one(stride, "the stride");
  at_least_one(dilation, "the dilation");
  if (padding < 0) throw std::invalid_argument("the padding must be at least 0, got " + std::to_string(padding));
  const Index reach_rows = dilation * (window_rows - 1) + 1, reach_cols = dilation * (window_cols - 1) + 1;
  if (reach_rows > input_rows + 2 * padding || reach_cols > input_cols + 2 * padding) {
    throw std::invalid_argument("the window reaches over " + std::to_string(reach_rows) + " x " +
                                std::to_string(reach_cols) + " pixels, more than the padded input's " +
                                std::to_string(input_rows + 2 * padding) + " x " +
                                std::to_string(input_cols + 2 * padding));
  }
}

std::vector<WalkFrame> window_walk(const WindowWalkGeometry& g) {
  g.validate();
  const Index out_rows = g.output_rows(), out_cols = g.output_cols();
  std::vector<WalkFrame> frames;
  if (!g.transposed) {
    for (Index oy = 0; oy < out_rows; ++oy)
      for (Index ox = 0; ox < out_cols; ++ox) {
        WalkFrame frame{oy, ox, {}};
        for (Index ky = 0; ky < g.window_rows; ++ky)
          for (Index kx = 0; kx < g.window_cols; ++kx)
            frame.terms.push_back({oy * g.stride + ky * g.dilation - g.padding,
                                   ox * g.stride + kx * g.dilation - g.padding, ky, kx});
        frames.push_back(std::move(frame));
      }
    return frames;
  }
  // Transposed: input cell (r, c) receives w[ky][kx] * dy[oy][ox] wherever oy*s + ky*d - p == r (and the same
  // for columns). Terms in the order the forward pass's taps run: window rows, then window columns.
  for (Index r = 0; r < g.input_rows; ++r)
    for (Index c = 0; c < g.input_cols; ++c) {
      WalkFrame frame{r, c, {}};
      for (Index ky = 0; ky < g.window_rows; ++ky)
        for (Index kx = 0; kx < g.window_cols; ++kx) {
          const Index row_offset = r + g.padding - ky * g.dilation, col_offset = c + g.padding - kx * g.dilation;
          if (row_offset < 0 || col_offset < 0 || row_offset % g.stride || col_offset % g.stride) continue;
          const Index oy = row_offset / g.stride, ox = col_offset / g.stride;
          if (oy < out_rows && ox < out_cols) frame.terms.push_back({oy, ox, ky, kx});
        }
      frames.push_back(std::move(frame));
    }
  return frames;
}

}  // namespace convlab::plots
