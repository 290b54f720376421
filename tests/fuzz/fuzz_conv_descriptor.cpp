// libFuzzer target for the benchdnn descriptor parser: whatever the bytes, parse_conv_descriptor and
// parse_conv_descriptor_lines must either return shapes that validate, with a printable name and the default
// batch when mb is absent, or throw ConvDescriptorError - never crash, hang, leak, allocate hugely or let
// another exception out. Built only with -DCONVLAB_FUZZ=ON and clang++; see docs/fuzzing.md.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/conv/conv_descriptor.hpp"

namespace {

constexpr convlab::Index kDefaultBatch = 3;

void check(const convlab::ConvDescriptor& descriptor) {
  descriptor.shape.validate();  // throws (and so crashes the fuzzer) if the parser let a bad shape through
  if (!descriptor.batch_given && descriptor.shape.batch != kDefaultBatch) std::abort();
  if (descriptor.name.empty()) std::abort();
  for (char c : descriptor.name) {
    if (c < 0x20 || c >= 0x7f) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const convlab::ConvDescriptor descriptor = convlab::parse_conv_descriptor(text, kDefaultBatch);
    check(descriptor);
    if (descriptor.line != 0) std::abort();
  } catch (const convlab::ConvDescriptorError&) {
    // A clear rejection is the expected outcome for most inputs.
  }
  try {
    std::size_t previous_line = 0;
    for (const auto& descriptor : convlab::parse_conv_descriptor_lines(text, "fuzz-input", kDefaultBatch)) {
      check(descriptor);
      if (descriptor.line <= previous_line || descriptor.line > size) std::abort();
      previous_line = descriptor.line;
    }
  } catch (const convlab::ConvDescriptorError&) {
  }
  return 0;
}
