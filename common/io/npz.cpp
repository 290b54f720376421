// The ZIP layout (PKWARE's APPNOTE, "stored" members only): per member a local header, its name and bytes;
// then one central-directory entry per member; then the end-of-central-directory record.
#include "common/io/npz.hpp"

#include <zlib.h>

#include <cstdint>
#include <limits>
#include <span>

#include "common/io/atomic_file.hpp"
#include "common/io/npy.hpp"

namespace convlab {
namespace {

void put16(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 2; ++i) out.push_back(char((value >> (8 * i)) & 0xff));
}
void put32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(char((value >> (8 * i)) & 0xff));
}

// A fixed timestamp (1980-01-01 00:00, DOS format) keeps archives of the same arrays byte-identical.
constexpr std::uint32_t kDosTime = 0, kDosDate = (0u << 9) | (1u << 5) | 1u;
constexpr std::uint32_t kVersion = 20;  // 2.0: what plain stored members need

// The fields a member's local header and its central-directory entry share, from "version needed" to the
// extra field's length.
void put_member_fields(std::string& out, std::uint32_t crc, std::uint32_t size, std::size_t name_length) {
  put16(out, kVersion);
  put16(out, 0);  // flags
  put16(out, 0);  // stored
  put16(out, kDosTime);
  put16(out, kDosDate);
  put32(out, crc);
  put32(out, size);  // compressed
  put32(out, size);
  put16(out, std::uint32_t(name_length));
  put16(out, 0);  // extra field
}

}  // namespace

void write_npz(const std::filesystem::path& path, const std::vector<NpzMember>& members) {
  const std::string file = path.string();
  constexpr std::uint64_t kLimit = std::numeric_limits<std::uint32_t>::max();
  std::string archive, directory;
  for (const NpzMember& member : members) {
    if (member.bytes.size() >= kLimit || member.name.empty() || member.name.size() > 0xffff)
      throw NpyError(file + ": member '" + member.name + "' cannot be stored (empty or long name, or 4 GiB or more)");
    const auto crc = std::uint32_t(crc32(0L, reinterpret_cast<const Bytef*>(member.bytes.data()),
                                         uInt(member.bytes.size())));
    const auto size = std::uint32_t(member.bytes.size());
    const auto offset = archive.size();
    if (offset >= kLimit) throw NpyError(file + ": the archive would reach 4 GiB");
    put32(archive, 0x04034b50);
    put_member_fields(archive, crc, size, member.name.size());
    archive += member.name;
    archive += member.bytes;

    put32(directory, 0x02014b50);
    put16(directory, kVersion);  // made by
    put_member_fields(directory, crc, size, member.name.size());
    put16(directory, 0);  // comment
    put16(directory, 0);  // disk
    put16(directory, 0);  // internal attributes
    put32(directory, 0);  // external attributes
    put32(directory, std::uint32_t(offset));
    directory += member.name;
  }
  if (members.size() > 0xffff || archive.size() + directory.size() >= kLimit)
    throw NpyError(file + ": too many members or bytes for a ZIP without ZIP64");
  const auto directory_offset = std::uint32_t(archive.size());
  archive += directory;
  put32(archive, 0x06054b50);
  put16(archive, 0);
  put16(archive, 0);
  put16(archive, std::uint32_t(members.size()));
  put16(archive, std::uint32_t(members.size()));
  put32(archive, std::uint32_t(directory.size()));
  put32(archive, directory_offset);
  put16(archive, 0);  // comment
  try {
    write_file_atomically(path, std::as_bytes(std::span<const char>(archive)), "archive");
  } catch (const OutputFileError& error) {
    throw NpyError(error.what());
  }
}

}  // namespace convlab
