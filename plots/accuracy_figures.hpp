// `convlab accuracy`'s chart: max error per output (in units of u, log scale) against the channel count,
// one line per implementation, one panel per window size.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

struct AccuracyCurve {
  std::string label;              // the implementation
  std::vector<double> channels;   // x: C (= F)
  std::vector<double> max_error;  // y: max |computed - exact| / sum|w x|, in u
};

struct AccuracyPanel {
  std::string title;  // e.g. "3x3 windows"
  std::vector<AccuracyCurve> curves;
};

// One panel per entry, side by side, log-log axes. Points with a zero error (exact results) cannot be drawn
// on a log axis and are left out. The script: datablocks $p<i>c<j> (panel i, curve j), rows "channels error".
// Throws std::invalid_argument on no panels, a panel with no curves, or a curve whose x and y differ in length.
FigureScript accuracy_figure(const std::vector<AccuracyPanel>& panels, const std::string& title);
void plot_accuracy(const std::vector<AccuracyPanel>& panels, const std::string& title, const std::filesystem::path& out);

}  // namespace convlab::plots
