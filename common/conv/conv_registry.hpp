// Implementations by name. The table itself lives in impls/registry.cpp: one line per implementation.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/conv/conv_impl.hpp"

namespace convlab {

struct ConvImplInfo {
  std::string name;            // what --impl takes
  std::string summary;         // one line: the idea it adds
  std::string build_flags;     // compiler flags its kernels were built with (benchmarks print them)
  bool uses_threads = false;   // whether it parallelises with OpenMP
  std::function<std::unique_ptr<ConvImpl>()> make;
  // The passes that sum every output in exactly naive's order (see impls/naive/naive_conv.hpp) with the
  // same rounding per term: the cross-check then demands bitwise equality with naive on real data too.
  struct ReferenceOrder {
    bool forward = false, backward_input = false, weight_gradient = false, bias_gradient = false;
  };
  ReferenceOrder reference_order{};
};

const std::vector<ConvImplInfo>& conv_implementations();

// Throws std::invalid_argument listing the known names when `name` is not registered.
const ConvImplInfo& conv_implementation(std::string_view name);
std::unique_ptr<ConvImpl> make_conv_impl(std::string_view name);

// The fastest implementation with 2 threads; naive stays the reference every other one is checked against.
inline constexpr std::string_view kDefaultConvImpl = "openmp";

}  // namespace convlab
