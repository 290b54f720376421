// .npy reading and writing: round trips, the three header versions, and one exact message per kind of
// malformed file.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/io/npy.hpp"

namespace fs = std::filesystem;
using convlab::Index;
using convlab::NpyError;
using convlab::read_npy;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("convlab_test_npy_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path operator/(const std::string& name) const { return path / name; }
};

// A .npy file's bytes with the given version and header text (padding left to the caller).
std::string npy_bytes(int major, int minor, const std::string& header, const std::string& data) {
  std::string bytes = "\x93NUMPY";
  bytes.push_back(char(major));
  bytes.push_back(char(minor));
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < length_bytes; ++i) bytes.push_back(char((header.size() >> (8 * i)) & 0xff));
  return bytes + header + data;
}

std::string float_data(std::vector<float> values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

fs::path write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

const std::string kHeader23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";

}  // namespace

TEST_CASE("npy: float and double arrays survive a round trip", "[npy]") {
  TempDir dir;
  const std::vector<Index> shape = {2, 3, 4};
  std::vector<float> floats(24);
  std::vector<double> doubles(24);
  for (std::size_t i = 0; i < 24; ++i) {
    floats[i] = float(i) / 7.0f - 1.0f;
    doubles[i] = double(i) / 7.0 - 1.0;
  }
  convlab::write_npy<float>(dir / "f.npy", shape, floats);
  convlab::write_npy<double>(dir / "d.npy", shape, doubles);
  const convlab::NpyArray f = read_npy(dir / "f.npy");
  const convlab::NpyArray d = read_npy(dir / "d.npy");
  CHECK(f.dtype() == convlab::NpyDtype::Float32);
  CHECK(d.dtype() == convlab::NpyDtype::Float64);
  CHECK(f.shape == shape);
  CHECK(f.shape_text() == "(2, 3, 4)");
  CHECK(f.as<float>() == floats);
  CHECK(d.as<double>() == doubles);
  CHECK_THROWS_WITH(f.as<double>(), "array holds <f4 values, not <f8");
  // numpy aligns the data on 64 bytes and leaves no temporary file behind.
  CHECK(fs::file_size(dir / "f.npy") % 64 == 24 * 4 % 64);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);

  convlab::write_npy<double>(dir / "vector.npy", std::vector<Index>{5}, std::vector<double>(5, 1.5));
  CHECK(read_npy(dir / "vector.npy").shape_text() == "(5,)");
  convlab::write_npy<float>(dir / "empty.npy", std::vector<Index>{0, 3}, std::vector<float>{});
  CHECK(read_npy(dir / "empty.npy").element_count() == 0);
  convlab::write_npy<float>(dir / "scalar.npy", std::vector<Index>{}, std::vector<float>{4.0f});
  CHECK(read_npy(dir / "scalar.npy").as<float>() == std::vector<float>{4.0f});
}

