// Cross-checks convolution implementations against the naive reference, in the style of XNNPACK's testers:
//
//   ConvTester().batch(3).in_channels(2).out_channels(5).image(7, 9).window(3, 2).stride(2, 1).padding(1, 0)
//       .test_all_implementations();
//
// For every registered implementation (or one, with test_all(name)), in float and double, it runs forward,
// backward_input and backward_weights (with and without bias) into NaN-filled outputs and compares with
// naive:
//   small integers in [-4, 4]: every partial sum is an integer below 2^24, exact in any order -> EXACT equality
//   reals in [-1, 1]: per element |got - ref| <= 2.5 * n * u * sum_i |a_i b_i|   (derivation in the .cpp)
// On the real data it also demands bitwise-identical results with 1 and 2 OpenMP threads, and bitwise
// equality with naive for the passes an implementation declares in ConvImplInfo::reference_order.
// Implementation objects are cached across testers on purpose: later shapes reuse the scratch buffers that
// earlier (different) shapes left behind, as a training loop would.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/conv/conv_shape.hpp"

namespace convlab::testing {

class ConvTester {
 public:
  ConvTester& batch(Index n) { shape_.batch = n; return *this; }
  ConvTester& in_channels(Index c) { shape_.in_channels = c; return *this; }
  ConvTester& out_channels(Index f) { shape_.out_channels = f; return *this; }
  ConvTester& image(Index height, Index width) { shape_.in_height = height; shape_.in_width = width; return *this; }
  ConvTester& image(Index size) { return image(size, size); }
  ConvTester& window(Index height, Index width) {
    shape_.kernel_height = height;
    shape_.kernel_width = width;
    return *this;
  }
  ConvTester& window(Index size) { return window(size, size); }
  ConvTester& stride(Index rows, Index cols) { shape_.stride_height = rows; shape_.stride_width = cols; return *this; }
  ConvTester& stride(Index both) { return stride(both, both); }
  ConvTester& padding(Index rows, Index cols) { shape_.pad_height = rows; shape_.pad_width = cols; return *this; }
  ConvTester& padding(Index both) { return padding(both, both); }
  ConvTester& seed(std::uint32_t value) { seed_ = value; return *this; }

  const ConvShape& shape() const { return shape_; }

  // All checks for one implementation (by registry name) against naive.
  void test_all(std::string_view impl_name) const;
  // All checks for every registered implementation except naive itself.
  void test_all_implementations() const;

 private:
  ConvShape shape_;
  std::uint32_t seed_ = 20240601;
};

}  // namespace convlab::testing
