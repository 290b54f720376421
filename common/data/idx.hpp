// Reads IDX files (the format MNIST and Fashion-MNIST ship in), raw or gzip-compressed.
//
// IDX layout: two zero bytes, an element-type byte, a rank byte, `rank` big-endian uint32 dimensions,
// then the elements in C order. Only unsigned bytes (type 0x08, what MNIST uses) are supported.
// Everything declared in the header is checked against the data actually present BEFORE anything large
// is allocated, and every error is an IdxError whose message starts with the file's name and says
// what is wrong, e.g. "train.idx: truncated data: expected 47040000 bytes of data after the header,
// found 1000".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace convlab {

class IdxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The largest array the reader will hold; a header declaring more is rejected before allocation.
inline constexpr std::size_t kIdxMaxBytes = std::size_t(1) << 30;

struct IdxReadOptions {
  // Read only the first N entries along axis 0 (all when unset or larger). Raw input is still checked to
  // hold exactly the declared array; gzip input is decompressed only as far as needed, so damage after
  // the items read goes unnoticed.
  std::optional<std::size_t> first_items;
  std::size_t max_bytes = kIdxMaxBytes;
};

struct IdxArray {
  std::vector<std::size_t> dims;           // of the values read: declared_dims, but dims[0] cut to first_items
  std::vector<std::size_t> declared_dims;  // as the header declares them
  std::vector<std::uint8_t> values;  // C order, product(dims) bytes
};

// Reads a file; gzip is recognised by its 1f 8b magic, whatever the file's name.
IdxArray read_idx_file(const std::filesystem::path& path, const IdxReadOptions& options = {});

// Same rules for bytes already in memory (what the fuzzer drives); `name` starts every error message.
IdxArray read_idx_from_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                              const IdxReadOptions& options = {});

}  // namespace convlab
