// `convlab windows`: the lecture's windows walk-through on one training digit - the strided windows
// view (shape and numpy byte strides), then a hand-made diagonal detector swept over it.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "common/datasets.hpp"
#include "common/lecture_windows.hpp"

namespace convlab::cli {

namespace {

struct WindowsOptions {
  std::size_t digit = 0;
  Index window = 10;
  Index stride = 1;
  std::string dataset = std::string(kDefaultDataset);
};

template <typename Values>
std::string tuple_text(const Values& values) {
  std::ostringstream text;
  text << "(";
  for (std::size_t i = 0; i < values.size(); ++i) text << (i ? ", " : "") << values[i];
  text << ")";
  return text.str();
}

void run_windows(const WindowsOptions& options) {
  const Dataset digits = load_dataset(options.dataset, DatasetSplit::train, options.digit + 1);
  if (options.digit >= digits.count()) {
    throw std::invalid_argument("--digit " + std::to_string(options.digit) + " is out of range: the " +
                                options.dataset + " training split holds " + std::to_string(digits.count()) +
                                " images");
  }
  const std::vector<double> inputs = to_inputs<double>(digits, PixelScaling{});  // the lecture's byte/256
  const Index rows = Index(digits.rows), cols = Index(digits.cols);
  const std::span<const double> image =
      std::span<const double>(inputs).subspan(options.digit * digits.image_size(), digits.image_size());
  const std::vector<double> weights = diagonal_detector(options.window);
  const WindowResponse result = detector_response(image, rows, cols, weights, options.window, options.stride);

  std::printf("%s training digit %zu: label %u\n", options.dataset.c_str(), options.digit,
              unsigned(digits.labels[options.digit]));
  std::printf("windows of one %td x %td float64 image (pixels / 256): shape %s, byte strides %s\n", rows, cols,
              tuple_text(result.windows_shape).c_str(), tuple_text(result.windows_byte_strides).c_str());
  const double scale = std::abs(weights.front());
  std::printf("detector: %td x %td, +%g on the anti-diagonal band |row + col - %td| <= 1, -%g elsewhere\n",
              options.window, options.window, scale, options.window - 1, scale);
  std::printf("sums sum(window * weights): min %.17g max %.17g (exact)\n", result.sum_min, result.sum_max);
  std::printf("response tanh(sum(window * weights)): shape (%td, %td)\n", result.rows, result.cols);
  std::printf("min %.17g\nmax %.17g\n", result.min, result.max);
}

}  // namespace

void add_windows_command(CLI::App& app) {
  auto options = std::make_shared<WindowsOptions>();
  CLI::App* command =
      app.add_subcommand("windows", "The lecture's windows walk-through: a strided windows view of one training "
                                    "digit and a diagonal detector swept over it");
  command->add_option("--digit", options->digit, "Index of the training image")->capture_default_str();
  command->add_option("--window", options->window, "Window side in pixels")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--stride", options->stride, "Step between windows in pixels")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--dataset", options->dataset, "mnist or fashion-mnist")
      ->capture_default_str()
      ->check(CLI::IsMember(dataset_names()));
  command->callback([options] { run_windows(*options); });
}

}  // namespace convlab::cli
