// Dataset location, loading with consistency checks, and pixel scaling.
#include "common/data/datasets.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "common/data/idx.hpp"

#ifndef CONVLAB_DATA_DIR
#error "CONVLAB_DATA_DIR must be defined by the build (see common/data/CMakeLists.txt)"
#endif

namespace convlab {

namespace {

constexpr std::string_view kInstallHint = "install it with: bash scripts/install.sh";
const std::filesystem::path kDebianFashionDir = "/usr/share/datasets/fashion-mnist";

struct SplitFileNames {
  std::string images, labels;
};

SplitFileNames file_names(DatasetSplit split) {
  const std::string prefix = split == DatasetSplit::train ? "train" : "t10k";
  return {prefix + "-images-idx3-ubyte", prefix + "-labels-idx1-ubyte"};
}

// `base` itself, else `base`.gz, in `dir`; nullopt when neither is a regular file.
std::optional<std::filesystem::path> find_file(const std::filesystem::path& dir, const std::string& base) {
  for (const std::filesystem::path& candidate : {dir / base, dir / (base + ".gz")}) {
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  }
  return std::nullopt;
}

std::vector<std::filesystem::path> search_dirs(std::string_view name) {
  if (name == "mnist") return {data_dir() / "mnist"};
  if (name == "fashion-mnist") return {data_dir() / "fashion-mnist", kDebianFashionDir};
  std::ostringstream message;
  message << "unknown dataset '" << name << "' (known:";
  for (const std::string& known : dataset_names()) message << " " << known;
  message << ")";
  throw std::invalid_argument(message.str());
}

}  // namespace

DatasetSplit parse_dataset_split(std::string_view text) {
  if (text == "train") return DatasetSplit::train;
  if (text == "test") return DatasetSplit::test;
  throw std::invalid_argument("unknown split '" + std::string(text) + "' (known: train test)");
}

std::string_view to_string(DatasetSplit split) { return split == DatasetSplit::train ? "train" : "test"; }

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"mnist", "fashion-mnist"};
  return names;
}

std::filesystem::path data_dir() {
  const char* from_environment = std::getenv("CONVLAB_DATA_DIR");
  if (from_environment && *from_environment) return from_environment;
  return CONVLAB_DATA_DIR;
}

DatasetFiles locate_dataset(std::string_view name, DatasetSplit split) {
  const std::vector<std::filesystem::path> dirs = search_dirs(name);
  const SplitFileNames names = file_names(split);
  for (const std::filesystem::path& dir : dirs) {
    const auto images = find_file(dir, names.images);
    const auto labels = find_file(dir, names.labels);
    if (images && labels) return {*images, *labels};
  }
  std::ostringstream message;
  message << "dataset '" << name << "' (" << to_string(split) << " split) not found: looked for " << names.images
          << "[.gz] and " << names.labels << "[.gz] in ";
  for (std::size_t i = 0; i < dirs.size(); ++i) message << (i ? " and " : "") << dirs[i].string();
  message << "; " << kInstallHint << " (or set CONVLAB_DATA_DIR to a folder holding " << name << "/)";
  throw DatasetError(message.str());
}

Dataset load_dataset(std::string_view name, DatasetSplit split, std::optional<std::size_t> limit) {
  return load_dataset_files(locate_dataset(name, split), name, split, limit);
}

Dataset load_dataset_files(const DatasetFiles& files, std::string_view name, DatasetSplit split,
                           std::optional<std::size_t> limit) {
  IdxReadOptions options;
  options.first_items = limit;
  IdxArray images = read_idx_file(files.images, options);
  IdxArray labels = read_idx_file(files.labels, options);
  const std::string images_name = files.images.string(), labels_name = files.labels.string();

  if (images.declared_dims.size() != 3) {
    throw DatasetError(images_name + ": expected images of rank 3 (count, rows, cols), found rank " +
                       std::to_string(images.declared_dims.size()));
  }
  if (labels.declared_dims.size() != 1) {
    throw DatasetError(labels_name + ": expected labels of rank 1 (count), found rank " +
                       std::to_string(labels.declared_dims.size()));
  }
  if (images.declared_dims[0] != labels.declared_dims[0]) {
    throw DatasetError(images_name + " holds " + std::to_string(images.declared_dims[0]) + " images but " +
                       labels_name + " holds " + std::to_string(labels.declared_dims[0]) + " labels");
  }
  if (images.dims[1] == 0 || images.dims[2] == 0) {
    throw DatasetError(images_name + ": images have an empty side (" + std::to_string(images.dims[1]) + " x " +
                       std::to_string(images.dims[2]) + ")");
  }
  for (std::size_t index = 0; index < labels.values.size(); ++index) {
    if (labels.values[index] >= kDigitClasses) {
      throw DatasetError(labels_name + ": label " + std::to_string(labels.values[index]) + " at index " +
                         std::to_string(index) + " is not a class 0..9");
    }
  }

  Dataset dataset;
  dataset.name = std::string(name);
  dataset.split = split;
  dataset.rows = images.dims[1];
  dataset.cols = images.dims[2];
  dataset.pixels = std::move(images.values);
  dataset.labels = std::move(labels.values);
  return dataset;
}

Scaling parse_scaling(std::string_view text) {
  if (text == "lecture") return Scaling::lecture;
  if (text == "standardize") return Scaling::standardize;
  throw std::invalid_argument("unknown scaling '" + std::string(text) + "' (known: lecture standardize)");
}

std::string_view to_string(Scaling scaling) { return scaling == Scaling::lecture ? "lecture" : "standardize"; }

PixelScaling fit_scaling(Scaling kind, const Dataset& training) {
  if (kind == Scaling::lecture) return PixelScaling{};
  if (training.pixels.empty()) throw DatasetError("cannot standardize: the " + training.name + " training split is empty");
  // A histogram makes the mean and variance exact sums of 256 terms, whatever the pixel count.
  std::array<std::uint64_t, 256> histogram{};
  for (std::uint8_t byte : training.pixels) ++histogram[byte];
  const double count = double(training.pixels.size());
  double sum = 0.0;
  for (std::size_t value = 0; value < histogram.size(); ++value) sum += double(value) * double(histogram[value]);
  const double mean = sum / count;
  double squares = 0.0;
  for (std::size_t value = 0; value < histogram.size(); ++value) {
    const double deviation = double(value) - mean;
    squares += deviation * deviation * double(histogram[value]);
  }
  const double stddev = std::sqrt(squares / count);
  if (!(stddev > 0.0)) {
    throw DatasetError("cannot standardize: every pixel of the " + training.name + " training split is equal");
  }
  return PixelScaling{Scaling::standardize, mean, stddev};
}

template <typename T>
void to_inputs(const Dataset& dataset, const PixelScaling& scaling, std::span<T> out) {
  if (out.size() != dataset.pixels.size()) {
    throw std::invalid_argument("to_inputs: output holds " + std::to_string(out.size()) + " values, the " +
                                dataset.name + " " + std::string(to_string(dataset.split)) + " split needs " +
                                std::to_string(dataset.pixels.size()));
  }
  std::array<T, 256> table;
  for (std::size_t byte = 0; byte < table.size(); ++byte) table[byte] = scaling.apply<T>(std::uint8_t(byte));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = table[dataset.pixels[i]];
}

template void to_inputs<float>(const Dataset&, const PixelScaling&, std::span<float>);
template void to_inputs<double>(const Dataset&, const PixelScaling&, std::span<double>);

}  // namespace convlab
