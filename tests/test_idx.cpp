// The IDX reader: good raw and gzip files, and one exact error message per way a file can be wrong.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/data/idx.hpp"

namespace {

using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

// A fresh folder under the system temporary directory, removed with its files at the end of the test.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    path_ = fs::temp_directory_path() / ("convlab_test_idx_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;

  fs::path write(const std::string& name, const Bytes& bytes) const {
    const fs::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    REQUIRE(out.good());
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// An IDX header for unsigned bytes with the given dimensions.
Bytes idx_header(const std::vector<std::uint32_t>& dims, std::uint8_t type = 0x08) {
  Bytes bytes = {0, 0, type, std::uint8_t(dims.size())};
  for (std::uint32_t extent : dims) {
    bytes.push_back(std::uint8_t(extent >> 24));
    bytes.push_back(std::uint8_t(extent >> 16));
    bytes.push_back(std::uint8_t(extent >> 8));
    bytes.push_back(std::uint8_t(extent));
  }
  return bytes;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes gzip(const Bytes& raw) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&stream, uLong(raw.size())) + 32);
  stream.next_in = const_cast<Bytes::value_type*>(raw.data());
  stream.avail_in = uInt(raw.size());
  stream.next_out = out.data();
  stream.avail_out = uInt(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

const Bytes k2x3 = concat(idx_header({2, 3}), {1, 2, 3, 4, 5, 6});

}  // namespace

TEST_CASE("a raw 2x3 IDX file reads back its dimensions and bytes", "[idx]") {
  TemporaryFolder folder;
  const auto array = convlab::read_idx_file(folder.write("a.idx", k2x3));
  CHECK(array.dims == std::vector<std::size_t>{2, 3});
  CHECK(array.declared_dims == std::vector<std::size_t>{2, 3});
  CHECK(array.values == Bytes{1, 2, 3, 4, 5, 6});
}

TEST_CASE("a gzip IDX file is recognised by its magic, whatever its name", "[idx]") {
  TemporaryFolder folder;
  const auto array = convlab::read_idx_file(folder.write("no-extension", gzip(k2x3)));
  CHECK(array.dims == std::vector<std::size_t>{2, 3});
  CHECK(array.values == Bytes{1, 2, 3, 4, 5, 6});
  // Two concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
  const Bytes header = idx_header({2, 3});
  const Bytes split = concat(gzip(concat(header, {1, 2})), gzip({3, 4, 5, 6}));
  CHECK(convlab::read_idx_from_memory(split, "two-members").values == Bytes{1, 2, 3, 4, 5, 6});
}

TEST_CASE("first_items reads only the leading entries but checks raw files whole", "[idx]") {
  convlab::IdxReadOptions first;
  first.first_items = 1;
  for (const Bytes& input : {k2x3, gzip(k2x3)}) {
    const auto array = convlab::read_idx_from_memory(input, "mem", first);
    CHECK(array.dims == std::vector<std::size_t>{1, 3});
    CHECK(array.declared_dims == std::vector<std::size_t>{2, 3});
    CHECK(array.values == Bytes{1, 2, 3});
  }
  first.first_items = 5;  // more than there are: everything
  CHECK(convlab::read_idx_from_memory(k2x3, "mem", first).dims == std::vector<std::size_t>{2, 3});
  first.first_items = 1;
  CHECK_THROWS_WITH(convlab::read_idx_from_memory(concat(k2x3, {7}), "mem", first),
                    "mem: trailing data: 1 bytes after the declared 2 x 3 array");
  // The items asked for are all there, the declared array is not: refused from the data's size before anything is
  // allocated (the check that keeps a huge declared array from being allocated at all; without it this read
  // would succeed).
  CHECK_THROWS_WITH(convlab::read_idx_from_memory(Bytes(k2x3.begin(), k2x3.end() - 1), "mem", first),
                    "mem: truncated data: expected 6 bytes of data after the header, found 5");
}

TEST_CASE("IDX errors name the file and say what is wrong", "[idx]") {
  TemporaryFolder folder;
  const auto message_for = [&](const std::string& name, const Bytes& bytes) -> std::string {
    const fs::path file = folder.write(name, bytes);
    try {
      convlab::read_idx_file(file);
    } catch (const convlab::IdxError& error) {
      return error.what();
    }
    return "no error";
  };
  const std::string dir = folder.path().string() + "/";

  SECTION("missing file") {
    const std::string missing = dir + "missing.idx";
    CHECK_THROWS_WITH(convlab::read_idx_file(missing), missing + ": cannot open: No such file or directory");
  }
  SECTION("a folder or a device, not a file") {
    CHECK_THROWS_WITH(convlab::read_idx_file(folder.path()), folder.path().string() + ": cannot open: it is a folder");
    CHECK_THROWS_WITH(convlab::read_idx_file("/dev/zero"), "/dev/zero: cannot open: not a regular file");
  }
  SECTION("empty file") {
    CHECK(message_for("empty", {}) == dir + "empty: empty file: expected an IDX header");
  }
  SECTION("truncated header") {
    CHECK(message_for("short", {0, 0, 8}) == dir + "short: truncated header: expected at least 4 bytes, found 3");
    CHECK(message_for("dims", {0, 0, 8, 3, 0, 0, 0, 2, 0, 0}) ==
          dir + "dims: truncated header: expected 16 bytes for 3 dimensions, found 10");
  }
  SECTION("truncated data") {
    CHECK(message_for("data", concat(idx_header({60000, 28, 28}), Bytes(1000, 7))) ==
          dir + "data: truncated data: expected 47040000 bytes of data after the header, found 1000");
    CHECK(message_for("data.gz", gzip(concat(idx_header({2, 3}), {1, 2, 3, 4}))) ==
          dir + "data.gz: truncated data: expected 6 bytes of data after the header, found 4");
  }
  SECTION("wrong magic") {
    CHECK(message_for("zip", {'P', 'K', 3, 4, 0, 0}) ==
          dir + "zip: not an IDX file: it starts with bytes 0x50 0x4b, expected 0x00 0x00");
  }
  SECTION("wrong element type") {
    CHECK(message_for("float", concat(idx_header({1}, 0x0D), {0, 0, 0, 0})) ==
          dir + "float: unsupported element type 0x0d (float32): only 0x08 (unsigned byte) is supported");
    CHECK(message_for("bogus", concat(idx_header({1}, 0x42), {0})) ==
          dir + "bogus: unsupported element type 0x42 (not an IDX type): only 0x08 (unsigned byte) is supported");
  }
  SECTION("dimensions whose product overflows") {
    CHECK(message_for("overflow", idx_header({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF})) ==
          dir + "overflow: dimensions 4294967295 x 4294967295 x 4294967295 overflow: their product does not fit "
                "in 64 bits");
  }
  SECTION("dimensions larger than the file") {
    // A billion bytes declared in a 20-byte file: rejected from the file size, before any allocation.
    CHECK(message_for("huge", concat(idx_header({1000, 1000, 1000}), {1, 2, 3, 4})) ==
          dir + "huge: truncated data: expected 1000000000 bytes of data after the header, found 4");
    CHECK(message_for("limit", idx_header({65536, 65536})) ==
          dir + "limit: dimensions 65536 x 65536 declare 4294967296 bytes of data, more than the limit of "
                "1073741824 bytes");
    // Gzip input of unknown length grows its buffer only as data arrives.
    CHECK(message_for("huge.gz", gzip(concat(idx_header({1000, 1000, 1000}), {1, 2, 3, 4}))) ==
          dir + "huge.gz: truncated data: expected 1000000000 bytes of data after the header, found 4");
  }
  SECTION("corrupt gzip stream") {
    Bytes damaged = gzip(k2x3);
    damaged[3] = 0xFF;  // reserved flag bits set
    CHECK(message_for("flags.gz", damaged) == dir + "flags.gz: corrupt gzip stream: unknown header flags set");
    Bytes cut = gzip(k2x3);
    cut.resize(cut.size() - 6);  // loses the end of the stream
    CHECK(message_for("cut.gz", cut) ==
          dir + "cut.gz: corrupt gzip stream: the compressed data ends before the end of the gzip stream");
    Bytes checksum = gzip(k2x3);
    checksum[checksum.size() - 8] ^= 0x01;  // CRC-32 of the content
    CHECK(message_for("crc.gz", checksum) == dir + "crc.gz: corrupt gzip stream: incorrect data check");
    CHECK(message_for("junk.gz", concat(gzip(k2x3), {'x'})) ==
          dir + "junk.gz: corrupt gzip stream: unexpected bytes after the end of the compressed data");
  }
  SECTION("trailing data after the declared array") {
    CHECK(message_for("tail", concat(k2x3, {7, 8})) == dir + "tail: trailing data: 2 bytes after the declared 2 x 3 array");
    CHECK(message_for("tail.gz", gzip(concat(k2x3, {7, 8, 9}))) ==
          dir + "tail.gz: trailing data: 3 bytes after the declared 2 x 3 array");
  }
}

TEST_CASE("read_idx_from_memory follows the same rules and names the buffer", "[idx]") {
  CHECK(convlab::read_idx_from_memory(k2x3, "buffer").values == Bytes{1, 2, 3, 4, 5, 6});
  CHECK_THROWS_WITH(convlab::read_idx_from_memory(Bytes{}, "buffer"), "buffer: empty file: expected an IDX header");
  CHECK_THROWS_WITH(convlab::read_idx_from_memory(Bytes{0x1f, 0x8b}, "buffer"),
                    "buffer: corrupt gzip stream: the compressed data ends before the end of the gzip stream");
  // Zero-sized and rank-0 arrays are legal IDX.
  CHECK(convlab::read_idx_from_memory(idx_header({0, 28, 28}), "none").values.empty());
  CHECK(convlab::read_idx_from_memory(concat(idx_header({}), {42}), "scalar").values == Bytes{42});
}
