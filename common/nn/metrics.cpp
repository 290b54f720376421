// Percent correct and the confusion matrix.
#include "common/nn/metrics.hpp"

#include <cstdio>
#include <stdexcept>

namespace convlab {
namespace {

void check_lengths(std::span<const std::uint8_t> predicted, std::span<const std::uint8_t> targets) {
  if (predicted.size() != targets.size()) {
    throw std::invalid_argument("metrics: " + std::to_string(predicted.size()) + " predictions for " +
                                std::to_string(targets.size()) + " targets");
  }
}

}  // namespace

double percent_correct(std::span<const std::uint8_t> predicted, std::span<const std::uint8_t> targets) {
  check_lengths(predicted, targets);
  if (targets.empty()) throw std::invalid_argument("metrics: percent correct of no examples");
  Index correct = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) correct += predicted[i] == targets[i];
  return 100.0 * double(correct) / double(targets.size());
}

ConfusionMatrix::ConfusionMatrix(Index classes) : classes_(classes) {
  if (classes < 1 || classes > 4096) {
    throw std::invalid_argument("confusion matrix: class count must be 1..4096, got " + std::to_string(classes));
  }
  counts_.assign(std::size_t(classes * classes), 0);
}

ConfusionMatrix::ConfusionMatrix(Index classes, std::span<const std::uint8_t> predicted,
                                 std::span<const std::uint8_t> targets)
    : ConfusionMatrix(classes) {
  check_lengths(predicted, targets);
  for (std::size_t i = 0; i < targets.size(); ++i) add(targets[i], predicted[i]);
}

void ConfusionMatrix::add(Index true_class, Index predicted_class) {
  if (true_class < 0 || true_class >= classes_ || predicted_class < 0 || predicted_class >= classes_) {
    throw std::invalid_argument("confusion matrix: class pair (" + std::to_string(true_class) + ", " +
                                std::to_string(predicted_class) + ") outside 0.." + std::to_string(classes_ - 1));
  }
  ++counts_[std::size_t(true_class * classes_ + predicted_class)];
}

Index ConfusionMatrix::count(Index true_class, Index predicted_class) const {
  return counts_.at(std::size_t(true_class * classes_ + predicted_class));
}

Index ConfusionMatrix::row_total(Index true_class) const {
  Index total = 0;
  for (Index p = 0; p < classes_; ++p) total += count(true_class, p);
  return total;
}

double ConfusionMatrix::percent(Index true_class, Index predicted_class) const {
  const Index total = row_total(true_class);
  return total == 0 ? 0.0 : 100.0 * double(count(true_class, predicted_class)) / double(total);
}

std::string format_confusion_percentages(Index classes, const std::vector<double>& percent,
                                        const std::vector<bool>& empty) {
  if (Index(percent.size()) != classes * classes || percent.size() != empty.size()) {
    throw std::invalid_argument("format_confusion_percentages: expected " + std::to_string(classes * classes) +
                                " cells");
  }
  std::string text = "   ";
  char cell[32];
  for (Index c = 0; c < classes; ++c) {
    std::snprintf(cell, sizeof cell, "%5d", int(c));
    text += cell;
  }
  text += "\n    ";
  for (Index c = 0; c < classes; ++c) text += "------";
  text += "\n";
  for (Index t = 0; t < classes; ++t) {
    std::snprintf(cell, sizeof cell, "%2d |", int(t));
    text += cell;
    for (Index p = 0; p < classes; ++p) {
      const std::size_t at = std::size_t(t * classes + p);
      if (empty[at]) {
        text += "  0  ";
      } else {
        std::snprintf(cell, sizeof cell, "%5.1f", percent[at]);
        text += cell;
      }
    }
    text += "\n";
  }
  return text;
}

std::string ConfusionMatrix::format() const {
  std::vector<double> percents;
  std::vector<bool> empty;
  for (Index t = 0; t < classes_; ++t)
    for (Index p = 0; p < classes_; ++p) {
      percents.push_back(percent(t, p));
      empty.push_back(count(t, p) == 0);
    }
  return format_confusion_percentages(classes_, percents, empty);
}

}  // namespace convlab
