// The digit datasets ("mnist", "fashion-mnist"): where they live, loading a split, and turning pixel bytes
// into network inputs.
//
// Pixels and labels are kept as bytes (a 60000-image split is 47 MB, not 188 MB of float); inputs are
// made on demand with a PixelScaling, either the lecture's byte/256 or standardisation by the training
// split's global mean and standard deviation (stored in the struct so a saved model can remember them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"

namespace convlab {

class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DatasetSplit { train, test };

DatasetSplit parse_dataset_split(std::string_view text);  // "train" | "test"; throws std::invalid_argument
std::string_view to_string(DatasetSplit split);

// The names load_dataset accepts: {"mnist", "fashion-mnist"}.
const std::vector<std::string>& dataset_names();
inline constexpr std::string_view kDefaultDataset = "mnist";

// $CONVLAB_DATA_DIR when set and non-empty, else the build's CONVLAB_DATA_DIR (the repository's data/).
std::filesystem::path data_dir();

struct DatasetFiles {
  std::filesystem::path images;  // IDX, rank 3 (count, rows, cols), raw or gzip
  std::filesystem::path labels;  // IDX, rank 1 (count)
};

// Finds a split's two files (raw name first, then ".gz"). MNIST: <data_dir>/mnist/. Fashion-MNIST:
// <data_dir>/fashion-mnist/ if it holds the files, else /usr/share/datasets/fashion-mnist/ (Debian's
// dataset-fashion-mnist). Throws DatasetError saying where it looked and how to install the data.
DatasetFiles locate_dataset(std::string_view name, DatasetSplit split);

struct Dataset {
  std::string name;
  DatasetSplit split = DatasetSplit::train;
  std::size_t rows = 0, cols = 0;     // image height and width (28 x 28 for both datasets)
  std::vector<std::uint8_t> pixels;   // count x rows x cols, C order
  std::vector<std::uint8_t> labels;   // count, each 0..9

  std::size_t count() const { return labels.size(); }
  std::size_t image_size() const { return rows * cols; }
  std::span<const std::uint8_t> image(std::size_t index) const {
    return std::span<const std::uint8_t>(pixels).subspan(index * image_size(), image_size());
  }
};

inline constexpr std::size_t kDigitClasses = 10;

// Loads the first `limit` examples (all when unset) of a named dataset's split.
Dataset load_dataset(std::string_view name, DatasetSplit split, std::optional<std::size_t> limit = std::nullopt);

// The same from explicit files; checks ranks, that both files hold the same count, and labels < 10.
// Errors (IdxError, DatasetError) name the offending file.
Dataset load_dataset_files(const DatasetFiles& files, std::string_view name, DatasetSplit split,
                           std::optional<std::size_t> limit = std::nullopt);

enum class Scaling {
  lecture,      // byte / 256: range 0 .. 0.99609375, the lecture's mnist.pkl.gz (the default)
  standardize,  // (byte - mean) / stddev with one global mean and stddev of the training split
};

Scaling parse_scaling(std::string_view text);  // "lecture" | "standardize"; throws std::invalid_argument
std::string_view to_string(Scaling scaling);

// input = (byte - mean) / stddev, both in byte units (0..255). The lecture's scaling is mean 0, stddev 256.
struct PixelScaling {
  Scaling kind = Scaling::lecture;
  double mean = 0.0;
  double stddev = 256.0;

  template <typename T>
  T apply(std::uint8_t byte) const {
    return T((double(byte) - mean) / stddev);
  }
};

// The scaling to use for `kind`; standardize computes the population mean and std (numpy's ddof=0) of
// every pixel of `training` (call it on the training split and reuse the result for the test split).
// Throws DatasetError when the training pixels are all equal (std 0).
PixelScaling fit_scaling(Scaling kind, const Dataset& training);

// Writes dataset.count() x rows x cols inputs (image-major, one channel) into `out`, which must hold
// exactly that many; float and double are provided.
template <typename T>
void to_inputs(const Dataset& dataset, const PixelScaling& scaling, std::span<T> out);

template <typename T>
std::vector<T> to_inputs(const Dataset& dataset, const PixelScaling& scaling) {
  std::vector<T> out;
  reserve_on_huge_pages(out, dataset.pixels.size());
  out.resize(dataset.pixels.size());
  to_inputs<T>(dataset, scaling, std::span<T>(out));
  return out;
}

}  // namespace convlab
