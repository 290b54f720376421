// Training curves: the error, and the likelihood exp(-error), per iteration or epoch, one line per run.
//
// The error is whatever the history's error column holds (convlab's network: -sum(T log Y) / (N * K), the
// course's normalisation over all N*K target entries); exp(-error) maps it into (0, 1], rising towards 1 as
// the network grows sure of the right classes - the "likelihood" the lecture plotted.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

struct TrainingCurve {
  std::string label;        // legend entry, e.g. the implementation or the file's stem
  std::string x_name;       // "iteration", "epoch" or "step"
  std::vector<double> x;
  std::vector<double> error;
};

// Reads a history CSV (`convlab train --history`): a header row, then one row per point. The x column is
// the first of iteration / epoch / step present; the error column the first of error / train_error / loss /
// mean_batch_error / batch_error. The label is the file's stem. Throws std::runtime_error naming the file
// and line on a missing column or a non-numeric cell.
TrainingCurve read_history_csv(const std::filesystem::path& path);

// Two panels sharing the x axis: error (top) and exp(-error) (bottom). Curves may use different x names
// only if all use the same one (an epoch is not an iteration): throws std::invalid_argument otherwise.
// The script: one datablock $curve<i> per curve, a row "x error" per point, and the canvas (900 x 900).
FigureScript training_curves_figure(const std::vector<TrainingCurve>& curves, const std::string& title);
void plot_training_curves(const std::vector<TrainingCurve>& curves, const std::string& title,
                          const std::filesystem::path& out);

}  // namespace convlab::plots
