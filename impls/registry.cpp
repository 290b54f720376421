// The table of convolution implementations: adding one is a folder under impls/ plus one line here.
#include <sstream>
#include <stdexcept>

#include "common/conv/conv_registry.hpp"

namespace convlab {

ConvImplInfo naive_conv_info();
ConvImplInfo simd_conv_info();
ConvImplInfo openmp_conv_info();
ConvImplInfo im2col_conv_info();
ConvImplInfo winograd2_conv_info();
ConvImplInfo winograd4_conv_info();
ConvImplInfo fft_conv_info();

const std::vector<ConvImplInfo>& conv_implementations() {
  static const std::vector<ConvImplInfo> table = {
      naive_conv_info(),
      simd_conv_info(),
      openmp_conv_info(),
      im2col_conv_info(),
      winograd2_conv_info(),
      winograd4_conv_info(),
      fft_conv_info(),
  };
  return table;
}

const ConvImplInfo& conv_implementation(std::string_view name) {
  for (const ConvImplInfo& info : conv_implementations()) {
    if (info.name == name) return info;
  }
  std::ostringstream message;
  message << "unknown implementation '" << name << "' (known:";
  for (const ConvImplInfo& info : conv_implementations()) message << " " << info.name;
  message << ")";
  throw std::invalid_argument(message.str());
}

std::unique_ptr<ConvImpl> make_conv_impl(std::string_view name) { return conv_implementation(name).make(); }

const ConvImplInfo& reference_implementation() {
  static const ConvImplInfo& reference = []() -> const ConvImplInfo& {
    const ConvImplInfo* found = nullptr;
    for (const ConvImplInfo& info : conv_implementations()) {
      if (info.role != ConvRole::reference) continue;
      if (found) throw std::logic_error("two reference implementations registered: " + found->name + ", " + info.name);
      found = &info;
    }
    if (!found) throw std::logic_error("no reference implementation registered");
    return *found;
  }();
  return reference;
}

}  // namespace convlab
