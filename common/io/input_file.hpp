// The one check every reader makes before opening a file it did not write: a folder, a pipe or a device
// would give a bogus size, block or never end, so they are refused by name instead.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace convlab {

// Empty when `path` is a regular file or does not exist (opening it then says why); otherwise the
// reason it cannot be read as one, e.g. "cannot open: it is a folder".
inline std::string not_a_regular_file(const std::filesystem::path& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::is_directory(status)) return "cannot open: it is a folder";
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    return "cannot open: not a regular file";
  }
  return {};
}

}  // namespace convlab
