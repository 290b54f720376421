// What `convlab train` and `convlab evaluate` share: option checks and the accuracy report (percent
// correct and the lecture-format confusion matrix).
#pragma once

#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/datasets.hpp"
#include "common/metrics.hpp"
#include "common/network.hpp"

namespace convlab::cli {

inline void require_at_least(long long value, long long minimum, std::string_view option) {
  if (value < minimum) {
    throw std::invalid_argument(std::string(option) + " must be at least " + std::to_string(minimum) + ", got " +
                                std::to_string(value));
  }
}

inline void require_known_dataset(const std::string& name) {
  for (const std::string& known : dataset_names()) {
    if (known == name) return;
  }
  std::string list;
  for (const std::string& known : dataset_names()) {
    if (!list.empty()) list += ", ";
    list += known;
  }
  throw std::invalid_argument("unknown --dataset '" + name + "' (known: " + list + ")");
}

// The network must take the dataset's images and classes.
inline void require_fits(const Architecture& architecture, const Dataset& dataset) {
  if (architecture.input_channels != 1 || architecture.input_height != Index(dataset.rows) ||
      architecture.input_width != Index(dataset.cols) || architecture.classes != Index(kDigitClasses)) {
    throw std::invalid_argument("the model takes " + std::to_string(architecture.input_channels) + "x" +
                                std::to_string(architecture.input_height) + "x" +
                                std::to_string(architecture.input_width) + " images in " +
                                std::to_string(architecture.classes) + " classes; " + dataset.name + " has 1x" +
                                std::to_string(dataset.rows) + "x" + std::to_string(dataset.cols) + " in " +
                                std::to_string(kDigitClasses));
  }
}

// Classifies `inputs`, returns percent correct and, when `matrix_title` is non-empty, prints the
// confusion matrix under it.
template <typename T>
double report_accuracy(Network<T>& network, std::span<const T> inputs, const Dataset& dataset,
                       const std::string& matrix_title) {
  const std::vector<std::uint8_t> predicted = network.classify(inputs);
  const double percent = percent_correct(predicted, dataset.labels);
  if (!matrix_title.empty()) {
    const ConfusionMatrix matrix(network.architecture().classes, predicted, dataset.labels);
    std::cout << "\n" << matrix_title << "\n" << matrix.format();
  }
  return percent;
}

}  // namespace convlab::cli
