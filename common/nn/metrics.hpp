// Classification metrics: percent correct and the confusion matrix, printed in the lecture's format.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/tensor/strided_view.hpp"

namespace convlab {

// 100 * (fraction of predicted[i] == targets[i]); throws std::invalid_argument on different lengths or
// no examples.
double percent_correct(std::span<const std::uint8_t> predicted, std::span<const std::uint8_t> targets);

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(Index classes);
  // Counts every (targets[i], predicted[i]); throws on different lengths or a class >= classes.
  ConfusionMatrix(Index classes, std::span<const std::uint8_t> predicted, std::span<const std::uint8_t> targets);

  void add(Index true_class, Index predicted_class);
  Index classes() const { return classes_; }
  Index count(Index true_class, Index predicted_class) const;
  Index row_total(Index true_class) const;
  // Percent of the true class's samples predicted as `predicted_class` (0 for a class with no samples).
  double percent(Index true_class, Index predicted_class) const;

  // The lecture's printConfusionMatrix, rows = true class, cells = percent of the row:
  //      0    1 ...          header: 3 spaces, each class as %5d
  //     ------------         4 spaces, "------" per class
  //    0 | 98.0  0   ...     row: {:2d} |, each cell {:5.1f}, or "  0  " for an exact zero
  std::string format() const;  // format_confusion_percentages of this matrix

 private:
  Index classes_;
  std::vector<Index> counts_;  // classes x classes, row = true class
};

// The lecture's confusion-matrix format for given percentages (row-major, classes x classes): a cell whose
// `empty` flag is set prints as "0" (no sample), any other as %5.1f. Shared by ConfusionMatrix::format and
// `convlab lecture`, which prints the lecture's own printed matrix beside convlab's.
std::string format_confusion_percentages(Index classes, const std::vector<double>& percent,
                                        const std::vector<bool>& empty);

}  // namespace convlab
