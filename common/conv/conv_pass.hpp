// The three passes of a convolution layer (conv_impl.hpp), named as the benchmarks and `convlab impls` name them.
#pragma once

#include <array>
#include <string_view>

namespace convlab {

enum class ConvPass { forward, backward_input, backward_weights };

inline constexpr std::array<ConvPass, 3> kConvPasses = {ConvPass::forward, ConvPass::backward_input,
                                                       ConvPass::backward_weights};

inline constexpr std::string_view pass_name(ConvPass pass) {
  switch (pass) {
    case ConvPass::forward: return "forward";
    case ConvPass::backward_input: return "backward_input";
    case ConvPass::backward_weights: return "backward_weights";
  }
  return "?";
}

}  // namespace convlab
