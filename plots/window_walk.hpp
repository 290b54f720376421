// Which cells feed which in a convolution, frame by frame, for the animations of `convlab plot animation`:
// in the forward pass, for every output cell (row-major), the input cells its window reads and the weight
// tap each meets; in the transposed case (the input gradient), for every input cell, the output-gradient
// cells that reach it and through which tap. Any stride, padding and dilation, rectangular inputs and
// windows.
#pragma once

#include <vector>

#include "common/tensor/strided_view.hpp"

namespace convlab::plots {

struct WindowWalkGeometry {
  Index input_rows = 5, input_cols = 5;
  Index window_rows = 3, window_cols = 3;
  Index stride = 1, padding = 0, dilation = 1;
  bool transposed = false;  // animate the input gradient (a transposed convolution) instead

  Index output_rows() const;
  Index output_cols() const;
  // Throws std::invalid_argument with a one-line message: a size, stride or dilation below 1, a negative
  // padding, or a window that reaches over more than the padded input.
  void validate() const;
};

struct WalkTerm {
  Index row = 0, col = 0;          // the cell read: in the input (forward; -padding .. size + padding - 1,
                                   // outside 0 .. size - 1 it is padding) or in the output gradient (transposed)
  Index tap_row = 0, tap_col = 0;  // the weight it is multiplied by
};

struct WalkFrame {
  Index row = 0, col = 0;         // the cell computed: an output (forward) or an input-gradient cell
  std::vector<WalkTerm> terms;    // in the order of the sum: window rows, then window columns
};

// One frame per output cell (forward) or per input cell (transposed), row-major. Validates first.
std::vector<WalkFrame> window_walk(const WindowWalkGeometry& geometry);

}  // namespace convlab::plots
