// `convlab accuracy`'s chart: max error per output (in units of u, log scale) against the channel count,
// one line per implementation, one panel per window size; and panels with another x axis (the tile size).
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

struct AccuracyCurve {
  std::string label;              // the legend: the implementation (and its tile, where it has one)
  std::vector<double> channels;   // x: C (= F), or the panel's own x (AccuracyStyle::axes)
  std::vector<double> max_error;  // y: max |computed - exact| / sum|w x|, in u
};

struct AccuracyPanel {
  std::string title;  // e.g. "3x3 windows"
  std::vector<AccuracyCurve> curves;
};

// A panel's own x axis (not the channel count): its label and tics (text, value).
struct AccuracyAxis {
  std::string label;
  std::vector<std::pair<std::string, double>> tics;
};

// How the curves are drawn, beyond gnuplot's defaults.
struct AccuracyStyle {
  // Line colours by curve label, "#rrggbb": one label, one colour, in every panel (unlisted: gnuplot's own).
  std::map<std::string, std::string> colors;
  // Labels drawn dashed (series that are not implementations).
  std::set<std::string> dashed;
  // Panels (by index) with an x axis of their own; each gets its own x range, the channel panels share one.
  std::map<std::size_t, AccuracyAxis> axes;
};

// One panel per entry, side by side (four or more: two rows), log-log axes, the y range shared. Points with
// a zero error (exact results) cannot be drawn on a log axis and are left out. The script: datablocks
// $p<i>c<j> (panel i, curve j), rows "x error"; each curve drawn as `$p<i>c<j> using 1:2 with linespoints ...
// [linecolor rgb "#rrggbb"] title "label"`. Throws std::invalid_argument on no panels, a panel with no curves,
// a curve whose x and y differ in length, or a colour not of the form #rrggbb.
FigureScript accuracy_figure(const std::vector<AccuracyPanel>& panels, const std::string& title,
                             const AccuracyStyle& style = {});
void plot_accuracy(const std::vector<AccuracyPanel>& panels, const std::string& title, const std::filesystem::path& out,
                   const AccuracyStyle& style = {});

}  // namespace convlab::plots
