// Model files: bit-exact round trips, atomic replacement, and a clear error for each kind of damage.
#include <sys/resource.h>
#include <zlib.h>

#include <csignal>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/nn/model_file.hpp"

namespace fs = std::filesystem;
using convlab::Architecture;
using convlab::ModelFileError;
using convlab::SavedModel;

namespace {

// A fresh folder under the system temp dir, removed at the end of the test.
struct TemporaryFolder {
  fs::path path;
  TemporaryFolder() {
    std::random_device device;
    path = fs::temp_directory_path() / ("convlab-model-test-" + std::to_string(device()));
    fs::create_directories(path);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

SavedModel small_model(convlab::Precision precision) {
  SavedModel model;
  model.architecture = Architecture::parse("conv3:3x3:s2:p1,dense4", 1, 8, 8, 3);
  model.precision = precision;
  model.scaling = {convlab::Scaling::standardize, 33.3184, 78.5675};
  std::mt19937_64 generator(5);
  model.parameters.resize(std::size_t(model.architecture.parameter_count()));
  for (double& value : model.parameters) {
    value = double(std::int64_t(generator() >> 11) - (std::int64_t(1) << 52)) * 0x1p-60;
    if (precision == convlab::Precision::Float) value = double(float(value));
  }
  return model;
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void put_le(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) bytes.at(at + i) = std::uint8_t(value >> (8 * i));
}

// Recomputes the trailing crc32, as a forger would, to reach the checks behind it.
void fix_checksum(std::vector<std::uint8_t>& bytes) {
  const auto crc = crc32(crc32(0L, Z_NULL, 0), bytes.data(), uInt(bytes.size() - 4));
  put_le(bytes, bytes.size() - 4, crc, 4);
}

}  // namespace

TEST_CASE("model files round-trip bit for bit in both precisions", "[model_file]") {
  TemporaryFolder folder;
  for (auto precision : {convlab::Precision::Double, convlab::Precision::Float}) {
    const SavedModel model = small_model(precision);
    const fs::path path = folder.path / "model.bin";
    convlab::save_model(path, model);
    const SavedModel loaded = convlab::load_model(path, model.architecture);
    CHECK(loaded.architecture == model.architecture);
    CHECK(loaded.precision == precision);
    CHECK(loaded.scaling.kind == convlab::Scaling::standardize);
    CHECK(loaded.scaling.mean == model.scaling.mean);
    CHECK(loaded.scaling.stddev == model.scaling.stddev);
    CHECK(loaded.parameters == model.parameters);  // exact
    const std::size_t element = precision == convlab::Precision::Float ? 4 : 8;
    CHECK(fs::file_size(path) == 70 + model.architecture.layers_text().size() + element * model.parameters.size() + 4);
  }
}

TEST_CASE("saving replaces the previous model atomically and leaves no temporary files", "[model_file]") {
  TemporaryFolder folder;
  const fs::path path = folder.path / "model.bin";
  SavedModel first = small_model(convlab::Precision::Double);
  convlab::save_model(path, first);
  SavedModel second = first;
  second.parameters[0] = 123.0;
  second.scaling = {};
  convlab::save_model(path, second);
  const SavedModel loaded = convlab::load_model(path);
  CHECK(loaded.parameters[0] == 123.0);
  CHECK(loaded.scaling.kind == convlab::Scaling::lecture);
  CHECK(loaded.scaling.stddev == 256.0);
  CHECK(std::distance(fs::directory_iterator(folder.path), fs::directory_iterator()) == 1);

  // A failed save (parameters that do not fit the architecture) leaves the old file as it was.
  SavedModel broken = first;
  broken.parameters.pop_back();
  CHECK_THROWS_AS(convlab::save_model(path, broken), ModelFileError);
  CHECK(convlab::load_model(path).parameters[0] == 123.0);
  CHECK(std::distance(fs::directory_iterator(folder.path), fs::directory_iterator()) == 1);
}

// A disk that fills up mid-save, simulated with the file-size limit (RLIMIT_FSIZE binds root too, unlike
// permissions): write() stores the first `bytes` bytes of the temporary file, then fails with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG, not the signal that would kill the process
    rlimit limited = saved_;
    limited.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = SIG_DFL;
};

TEST_CASE("a save interrupted by a full disk leaves the previous model intact and no temporary file", "[model_file]") {
  TemporaryFolder folder;
  const fs::path path = folder.path / "model.bin";
  const SavedModel previous = small_model(convlab::Precision::Float);
  convlab::save_model(path, previous);
  const std::vector<std::uint8_t> previous_bytes = read_bytes(path);
  SavedModel next = small_model(convlab::Precision::Double);  // larger, and different
  next.parameters[0] = 42.0;

  std::string message = "no error";
  {
    const FileSizeLimit limit(100);  // the new file would be well over 100 bytes
    try {
      convlab::save_model(path, next);
    } catch (const ModelFileError& error) {
      message = error.what();
    }
  }
  CHECK(message == "cannot save model to '" + path.string() + "': File too large");
  CHECK(read_bytes(path) == previous_bytes);
  CHECK(convlab::load_model(path).parameters == previous.parameters);
  CHECK(std::distance(fs::directory_iterator(folder.path), fs::directory_iterator()) == 1);  // no temporary left

  convlab::save_model(path, next);  // with room again, the same save succeeds
  CHECK(convlab::load_model(path).parameters == next.parameters);
}

TEST_CASE("a model path is checked for writability before training", "[model_file]") {
  TemporaryFolder folder;
  CHECK_NOTHROW(convlab::check_model_path_writable(folder.path / "model.bin"));
  const fs::path missing = folder.path / "no-such-folder" / "model.bin";
  CHECK_THROWS_WITH(convlab::check_model_path_writable(missing),
                    "cannot save model to '" + missing.string() + "': folder '" + missing.parent_path().string() +
                        "' does not exist");
  CHECK_THROWS_WITH(convlab::check_model_path_writable(folder.path),
                    "cannot save model to '" + folder.path.string() + "': it is a folder");
  CHECK_THROWS_AS(convlab::save_model(missing, small_model(convlab::Precision::Float)), ModelFileError);
}

TEST_CASE("damaged or foreign model files are clear errors naming the file", "[model_file]") {
  TemporaryFolder folder;
  const fs::path path = folder.path / "model.bin";
  const std::string name = path.string();
  const SavedModel model = small_model(convlab::Precision::Double);
  convlab::save_model(path, model);
  const std::vector<std::uint8_t> good = read_bytes(path);
  const std::size_t text_length = model.architecture.layers_text().size();
  const std::size_t count_at = 62 + text_length;

  SECTION("foreign file") {
    write_bytes(path, {'P', 'K', 3, 4, 'n', 'o', 't', ' ', 'a', ' ', 'm', 'o', 'd', 'e', 'l', '!', '!', '!', '!', '!'});
    CHECK_THROWS_WITH(convlab::load_model(path), name + ": not a convlab model (bad magic)");
    write_bytes(path, {});
    CHECK_THROWS_WITH(convlab::load_model(path), name + ": not a convlab model (bad magic)");
  }
  SECTION("a folder or a device, not a file") {
    CHECK_THROWS_WITH(convlab::load_model(folder.path), folder.path.string() + ": cannot open: it is a folder");
    CHECK_THROWS_WITH(convlab::load_model("/dev/zero"), "/dev/zero: cannot open: not a regular file");
  }
  SECTION("missing file") {
    CHECK_THROWS_WITH(convlab::load_model(folder.path / "absent.bin"),
                      (folder.path / "absent.bin").string() + ": cannot open: No such file or directory");
  }
  SECTION("truncated") {
    std::vector<std::uint8_t> bytes = good;
    bytes.resize(bytes.size() - 10);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path), name + ": truncated: the header says " + std::to_string(good.size()) +
                                                     " bytes, the file has " + std::to_string(bytes.size()));
    bytes.resize(20);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path), name + ": truncated: 20 bytes is shorter than the header");
  }
  SECTION("bit flip") {
    for (std::size_t at : {std::size_t(30), count_at + 8 + 17, good.size() - 2}) {
      std::vector<std::uint8_t> bytes = good;
      bytes[at] ^= 0x10;
      write_bytes(path, bytes);
      CHECK_THROWS_WITH(convlab::load_model(path), name + ": checksum mismatch: the file is damaged");
    }
  }
  SECTION("newer format version") {
    std::vector<std::uint8_t> bytes = good;
    put_le(bytes, 12, 2, 4);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path), name + ": format version 2 is newer than this convlab supports (1)");
  }
  SECTION("architecture differs from the expected one") {
    const Architecture expected = Architecture::parse("conv3:3x3:s2:p1,dense5", 1, 8, 8, 3);
    CHECK_THROWS_WITH(convlab::load_model(path, expected),
                      name + ": architecture 1x8x8 conv3:3x3:s2:p1,dense4 -> 3 differs from the expected "
                             "1x8x8 conv3:3x3:s2:p1,dense5 -> 3");
  }
  SECTION("absurd parameter count, even with a valid checksum") {
    std::vector<std::uint8_t> bytes = good;
    put_le(bytes, count_at, std::uint64_t(1) << 60, 8);
    fix_checksum(bytes);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path),
                      name + ": corrupt: declares 1152921504606846976 parameters of 8 bytes but only " +
                          std::to_string(model.parameters.size() * 8) + " bytes follow");
  }
  SECTION("absurd architecture text length") {
    std::vector<std::uint8_t> bytes = good;
    put_le(bytes, 40, 0xffffffffu, 4);
    fix_checksum(bytes);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path),
                      name + ": corrupt: the architecture text needs 4294967295 bytes, only " +
                          std::to_string(good.size() - 4 - 44) + " remain");
  }
  SECTION("parameter count that does not fit the architecture") {
    std::vector<std::uint8_t> bytes = good;
    bytes.erase(bytes.end() - 4 - 8, bytes.end() - 4);  // drop the last parameter
    put_le(bytes, count_at, model.parameters.size() - 1, 8);
    put_le(bytes, 16, bytes.size(), 8);
    fix_checksum(bytes);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path),
                      name + ": corrupt: holds " + std::to_string(model.parameters.size() - 1) +
                          " parameters, its architecture 1x8x8 conv3:3x3:s2:p1,dense4 -> 3 needs " +
                          std::to_string(model.parameters.size()));
  }
  SECTION("input extents whose products overflow (found by tests/fuzz/fuzz_model)") {
    // Each extent is within the 2^24 limit, their product is 2^66: sizes computed from it overflowed Index.
    std::vector<std::uint8_t> bytes = good;
    for (std::size_t at : {24, 28, 32}) put_le(bytes, at, std::uint32_t(1) << 22, 4);  // channels, height, width
    fix_checksum(bytes);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path),
                      name + ": corrupt architecture: input 4194304x4194304x4194304 is too large: more than "
                             "2147483648 values per example");
    // The fuzzer's own input, kept as a seed: 4063232 channels of 4096000 x 4112384 before a dense layer.
    // Its checksum is stale; the fuzz target recomputes it (as a forger would) before the second load.
    std::vector<std::uint8_t> found = read_bytes(fs::path(CONVLAB_SOURCE_DIR) /
                                                 "tests/fuzz/corpus/model/regression_overflowing_input_dims.bin");
    REQUIRE(found.size() == 184);
    fix_checksum(found);
    CHECK_THROWS_WITH(convlab::load_model_from_memory(found, "found"),
                      "found: corrupt architecture: input 4063232x4096000x4112384 is too large: more than "
                      "2147483648 values per example");
  }
  SECTION("an invalid architecture") {
    std::vector<std::uint8_t> bytes = good;
    REQUIRE(bytes[44 + 11] == '2');
    bytes[44 + 11] = '0';  // conv3:3x3:s2:p1 -> stride 0
    fix_checksum(bytes);
    write_bytes(path, bytes);
    CHECK_THROWS_WITH(convlab::load_model(path),
                      name + ": corrupt architecture: layer 1 (conv3:3x3:s0:p1): stride must be at least 1, got 0");
  }
}

TEST_CASE("load_model_from_memory (the fuzz target's entry point) reads what the saver wrote", "[model_file]") {
  TemporaryFolder folder;
  const fs::path path = folder.path / "model.bin";
  const SavedModel model = small_model(convlab::Precision::Float);
  convlab::save_model(path, model);
  std::vector<std::uint8_t> bytes = read_bytes(path);
  CHECK(convlab::load_model_from_memory(bytes, "buffer").parameters == model.parameters);
  bytes.pop_back();
  CHECK_THROWS_WITH(convlab::load_model_from_memory(bytes, "buffer"),
                    "buffer: truncated: the header says " + std::to_string(bytes.size() + 1) + " bytes, the file has " +
                        std::to_string(bytes.size()));
}
