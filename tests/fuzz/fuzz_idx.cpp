// libFuzzer target for the IDX reader (raw and gzip input): whatever the bytes, read_idx_from_memory must
// either return an array whose size matches its dimensions or throw IdxError - never crash, hang, leak,
// or let another exception out. Built only with -DCONVLAB_FUZZ=ON and clang++; see docs/fuzzing.md.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "common/data/idx.hpp"

namespace {

void read_and_check(std::span<const std::uint8_t> bytes, const convlab::IdxReadOptions& options) {
  try {
    const convlab::IdxArray array = convlab::read_idx_from_memory(bytes, "fuzz-input", options);
    std::size_t product = 1;
    for (std::size_t extent : array.dims) product *= extent;
    if (product != array.values.size() || array.dims.size() != array.declared_dims.size()) std::abort();
  } catch (const convlab::IdxError&) {
    // A clear rejection is the expected outcome for most inputs.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  read_and_check(bytes, {});
  convlab::IdxReadOptions first_item;
  first_item.first_items = 1;
  read_and_check(bytes, first_item);
  convlab::IdxReadOptions small_limit;  // exercises the size-limit path with ordinary inputs
  small_limit.max_bytes = 64;
  read_and_check(bytes, small_limit);
  return 0;
}
