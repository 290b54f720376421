// The table of convolution implementations, in the order `convlab impls` lists them. Adding one is a folder under
// impls/ (its CMakeLists.txt, and `ConvImplInfo <name>_conv_info()` defined in namespace convlab, whose `name` is
// what --impl takes) plus one X(<name>) line in CONVLAB_IMPLEMENTATIONS below: that line both declares its
// <name>_conv_info() and puts it in the table. Nothing else names implementations: the tests, the benchmarks and
// the commands read this table (or `convlab impls`, which prints it).
#include <sstream>
#include <stdexcept>

#include "common/conv/conv_registry.hpp"

// One X(<name>) per implementation, in table order.
#define CONVLAB_IMPLEMENTATIONS(X) \
  X(naive)                         \
  X(simd)                          \
  X(openmp)                        \
  X(im2col)                        \
  X(winograd2)                     \
  X(winograd4)                     \
  X(fft)

namespace convlab {

#define CONVLAB_DECLARE_IMPLEMENTATION(name) ConvImplInfo name##_conv_info();
CONVLAB_IMPLEMENTATIONS(CONVLAB_DECLARE_IMPLEMENTATION)
#undef CONVLAB_DECLARE_IMPLEMENTATION

const std::vector<ConvImplInfo>& conv_implementations() {
#define CONVLAB_LIST_IMPLEMENTATION(name) name##_conv_info(),
  static const std::vector<ConvImplInfo> table = {CONVLAB_IMPLEMENTATIONS(CONVLAB_LIST_IMPLEMENTATION)};
#undef CONVLAB_LIST_IMPLEMENTATION
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
