// IDX reading: a byte source (memory, file, or gzip over either) feeds one parser that checks every
// header field against the data present before allocating.
#include "common/data/idx.hpp"

#include "common/io/input_file.hpp"
#include "common/tensor/aligned_buffer.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>

namespace convlab {

namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;

[[noreturn]] void fail(const std::string& name, const std::string& problem) { throw IdxError(name + ": " + problem); }

// A stream of bytes. read() returns fewer than `count` bytes only at the end of the data.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual std::size_t read(std::uint8_t* out, std::size_t count) = 0;
  // Bytes still to come, when known without reading them (raw input): lets the parser reject a header
  // that declares more data than exists without allocating for it.
  virtual std::optional<std::uint64_t> remaining() const { return std::nullopt; }
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  std::size_t read(std::uint8_t* out, std::size_t count) override {
    const std::size_t n = std::min(count, bytes_.size() - position_);
    if (n > 0) std::memcpy(out, bytes_.data() + position_, n);
    position_ += n;
    return n;
  }
  std::optional<std::uint64_t> remaining() const override { return bytes_.size() - position_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t position_ = 0;
};

class FileSource final : public ByteSource {
 public:
  FileSource(const std::filesystem::path& path, const std::string& name) : name_(name) {
    if (const std::string problem = not_a_regular_file(path); !problem.empty()) fail(name_, problem);
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) fail(name_, std::string("cannot open: ") + std::strerror(errno));
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    if (error) {
      std::fclose(file_);
      fail(name_, "cannot read its size: " + error.message());
    }
    size_ = size;
  }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource() override { std::fclose(file_); }

  std::size_t read(std::uint8_t* out, std::size_t count) override {
    const std::size_t n = std::fread(out, 1, count, file_);
    if (n < count && std::ferror(file_)) fail(name_, std::string("read error: ") + std::strerror(errno));
    position_ += n;
    return n;
  }
  std::optional<std::uint64_t> remaining() const override { return size_ > position_ ? size_ - position_ : 0; }
  std::uint64_t size() const { return size_; }

  // Looks at the first two bytes (for the gzip magic) and rewinds.
  bool starts_with_gzip_magic() {
    std::uint8_t magic[2] = {0, 0};
    const std::size_t n = read(magic, 2);
    if (std::fseek(file_, 0, SEEK_SET) != 0) fail(name_, std::string("cannot rewind: ") + std::strerror(errno));
    position_ = 0;
    return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  }

 private:
  std::string name_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
};

// Decompresses a gzip stream (several concatenated members allowed, as gzip(1) writes them).
class GzipSource final : public ByteSource {
 public:
  GzipSource(ByteSource& compressed, const std::string& name) : compressed_(compressed), name_(name) {
    if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) fail(name_, "cannot initialise zlib");
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  ~GzipSource() override { inflateEnd(&stream_); }

  std::size_t read(std::uint8_t* out, std::size_t count) override {
    std::size_t produced = 0;
    while (produced < count && !ended_) {
      const std::size_t chunk = std::min<std::size_t>(count - produced, std::numeric_limits<uInt>::max());
      stream_.next_out = out + produced;
      stream_.avail_out = uInt(chunk);
      if (stream_.avail_in == 0) refill();
      if (stream_.avail_in == 0) corrupt("the compressed data ends before the end of the gzip stream");
      const int status = inflate(&stream_, Z_NO_FLUSH);
      produced += chunk - stream_.avail_out;
      if (status == Z_STREAM_END) {
        next_member_or_end();
      } else if (status != Z_OK && status != Z_BUF_ERROR) {
        corrupt(stream_.msg ? stream_.msg : zError(status));
      }
    }
    return produced;
  }

 private:
  [[noreturn]] void corrupt(const std::string& why) const { fail(name_, "corrupt gzip stream: " + why); }

  void refill() {
    if (input_ended_) return;
    const std::size_t n = compressed_.read(input_.data(), input_.size());
    if (n == 0) input_ended_ = true;
    stream_.next_in = input_.data();
    stream_.avail_in = uInt(n);
  }

  void next_member_or_end() {
    if (stream_.avail_in == 0) refill();
    if (stream_.avail_in == 0) {
      ended_ = true;
    } else if (stream_.next_in[0] == 0x1f) {
      inflateReset(&stream_);
    } else {
      corrupt("unexpected bytes after the end of the compressed data");
    }
  }

  ByteSource& compressed_;
  std::string name_;
  z_stream stream_{};
  std::vector<std::uint8_t> input_ = std::vector<std::uint8_t>(std::size_t(1) << 16);
  bool input_ended_ = false;
  bool ended_ = false;
};

std::string hex_byte(std::uint8_t value) {
  char text[5];
  std::snprintf(text, sizeof text, "0x%02x", unsigned(value));
  return text;
}

std::string element_type_name(std::uint8_t type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
  }
}

std::string join_dims(const std::vector<std::size_t>& dims) {
  if (dims.empty()) return "(rank 0)";
  std::ostringstream text;
  for (std::size_t axis = 0; axis < dims.size(); ++axis) text << (axis ? " x " : "") << dims[axis];
  return text.str();
}

// Reads until `count` bytes or the end; returns how many arrived.
std::size_t read_fully(ByteSource& source, std::uint8_t* out, std::size_t count) {
  std::size_t got = 0;
  while (got < count) {
    const std::size_t n = source.read(out + got, count - got);
    if (n == 0) break;
    got += n;
  }
  return got;
}

