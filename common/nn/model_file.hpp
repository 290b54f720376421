// Saving and loading a trained classifier.
//
// Binary format, version 1, every integer little-endian:
//   magic        12 bytes "CONVLABMODEL"
//   version      u32 (1)
//   file size    u64, the whole file including the checksum (tells truncation from damage)
//   input        u32 channels, u32 height, u32 width, u32 classes
//   layers       u32 length, then the architecture's text form ("conv20:5x5:s1,dense50")
//   precision    u8: 4 (float) or 8 (double), the size of each parameter
//   scaling      u8 kind (0 lecture, 1 standardize), f64 mean, f64 stddev (byte units)
//   parameters   u64 count, then count IEEE values of the precision's size, in Network's flat layout
//   crc32        u32, zlib crc32 of every byte before it
// Saving is atomic: a temporary file in the same folder is written, flushed, fsync'ed and renamed over
// the target, so an interrupted save leaves the previous model intact.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <stdexcept>
#include <vector>

#include "common/nn/architecture.hpp"
#include "common/data/datasets.hpp"

namespace convlab {

class ModelFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t kModelFormatVersion = 1;

enum class Precision { Float, Double };

struct SavedModel {
  Architecture architecture;
  Precision precision = Precision::Double;
  PixelScaling scaling;
  // The parameters widened to double (exact for float models: saving narrows them back bit for bit).
  std::vector<double> parameters;
};

// Throws ModelFileError ("cannot write model '<path>': ...") and leaves any existing file untouched.
void save_model(const std::filesystem::path& path, const SavedModel& model);

// Every error is a ModelFileError whose message starts with the path, e.g.
//   "<path>: not a convlab model (bad magic)"
//   "<path>: truncated: the header says 2307044 bytes, the file has 1000"
//   "<path>: checksum mismatch: the file is damaged"
//   "<path>: format version 2 is newer than this convlab supports (1)"
//   "<path>: architecture 1x28x28 conv20:5x5:s1,dense50 -> 10 differs from the expected ..."
// Nothing larger than the file itself is ever allocated.
SavedModel load_model(const std::filesystem::path& path, const std::optional<Architecture>& expected = std::nullopt);

// The same checks on a model already in memory (the fuzz target's entry point); `name` stands for the path
// in messages.
SavedModel load_model_from_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                                  const std::optional<Architecture>& expected = std::nullopt);

// Checks, before any training, that a model could be saved at `path`: its folder exists and is writable
// and `path` is not a folder. Throws ModelFileError otherwise.
void check_model_path_writable(const std::filesystem::path& path);

// "1x28x28 conv20:5x5:s1,dense50 -> 10"
std::string architecture_signature(const Architecture& architecture);

// Where each layer's arrays lie in SavedModel::parameters (Network's flat layout), in layer order: conv
// weights shaped (units, in channels, window rows, window columns), dense weights (inputs, units), then the
// bias (units). What load_model() gives Python and `convlab export` writes.
struct LayerArrays {
  bool is_conv = false;
  std::vector<Index> weight_shape;
  Index weight_offset = 0, weight_count = 0, bias_offset = 0, bias_count = 0;
};
std::vector<LayerArrays> layer_arrays(const Architecture& architecture);

}  // namespace convlab
