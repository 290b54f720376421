// Atomic replacement of output files (mkstemp beside the target, write, fsync, rename).
#include "common/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace convlab {
namespace {

std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what, const std::string& why) {
  throw OutputFileError("cannot save " + std::string(what) + " to '" + path.string() + "': " + why);
}

// A hidden temporary beside the target (so rename stays within one file system).
int make_temporary(const std::filesystem::path& path, std::string& temporary) {
  std::string name = ".";
  name += path.filename().string();
  name += ".tmp-XXXXXX";
  temporary = (folder_of(path) / name).string();
  return ::mkstemp(temporary.data());
}

}  // namespace

void check_output_writable(const std::filesystem::path& path, std::string_view what) {
  std::error_code error;
  if (path.empty() || !path.has_filename()) fail(path, what, "not a file name");
  if (std::filesystem::is_directory(path, error)) fail(path, what, "it is a folder");
  const std::filesystem::path folder = folder_of(path);
  if (!std::filesystem::is_directory(folder, error)) fail(path, what, "folder '" + folder.string() + "' does not exist");
  std::string temporary;
  const int fd = make_temporary(path, temporary);
  if (fd < 0) fail(path, what, std::strerror(errno));
  ::close(fd);
  ::unlink(temporary.c_str());
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes, std::string_view what) {
  check_output_writable(path, what);
  std::string temporary;
  const int fd = make_temporary(path, temporary);
  if (fd < 0) fail(path, what, std::strerror(errno));
  const auto abandon = [&](const std::string& why) {
    ::close(fd);
    ::unlink(temporary.c_str());
    fail(path, what, why);
  };
  for (std::size_t written = 0; written < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) abandon(n < 0 ? std::strerror(errno) : "short write");
    written += std::size_t(n);
  }
  if (::fchmod(fd, 0644) != 0) abandon(std::strerror(errno));  // mkstemp makes 0600; outputs are not secrets
  if (::fsync(fd) != 0) abandon(std::strerror(errno));
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    fail(path, what, why);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    fail(path, what, why);
  }
  // Make the rename itself durable; failing to is not worth failing the save for.
  const int folder = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
}

}  // namespace convlab