// Reads `count` bytes from a source of unknown length, growing the buffer only as data arrives so a
// header that lies about its size cannot make us allocate for data that is not there.
std::vector<std::uint8_t> read_growing(ByteSource& source, std::size_t count, std::size_t& got) {
  std::vector<std::uint8_t> values;
  got = 0;
  while (got < count) {
    const std::size_t target = std::min(count, std::max<std::size_t>(2 * values.size(), std::size_t(1) << 20));
    values.resize(target);
    const std::size_t n = read_fully(source, values.data() + got, target - got);
    got += n;
    if (got < target) break;
  }
  values.resize(got);
  return values;
}

// Counts what follows the declared array (up to `limit`, so a decompression bomb stays bounded).
std::uint64_t count_trailing(ByteSource& source, std::uint64_t limit) {
  std::uint8_t sink[4096];
  std::uint64_t total = 0;
  while (total <= limit) {
    const std::size_t n = source.read(sink, sizeof sink);
    if (n == 0) break;
    total += n;
  }
  return total;
}

IdxArray parse_idx(ByteSource& source, const std::string& name, const IdxReadOptions& options) {
  std::uint8_t prefix[4];
  const std::size_t got_prefix = read_fully(source, prefix, 4);
  if (got_prefix == 0) fail(name, "empty file: expected an IDX header");
  if (got_prefix >= 2 && (prefix[0] != 0 || prefix[1] != 0)) {
    fail(name, "not an IDX file: it starts with bytes " + hex_byte(prefix[0]) + " " + hex_byte(prefix[1]) +
                   ", expected 0x00 0x00");
  }
  if (got_prefix < 4) {
    fail(name, "truncated header: expected at least 4 bytes, found " + std::to_string(got_prefix));
  }
  const std::uint8_t type = prefix[2];
  if (type != kUnsignedByteType) {
    fail(name, "unsupported element type " + hex_byte(type) + " (" + element_type_name(type) +
                   "): only 0x08 (unsigned byte) is supported");
  }
  const std::size_t rank = prefix[3];
  std::vector<std::uint8_t> dim_bytes(4 * rank);
  const std::size_t got_dims = read_fully(source, dim_bytes.data(), dim_bytes.size());
  if (got_dims < dim_bytes.size()) {
    fail(name, "truncated header: expected " + std::to_string(4 + dim_bytes.size()) + " bytes for " +
                   std::to_string(rank) + " dimensions, found " + std::to_string(4 + got_dims));
  }

  IdxArray array;
  array.dims.resize(rank);
  bool any_zero = false;
  for (std::size_t axis = 0; axis < rank; ++axis) {
    const std::uint8_t* b = &dim_bytes[4 * axis];
    array.dims[axis] = (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | b[3];
    any_zero = any_zero || array.dims[axis] == 0;
  }
  std::uint64_t declared = 1;
  if (any_zero) {
    declared = 0;
  } else {
    for (std::size_t extent : array.dims) {
      if (__builtin_mul_overflow(declared, std::uint64_t(extent), &declared)) {
        fail(name, "dimensions " + join_dims(array.dims) + " overflow: their product does not fit in 64 bits");
      }
    }
  }
  if (declared > options.max_bytes) {
    fail(name, "dimensions " + join_dims(array.dims) + " declare " + std::to_string(declared) +
                   " bytes of data, more than the limit of " + std::to_string(options.max_bytes) + " bytes");
  }
  const auto truncated = [&](std::uint64_t found) {
    fail(name, "truncated data: expected " + std::to_string(declared) + " bytes of data after the header, found " +
                   std::to_string(found));
  };
  const auto trailing = [&](std::uint64_t extra, bool at_least) {
    fail(name, "trailing data: " + std::string(at_least ? "more than " : "") + std::to_string(extra) +
                   " bytes after the declared " + join_dims(array.declared_dims) + " array");
  };

  array.declared_dims = array.dims;
  std::size_t wanted = std::size_t(declared);
  if (options.first_items && rank > 0 && *options.first_items < array.dims[0]) {
    wanted = array.dims[0] == 0 ? 0 : *options.first_items * (wanted / array.dims[0]);
    array.dims[0] = *options.first_items;
  }

  if (const auto remaining = source.remaining()) {
    // Raw input: the whole array's presence is checked up front, whatever part of it is read.
    if (*remaining < declared) truncated(*remaining);
    if (*remaining > declared) trailing(*remaining - declared, false);
    reserve_on_huge_pages(array.values, wanted);
    array.values.resize(wanted);
    const std::size_t got = read_fully(source, array.values.data(), wanted);
    if (got < wanted) truncated(got);  // the file shrank while we read it
    return array;
  }

  std::size_t got = 0;
  array.values = read_growing(source, wanted, got);
  if (got < wanted) truncated(got);
  if (wanted == declared) {
    const std::uint64_t extra = count_trailing(source, options.max_bytes);
    if (extra > options.max_bytes) trailing(options.max_bytes, true);
    if (extra > 0) trailing(extra, false);
  }
  return array;
}

}  // namespace

IdxArray read_idx_from_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                              const IdxReadOptions& options) {
  MemorySource raw(bytes);
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    GzipSource decompressed(raw, name);
    return parse_idx(decompressed, name, options);
  }
  return parse_idx(raw, name, options);
}

IdxArray read_idx_file(const std::filesystem::path& path, const IdxReadOptions& options) {
  const std::string name = path.string();
  FileSource raw(path, name);
  if (raw.starts_with_gzip_magic()) {
    GzipSource decompressed(raw, name);
    return parse_idx(decompressed, name, options);
  }
  return parse_idx(raw, name, options);
}

}  // namespace convlab
