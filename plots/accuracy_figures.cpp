// `convlab accuracy`'s chart (see accuracy_figures.hpp).
#include "plots/accuracy_figures.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace convlab::plots {

FigureScript accuracy_figure(const std::vector<AccuracyPanel>& panels, const std::string& title) {
  if (panels.empty()) throw std::invalid_argument("accuracy_figure: no panels");
  double x_low = 0, x_high = 0, y_low = 0, y_high = 0;
  bool any = false;
  for (const AccuracyPanel& panel : panels) {
    if (panel.curves.empty()) throw std::invalid_argument("accuracy_figure: panel '" + panel.title + "' has no curves");
    for (const AccuracyCurve& curve : panel.curves) {
      if (curve.channels.size() != curve.max_error.size()) {
        throw std::invalid_argument("accuracy_figure: curve '" + curve.label + "' has " +
                                    std::to_string(curve.channels.size()) + " channel counts and " +
                                    std::to_string(curve.max_error.size()) + " errors");
      }
      for (std::size_t i = 0; i < curve.channels.size(); ++i) {
        if (!(curve.max_error[i] > 0) || !(curve.channels[i] > 0)) continue;
        x_low = any ? std::min(x_low, curve.channels[i]) : curve.channels[i];
        x_high = any ? std::max(x_high, curve.channels[i]) : curve.channels[i];
        y_low = any ? std::min(y_low, curve.max_error[i]) : curve.max_error[i];
        y_high = any ? std::max(y_high, curve.max_error[i]) : curve.max_error[i];
        any = true;
      }
    }
  }
  if (!any) x_low = x_high = y_low = y_high = 1;
  std::ostringstream script;
  script.precision(12);
  for (std::size_t p = 0; p < panels.size(); ++p)
    for (std::size_t c = 0; c < panels[p].curves.size(); ++c) {
      const AccuracyCurve& curve = panels[p].curves[c];
      script << "$p" << p << "c" << c << " << EOD\n";
      bool drawn = false;
      for (std::size_t i = 0; i < curve.channels.size(); ++i) {
        if (!(curve.max_error[i] > 0) || !(curve.channels[i] > 0)) continue;
        script << curve.channels[i] << " " << curve.max_error[i] << "\n";
        drawn = true;
      }
      // An empty datablock makes gnuplot warn ("no valid points"): a point outside the range stands in.
      if (!drawn) script << x_low << " NaN\n";
      script << "EOD\n";
    }
  // Shared ranges (whole powers around the data), so the panels compare at a glance.
  script << "set multiplot layout 1," << panels.size() << " title " << gnuplot_quote(title) << "\n"
         << "set logscale xy\nset grid\nset key top left\n"
         << "set xrange [" << x_low / 1.5 << ":" << x_high * 1.5 << "]\n"
         << "set yrange [" << y_low / 2 << ":" << y_high * 2 << "]\n"
         << "set xlabel 'channels C = F'\nset ylabel 'max |error| / sum|w x|, in u'\n"
         << "set format y '%g'\n";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    script << "set title " << gnuplot_quote(panels[p].title) << "\nplot ";
    for (std::size_t c = 0; c < panels[p].curves.size(); ++c) {
      script << (c ? ", " : "") << "$p" << p << "c" << c << " using 1:2 with linespoints pointsize 0.8 linewidth 2"
             << " title " << gnuplot_quote(panels[p].curves[c].label);
    }
    script << "\n";
  }
  script << "unset multiplot\n";
  const int width = std::max(700, 560 * int(panels.size()));
  RenderOptions options{{width, 560, 11}, {}, {}};
  // A curve with no drawable point (every error zero) is a NaN point: gnuplot says so and draws nothing.
  options.allowed_warnings.push_back("Skipping data file with no valid points");
  return {script.str(), options};
}

void plot_accuracy(const std::vector<AccuracyPanel>& panels, const std::string& title, const std::filesystem::path& out) {
  render_png(accuracy_figure(panels, title), out);
}

}  // namespace convlab::plots
