// Output files that are either completely written or not touched: a temporary file in the same folder is
// written, flushed, fsync'ed and renamed over the target. Shared by model files and training histories.
#pragma once

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string_view>

namespace convlab {

class OutputFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Checks that `path` could be written now (its folder exists and is writable; it is not a folder) by
// creating and removing a temporary file beside it. Throws OutputFileError
// "cannot save <what> to '<path>': <why>".
void check_output_writable(const std::filesystem::path& path, std::string_view what);

// Replaces `path` with `bytes` atomically; on any failure throws OutputFileError (same wording) and leaves
// the previous file, if any, intact and no temporary file behind.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes, std::string_view what);

}  // namespace convlab
