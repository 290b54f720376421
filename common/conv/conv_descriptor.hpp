// oneDNN benchdnn's convolution problem descriptors, so layers can be named the way benchdnn's input files
// (and papers quoting them) name them, e.g.
//   mb64ic20ih24oc50oh10kh5sh2n"conv2_s2"
//   mb1_ic3oc64_ih224oh112kh7sh2ph3n"resnet_50:conv1"
// A descriptor is a run of <field><number> groups (underscores between groups allowed) and an optional
// n"name". Fields: mb (batch), g (groups: only 1), ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw
// (dilation in benchdnn's convention, where 0 means none: only 0). ic, oc, ih and kh are required.
// benchdnn's defaults: iw = ih, kw = kh, sw = sh = 1; a missing ph is solved from oh when oh is given (else
// 0), likewise pw from ow (else pw = ph); a given oh/ow must equal the computed output size.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/conv/conv_shape.hpp"

namespace convlab {

// Every parse error: the message names the descriptor, the 1-based character position and what is wrong;
// a file's errors are prefixed with "<file>:<line>: ".
class ConvDescriptorError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Descriptor numbers above this are refused before any arithmetic: they are far beyond any real layer and
// keep every product below the 64-bit range.
inline constexpr Index kMaxDescriptorNumber = (Index(1) << 31) - 1;

struct ConvDescriptor {
  std::string name;          // n"..." if given, else the descriptor text itself
  ConvShape shape;           // validated; batch = mb, or the caller's default when mb is absent
  bool batch_given = false;  // whether the descriptor had mb
  std::size_t line = 0;      // its line in a shape file (1-based); 0 when parsed on its own
};

ConvDescriptor parse_conv_descriptor(std::string_view text, Index default_batch);

// A shape file: one descriptor per line; blank lines and `#` comments (whole-line or trailing) are skipped.
// Folders, devices and files over kMaxShapeFileBytes are refused.
inline constexpr std::size_t kMaxShapeFileBytes = std::size_t(1) << 20;
std::vector<ConvDescriptor> read_conv_descriptor_file(const std::filesystem::path& path, Index default_batch);

// The same rules for text already in memory; `source` is the file name the errors start with.
std::vector<ConvDescriptor> parse_conv_descriptor_lines(std::string_view content, const std::string& source,
                                                        Index default_batch);

}  // namespace convlab
