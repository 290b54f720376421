// What `convlab train` and `convlab evaluate` share: option checks and the accuracy report (percent
// correct and the lecture-format confusion matrix).
#pragma once

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/io/atomic_file.hpp"
#include "common/data/datasets.hpp"
#include "common/nn/metrics.hpp"
#include "common/nn/network.hpp"

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

struct AccuracyReport {
  double percent = 0;        // percent correct
  ConfusionMatrix matrix;    // rows: true class
  double seconds = 0;        // classifying the inputs
};

// Classifies `inputs` and, when `matrix_title` is non-empty, prints the confusion matrix under it.
template <typename T>
AccuracyReport report_accuracy(Network<T>& network, std::span<const T> inputs, const Dataset& dataset,
                               const std::string& matrix_title) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::uint8_t> predicted = network.classify(inputs);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  AccuracyReport report{percent_correct(predicted, dataset.labels),
                        ConfusionMatrix(network.architecture().classes, predicted, dataset.labels), seconds};
  if (!matrix_title.empty()) std::cout << "\n" << matrix_title << "\n" << report.matrix.format();
  return report;
}

// A confusion matrix for other programs: {"counts": rows of counts, "percent": rows of percentages}.
inline nlohmann::json confusion_json(const ConfusionMatrix& matrix, Index classes) {
  nlohmann::json counts = nlohmann::json::array(), percent = nlohmann::json::array();
  for (Index row = 0; row < classes; ++row) {
    nlohmann::json count_row = nlohmann::json::array(), percent_row = nlohmann::json::array();
    for (Index col = 0; col < classes; ++col) {
      count_row.push_back(matrix.count(row, col));
      percent_row.push_back(matrix.percent(row, col));
    }
    counts.push_back(count_row);
    percent.push_back(percent_row);
  }
  return {{"counts", counts}, {"percent", percent}};
}

// Writes `result` to `path` atomically (checked writable before any work with check_output_writable).
inline void write_json_results(const std::string& path, const nlohmann::json& result) {
  const std::string text = result.dump(1) + "\n";
  write_file_atomically(path, std::as_bytes(std::span(text.data(), text.size())), "JSON results");
}

}  // namespace convlab::cli
