// numpy's way of printing arrays and scalars, for the walk-through that sets convlab's output beside the
// lecture's: `array([[ 0,  1], ...])` with numpy's padding, separators and indentation, and floats in
// their shortest round-trip form ("0.  ", "0.05", "-0.99609375", "0.4244643684778938").
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/tensor/strided_view.hpp"

namespace convlab::cli {

// repr() of a numpy float64 or float32 scalar: the shortest text that reads back to the same value, with
// ".0" added to whole numbers ("0.0", "-0.0") as Python does.
std::string numpy_scalar(double value);
std::string numpy_scalar(float value);

// repr() of an array of the given shape (C order, at least one axis), as numpy 1.x prints it with its
// default options (line width 75, no summarising: meant for arrays of a few hundred elements).
std::string numpy_array(std::span<const std::int64_t> values, std::span<const Index> shape);
std::string numpy_array(std::span<const double> values, std::span<const Index> shape);

// "(2, 2, 3, 2, 2)": a numpy shape or strides tuple.
std::string numpy_tuple(std::span<const Index> values);

}  // namespace convlab::cli
