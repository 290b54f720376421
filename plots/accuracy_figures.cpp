// `convlab accuracy`'s chart (see accuracy_figures.hpp).
#include "plots/accuracy_figures.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace convlab::plots {

namespace {

struct Range {
  bool any = false;
  double low = 1, high = 1;
  void add(double value) {
    low = any ? std::min(low, value) : value;
    high = any ? std::max(high, value) : value;
    any = true;
  }
};

bool drawable(const AccuracyCurve& curve, std::size_t i) { return curve.max_error[i] > 0 && curve.channels[i] > 0; }

bool is_color(const std::string& color) {
  if (color.size() != 7 || color[0] != '#') return false;
  return std::all_of(color.begin() + 1, color.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

FigureScript accuracy_figure(const std::vector<AccuracyPanel>& panels, const std::string& title,
                             const AccuracyStyle& style) {
  if (panels.empty()) throw std::invalid_argument("accuracy_figure: no panels");
  for (const auto& [label, color] : style.colors) {
    if (!is_color(color)) {
      throw std::invalid_argument("accuracy_figure: curve '" + label + "' has colour '" + color + "', not #rrggbb");
    }
  }
  const auto own_axis = [&](std::size_t p) { return style.axes.count(p) != 0; };
  // x: one range shared by the channel panels, one per panel with an axis of its own; y: one for all.
  Range channels_x, y;
  std::vector<Range> own_x(panels.size());
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const AccuracyPanel& panel = panels[p];
    if (panel.curves.empty()) throw std::invalid_argument("accuracy_figure: panel '" + panel.title + "' has no curves");
    for (const AccuracyCurve& curve : panel.curves) {
      if (curve.channels.size() != curve.max_error.size()) {
        throw std::invalid_argument("accuracy_figure: curve '" + curve.label + "' has " +
                                    std::to_string(curve.channels.size()) + " channel counts and " +
                                    std::to_string(curve.max_error.size()) + " errors");
      }
      for (std::size_t i = 0; i < curve.channels.size(); ++i) {
        if (!drawable(curve, i)) continue;
        (own_axis(p) ? own_x[p] : channels_x).add(curve.channels[i]);
        y.add(curve.max_error[i]);
      }
    }
  }
  std::ostringstream script;
  script.precision(12);
  for (std::size_t p = 0; p < panels.size(); ++p)
    for (std::size_t c = 0; c < panels[p].curves.size(); ++c) {
      const AccuracyCurve& curve = panels[p].curves[c];
      script << "$p" << p << "c" << c << " << EOD\n";
      bool drawn = false;
      for (std::size_t i = 0; i < curve.channels.size(); ++i) {
        if (!drawable(curve, i)) continue;
        script << curve.channels[i] << " " << curve.max_error[i] << "\n";
        drawn = true;
      }
      // An empty datablock makes gnuplot warn ("no valid points"): a point outside the range stands in.
      const Range& x = own_axis(p) ? own_x[p] : channels_x;
      if (!drawn) script << x.low << " NaN\n";
      script << "EOD\n";
    }
  // Panels side by side; four or more in two rows. Shared y range (whole powers around the data), so the
  // panels compare at a glance.
  const std::size_t rows = panels.size() >= 4 ? 2 : 1;
  const std::size_t columns = (panels.size() + rows - 1) / rows;
  script << "set multiplot layout " << rows << "," << columns << " title " << gnuplot_quote(title) << "\n"
         << "set logscale xy\nset grid\nset key top left\n"
         << "set yrange [" << y.low / 2 << ":" << y.high * 2 << "]\n"
         << "set ylabel 'max |error| / sum|w x|, in u'\n"
         << "set format y '%g'\n";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const AccuracyPanel& panel = panels[p];
    const AccuracyAxis* axis = own_axis(p) ? &style.axes.at(p) : nullptr;
    const Range& x = axis ? own_x[p] : channels_x;
    script << "set xrange [" << x.low / 1.5 << ":" << x.high * 1.5 << "]\n"
           << "set xlabel " << gnuplot_quote(axis ? axis->label : "channels C = F") << "\n";
    if (!axis || axis->tics.empty()) {
      script << "set xtics autofreq\n";
    } else {
      script << "set xtics (";
      for (std::size_t t = 0; t < axis->tics.size(); ++t) {
        script << (t ? ", " : "") << gnuplot_quote(axis->tics[t].first) << " " << axis->tics[t].second;
      }
      script << ")\n";
    }
    script << "set title " << gnuplot_quote(panel.title) << "\nplot ";
    for (std::size_t c = 0; c < panel.curves.size(); ++c) {
      const AccuracyCurve& curve = panel.curves[c];
      script << (c ? ", " : "") << "$p" << p << "c" << c << " using 1:2 with linespoints pointsize 0.8 linewidth 2";
      if (style.dashed.count(curve.label)) script << " dashtype 2";
      if (const auto color = style.colors.find(curve.label); color != style.colors.end()) {
        script << " linecolor rgb \"" << color->second << "\"";
      }
      script << " title " << gnuplot_quote(curve.label);
    }
    script << "\n";
  }
  script << "unset multiplot\n";
  const int width = std::max(700, 560 * int(columns));
  RenderOptions options{{width, 560 * int(rows), 11}, {}, {}};
  // A curve with no drawable point (every error zero) is a NaN point: gnuplot says so and draws nothing.
  options.allowed_warnings.push_back("Skipping data file with no valid points");
  return {script.str(), options};
}

void plot_accuracy(const std::vector<AccuracyPanel>& panels, const std::string& title, const std::filesystem::path& out,
                   const AccuracyStyle& style) {
  render_png(accuracy_figure(panels, title, style), out);
}

}  // namespace convlab::plots