TEST_CASE("npy: versions 1.0, 2.0 and 3.0 headers read alike, double quotes too", "[npy]") {
  TempDir dir;
  const std::string data = float_data({1, 2, 3, 4, 5, 6});
  for (int major : {1, 2, 3}) {
    const convlab::NpyArray array = read_npy(write_file(dir / "v.npy", npy_bytes(major, 0, kHeader23, data)));
    CHECK(array.shape == std::vector<Index>{2, 3});
    CHECK(array.as<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  }
  const auto quoted = "{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f4\"}";
  CHECK(read_npy(write_file(dir / "q.npy", npy_bytes(1, 0, quoted, data))).shape == std::vector<Index>{2, 3});
}

TEST_CASE("npy: malformed files are errors naming the file and the problem", "[npy]") {
  TempDir dir;
  const std::string data = float_data({1, 2, 3, 4, 5, 6});
  const auto file = [&](const std::string& name, const std::string& bytes) { return write_file(dir / name, bytes); };
  const auto message = [&](const std::string& name, const std::string& problem) {
    return (dir / name).string() + ": " + problem;
  };

  CHECK_THROWS_WITH(read_npy(dir / "missing.npy"), message("missing.npy", "cannot open for reading"));
  CHECK_THROWS_WITH(read_npy(dir.path), dir.path.string() + ": cannot open: it is a folder");
  CHECK_THROWS_WITH(read_npy(file("magic.npy", "\x93NUMPZ\x01\x00" + kHeader23)),
                    message("magic.npy", "not a .npy file (bad magic)"));
  CHECK_THROWS_WITH(read_npy(file("short.npy", "\x93NU")), message("short.npy", "not a .npy file (bad magic)"));
  CHECK_THROWS_WITH(read_npy(file("version.npy", npy_bytes(4, 0, kHeader23, data))),
                    message("version.npy", "unsupported .npy format version 4.0 (known: 1.0, 2.0, 3.0)"));
  CHECK_THROWS_WITH(read_npy(file("minor.npy", npy_bytes(1, 1, kHeader23, data))),
                    message("minor.npy", "unsupported .npy format version 1.1 (known: 1.0, 2.0, 3.0)"));
  CHECK_THROWS_WITH(read_npy(file("int.npy", npy_bytes(1, 0, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data))),
                    message("int.npy", "unsupported dtype '<i4' (convlab reads '<f4' and '<f8')"));
  CHECK_THROWS_WITH(read_npy(file("big.npy", npy_bytes(1, 0, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", data))),
                    message("big.npy", "unsupported dtype '>f4' (convlab reads '<f4' and '<f8')"));
  CHECK_THROWS_WITH(read_npy(file("fortran.npy", npy_bytes(1, 0, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", data))),
                    message("fortran.npy", "Fortran-order arrays are not supported (C order only)"));
  CHECK_THROWS_WITH(read_npy(file("garbage.npy", npy_bytes(1, 0, "{'descr' '<f4'}", data))),
                    message("garbage.npy", "unparsable .npy header: expected ':' at offset 9"));
  CHECK_THROWS_WITH(read_npy(file("nokey.npy", npy_bytes(1, 0, "{'descr': '<f4', 'fortran_order': False}", data))),
                    message("nokey.npy", "unparsable .npy header: key 'shape' is missing"));
  CHECK_THROWS_WITH(read_npy(file("extra.npy", npy_bytes(1, 0, "{'descr': '<f4', 'colour': 'blue'}", data))),
                    message("extra.npy", "unparsable .npy header: unexpected key 'colour'"));
  CHECK_THROWS_WITH(read_npy(file("negative.npy", npy_bytes(1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", data))),
                    message("negative.npy", "unparsable .npy header: expected a non-negative integer in the shape at offset 51"));
  CHECK_THROWS_WITH(read_npy(file("truncated.npy", npy_bytes(1, 0, kHeader23, data.substr(0, 20)))),
                    message("truncated.npy", "shape (2, 3) of '<f4' needs 24 bytes of data but the file has 20 (truncated?)"));
  CHECK_THROWS_WITH(read_npy(file("trailing.npy", npy_bytes(1, 0, kHeader23, data + "xyz!"))),
                    message("trailing.npy", "shape (2, 3) of '<f4' needs 24 bytes of data but the file has 28 (trailing bytes)"));
  // Sizes far beyond the file are refused before anything is allocated.
  CHECK_THROWS_WITH(read_npy(file("absurd.npy", npy_bytes(1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", data))),
                    message("absurd.npy", "shape (1000000000, 1000000000) of '<f8' needs 8000000000000000000 bytes of data but the file has 24 (truncated?)"));
  CHECK_THROWS_WITH(read_npy(file("overflow.npy", npy_bytes(1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data))),
                    message("overflow.npy", "shape (4294967296, 4294967296) of '<f8' needs more bytes of data but the file has 24 (truncated?)"));
  std::string huge_header_length = npy_bytes(2, 0, kHeader23, data);
  huge_header_length[10] = huge_header_length[11] = '\x7f';
  CHECK_THROWS_WITH(read_npy(file("header.npy", huge_header_length)), message("header.npy", "file ends inside the .npy header"));
}

TEST_CASE("npy: a failed write leaves no file behind", "[npy]") {
  TempDir dir;
  const fs::path target = dir / "no_such_dir" / "x.npy";
  CHECK_THROWS_AS(convlab::write_npy<float>(target, std::vector<Index>{1}, std::vector<float>{1.0f}), NpyError);
  CHECK_FALSE(fs::exists(dir / "no_such_dir"));
  CHECK_THROWS_WITH(convlab::write_npy<float>(dir / "wrong.npy", std::vector<Index>{2, 2}, std::vector<float>{1.0f}),
                    (dir / "wrong.npy").string() + ": shape (2, 2) holds 4 elements, given 1");
  CHECK_FALSE(fs::exists(dir / "wrong.npy"));
}
