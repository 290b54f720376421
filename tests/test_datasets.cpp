// The datasets: real MNIST and Fashion-MNIST facts, the consistency checks on small made-up files, and
// the two pixel scalings.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/data/datasets.hpp"
#include "common/data/idx.hpp"
#include "tests/mnist_or_skip.hpp"

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

fs::path temporary_folder(const std::string& tag) {
  const fs::path path = fs::temp_directory_path() / ("convlab_test_datasets_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(path);
  fs::create_directories(path);
  return path;
}

void write_idx(const fs::path& file, const std::vector<std::uint32_t>& dims, const Bytes& values) {
  Bytes bytes = {0, 0, 0x08, std::uint8_t(dims.size())};
  for (std::uint32_t extent : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(std::uint8_t(extent >> shift));
  }
  bytes.insert(bytes.end(), values.begin(), values.end());
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Sets an environment variable for one scope.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnvironment() {
    if (old_) ::setenv(name_, old_->c_str(), 1); else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("MNIST: 60000/10000 images of 28x28, first training labels 5 0 4 1 9 2 1 3 1 4", "[datasets][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const auto train = convlab::load_dataset("mnist", convlab::DatasetSplit::train);
  CHECK(train.count() == 60000);
  CHECK(train.rows == 28);
  CHECK(train.cols == 28);
  CHECK(train.pixels.size() == 60000u * 28 * 28);
  CHECK(Bytes(train.labels.begin(), train.labels.begin() + 10) == Bytes{5, 0, 4, 1, 9, 2, 1, 3, 1, 4});
  const auto test = convlab::load_dataset("mnist", convlab::DatasetSplit::test);
  CHECK(test.count() == 10000);

  CHECK(*std::max_element(train.pixels.begin(), train.pixels.end()) == 255);

  // The lecture's scaling: byte / 256, so the brightest pixel (255) becomes 0.99609375.
  const auto first = convlab::load_dataset("mnist", convlab::DatasetSplit::train, 100);
  const auto inputs = convlab::to_inputs<double>(first, convlab::PixelScaling{});
  double lowest = inputs[0], highest = inputs[0];
  for (double value : inputs) {
    lowest = std::min(lowest, value);
    highest = std::max(highest, value);
  }
  CHECK(lowest == 0.0);
  CHECK(highest == 0.99609375);
  const auto floats = convlab::to_inputs<float>(first, convlab::PixelScaling{});
  for (std::size_t i = 0; i < floats.size(); ++i) REQUIRE(floats[i] == float(first.pixels[i]) / 256.0f);
}

TEST_CASE("a limit loads the first N examples", "[datasets][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const auto first = convlab::load_dataset("mnist", convlab::DatasetSplit::train, 10);
  CHECK(first.count() == 10);
  CHECK(first.pixels.size() == 10u * 28 * 28);
  CHECK(first.labels == Bytes{5, 0, 4, 1, 9, 2, 1, 3, 1, 4});
}

TEST_CASE("Fashion-MNIST: first test labels 9 2 1 1 6 1 4 6 5 7, 10000 test images", "[datasets]") {
  const auto first = convlab::load_dataset("fashion-mnist", convlab::DatasetSplit::test, 10);
  CHECK(first.labels == Bytes{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  CHECK(first.rows == 28);
  CHECK(convlab::load_dataset("fashion-mnist", convlab::DatasetSplit::test).count() == 10000);
}

TEST_CASE("standardize uses the training split's global mean and std for every split", "[datasets]") {
  convlab::Dataset training;
  training.name = "made-up";
  training.rows = 1;
  training.cols = 4;
  training.pixels = {0, 2, 4, 6};  // mean 3, population std sqrt(5)
  training.labels = {0};
  const auto scaling = convlab::fit_scaling(convlab::Scaling::standardize, training);
  CHECK(scaling.kind == convlab::Scaling::standardize);
  CHECK(scaling.mean == 3.0);
  CHECK(scaling.stddev == std::sqrt(5.0));
  const auto inputs = convlab::to_inputs<double>(training, scaling);
  CHECK(inputs[0] == -3.0 / std::sqrt(5.0));
  CHECK(inputs[3] == 3.0 / std::sqrt(5.0));

  convlab::Dataset test = training;
  test.pixels = {3, 3, 3, 3};
  for (double value : convlab::to_inputs<double>(test, scaling)) CHECK(value == 0.0);

  const auto lecture = convlab::fit_scaling(convlab::Scaling::lecture, training);
  CHECK(lecture.mean == 0.0);
  CHECK(lecture.stddev == 256.0);

  training.pixels = {9, 9, 9, 9};
  CHECK_THROWS_WITH(convlab::fit_scaling(convlab::Scaling::standardize, training),
                    "cannot standardize: every pixel of the made-up training split is equal");
  std::vector<double> wrong_size(3);
  CHECK_THROWS_AS(convlab::to_inputs<double>(training, scaling, std::span<double>(wrong_size)), std::invalid_argument);
}

TEST_CASE("standardize on real MNIST training pixels", "[datasets][mnist]") {
  CONVLAB_REQUIRE_MNIST();
  const auto train = convlab::load_dataset("mnist", convlab::DatasetSplit::train);
  const auto scaling = convlab::fit_scaling(convlab::Scaling::standardize, train);
  // numpy: x = train pixels as float64; x.mean(), x.std() -> 33.318421449829934, 78.56748998339798
  CHECK(scaling.mean == Approx(33.318421449829934).epsilon(1e-14));
  CHECK(scaling.stddev == Approx(78.56748998339798).epsilon(1e-14));
}

TEST_CASE("names parse and print", "[datasets]") {
  CHECK(convlab::parse_scaling("lecture") == convlab::Scaling::lecture);
  CHECK(convlab::parse_scaling("standardize") == convlab::Scaling::standardize);
  CHECK_THROWS_WITH(convlab::parse_scaling("minmax"), "unknown scaling 'minmax' (known: lecture standardize)");
  CHECK(convlab::to_string(convlab::Scaling::standardize) == "standardize");
  CHECK(convlab::parse_dataset_split("test") == convlab::DatasetSplit::test);
  CHECK_THROWS_WITH(convlab::parse_dataset_split("valid"), "unknown split 'valid' (known: train test)");
  CHECK_THROWS_WITH(convlab::load_dataset("cifar", convlab::DatasetSplit::train),
                    "unknown dataset 'cifar' (known: mnist fashion-mnist)");
}

TEST_CASE("a missing dataset says where it looked and how to install it", "[datasets]") {
  const fs::path empty = temporary_folder("empty");
  const ScopedEnvironment environment("CONVLAB_DATA_DIR", empty.string());
  CHECK(convlab::data_dir() == empty);
  CHECK_THROWS_WITH(convlab::load_dataset("mnist", convlab::DatasetSplit::test),
                    "dataset 'mnist' (test split) not found: looked for t10k-images-idx3-ubyte[.gz] and "
                    "t10k-labels-idx1-ubyte[.gz] in " +
                        (empty / "mnist").string() +
                        "; install it with: bash scripts/install.sh (or set CONVLAB_DATA_DIR to a folder "
                        "holding mnist/)");
  fs::remove_all(empty);
}

TEST_CASE("gz variants in the data folder are found, and inconsistent files are named", "[datasets]") {
  const fs::path root = temporary_folder("files");
  const ScopedEnvironment environment("CONVLAB_DATA_DIR", root.string());
  fs::create_directories(root / "mnist");
  const fs::path images = root / "mnist" / "t10k-images-idx3-ubyte";
  const fs::path labels = root / "mnist" / "t10k-labels-idx1-ubyte";
  write_idx(images, {3, 2, 2}, Bytes(12, 1));

  SECTION("counts that disagree") {
    write_idx(labels, {2}, {1, 2});
    CHECK_THROWS_WITH(convlab::load_dataset("mnist", convlab::DatasetSplit::test),
                      images.string() + " holds 3 images but " + labels.string() + " holds 2 labels");
    // Also with a limit, which reads fewer items than either file holds.
    CHECK_THROWS_WITH(convlab::load_dataset("mnist", convlab::DatasetSplit::test, 1),
                      images.string() + " holds 3 images but " + labels.string() + " holds 2 labels");
  }
  SECTION("a label that is not a digit class") {
    write_idx(labels, {3}, {1, 12, 2});
    CHECK_THROWS_WITH(convlab::load_dataset("mnist", convlab::DatasetSplit::test),
                      labels.string() + ": label 12 at index 1 is not a class 0..9");
  }
  SECTION("labels of the wrong rank") {
    write_idx(labels, {3, 1}, {1, 2, 3});
    CHECK_THROWS_WITH(convlab::load_dataset("mnist", convlab::DatasetSplit::test),
                      labels.string() + ": expected labels of rank 1 (count), found rank 2");
  }
  SECTION("a damaged file is named by the IDX reader") {
    write_idx(labels, {3}, {1, 2});
    CHECK_THROWS_WITH(convlab::load_dataset("mnist", convlab::DatasetSplit::test),
                      labels.string() + ": truncated data: expected 3 bytes of data after the header, found 2");
  }
  SECTION("consistent files load, the .gz name too") {
    const fs::path gz_labels = labels.string() + ".gz";
    write_idx(gz_labels, {3}, {7, 8, 9});  // raw content under a .gz name: detected by magic, not by name
    const auto files = convlab::locate_dataset("mnist", convlab::DatasetSplit::test);
    CHECK(files.labels == gz_labels);
    const auto dataset = convlab::load_dataset("mnist", convlab::DatasetSplit::test);
    CHECK(dataset.count() == 3);
    CHECK(dataset.rows == 2);
    CHECK(dataset.labels == Bytes{7, 8, 9});
    CHECK(Bytes(dataset.image(2).begin(), dataset.image(2).end()) == Bytes(4, 1));
  }
  fs::remove_all(root);
}
