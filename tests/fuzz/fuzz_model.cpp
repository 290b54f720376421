// libFuzzer target for the model loader: whatever the bytes, load_model_from_memory must either return a
// model whose parameter count fits its (valid) architecture or throw ModelFileError - never crash, hang,
// leak, allocate more than the input, or let another exception out. Built only with -DCONVLAB_FUZZ=ON and
// clang++; see docs/fuzzing.md.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "common/nn/model_file.hpp"

namespace {

void load_and_check(std::span<const std::uint8_t> bytes) {
  try {
    const convlab::SavedModel model = convlab::load_model_from_memory(bytes, "fuzz-input");
    model.architecture.validate();  // a loaded architecture must be a valid one
    if (convlab::Index(model.parameters.size()) != model.architecture.parameter_count()) std::abort();
    if (model.parameters.size() * 4 > bytes.size()) std::abort();  // never more values than the bytes hold
  } catch (const convlab::ModelFileError&) {
    // A clear rejection is the expected outcome for most inputs.
  }
}

// The checksum stops nearly every mutation at the door, so each input is also tried as a forger would
// present it: the declared file size and the trailing crc32 rewritten to match. That reaches the parsing
// of the architecture, precision, scaling and parameter count behind the checksum.
std::vector<std::uint8_t> forged(std::span<const std::uint8_t> bytes) {
  constexpr std::size_t kSizeAt = 12 + 4, kPrefix = kSizeAt + 8;
  std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
  if (copy.size() < kPrefix + 4) return copy;
  for (std::size_t i = 0; i < 8; ++i) copy[kSizeAt + i] = std::uint8_t(std::uint64_t(copy.size()) >> (8 * i));
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), copy.data(), uInt(copy.size() - 4));
  for (std::size_t i = 0; i < 4; ++i) copy[copy.size() - 4 + i] = std::uint8_t(crc >> (8 * i));
  return copy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  load_and_check(bytes);
  load_and_check(forged(bytes));
  return 0;
}
