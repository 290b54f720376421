// Reading training histories and drawing their curves.
#include "plots/curve_figures.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream stream(line);
  while (std::getline(stream, cell, ',')) {
    const auto first = cell.find_first_not_of(" \t\r\"");
    const auto last = cell.find_last_not_of(" \t\r\"");
    cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  return cells;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

template <std::size_t Count>
std::size_t find_column(const std::vector<std::string>& header, const std::array<const char*, Count>& names,
                        const std::filesystem::path& path, const char* what) {
  for (const char* name : names) {
    for (std::size_t column = 0; column < header.size(); ++column) {
      if (lower(header[column]) == name) return column;
    }
  }
  std::string wanted;
  for (const char* name : names) wanted += std::string(wanted.empty() ? "" : ", ") + name;
  throw std::runtime_error(path.string() + ": line 1: no " + what + " column (looked for " + wanted + ")");
}

double parse_number(const std::string& cell, const std::filesystem::path& path, std::size_t line_number) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (cell.empty() || used != cell.size()) {
    throw std::runtime_error(path.string() + ": line " + std::to_string(line_number) + ": '" + cell +
                             "' is not a number");
  }
  return value;
}

std::string curve_datablock(const std::string& name, const TrainingCurve& curve) {
  std::ostringstream text;
  text.precision(12);
  text << "$" << name << " << EOD\n";
  for (std::size_t point = 0; point < curve.x.size(); ++point) text << curve.x[point] << " " << curve.error[point] << "\n";
  text << "EOD\n";
  return text.str();
}

// A few epochs read better with one tic per epoch than with gnuplot's 0.5 steps.
bool whole_numbered_x(const std::vector<TrainingCurve>& curves) {
  double largest = 0.0;
  for (const TrainingCurve& curve : curves) {
    for (double x : curve.x) {
      if (x != std::floor(x)) return false;
      largest = std::max(largest, std::abs(x));
    }
  }
  return largest <= 20.0;
}

}  // namespace

TrainingCurve read_history_csv(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error(path.string() + ": cannot open the history file");
  std::string line;
  if (!std::getline(file, line)) throw std::runtime_error(path.string() + ": empty history file");
  const std::vector<std::string> header = split_csv_line(line);
  const std::size_t x_column =
      find_column(header, std::array{"iteration", "epoch", "step"}, path, "iteration/epoch/step");
  const std::size_t error_column = find_column(
      header, std::array{"error", "train_error", "loss", "mean_batch_error", "batch_error"}, path, "error");
  TrainingCurve curve;
  curve.label = path.stem().string();
  curve.x_name = lower(header[x_column]);
  for (std::size_t line_number = 2; std::getline(file, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::vector<std::string> cells = split_csv_line(line);
    if (cells.size() <= std::max(x_column, error_column)) {
      throw std::runtime_error(path.string() + ": line " + std::to_string(line_number) + ": expected " +
                               std::to_string(header.size()) + " cells, found " + std::to_string(cells.size()));
    }
    curve.x.push_back(parse_number(cells[x_column], path, line_number));
    curve.error.push_back(parse_number(cells[error_column], path, line_number));
  }
  if (curve.x.empty()) throw std::runtime_error(path.string() + ": the history holds no rows");
  return curve;
}

namespace {
// gnuplot warns of an empty range (and convlab takes its warnings for errors) when every point of a plot has
// the same x or the same y, as a single epoch's curve does: such an axis gets a range around its value.
std::string axis_range(const char* axis, double lowest, double highest) {
  if (lowest != highest) return std::string("set ") + axis + "range [*:*]\n";
  const double pad = lowest == 0 ? 1.0 : std::abs(lowest) * 0.1;
  std::ostringstream text;
  text.precision(17);
  text << "set " << axis << "range [" << lowest - pad << ":" << highest + pad << "]\n";
  return text.str();
}
}  // namespace

FigureScript training_curves_figure(const std::vector<TrainingCurve>& curves, const std::string& title) {
  if (curves.empty()) throw std::invalid_argument("plot_training_curves: no curves");
  for (const TrainingCurve& curve : curves) {
    if (curve.x.empty() || curve.x.size() != curve.error.size()) {
      throw std::invalid_argument("plot_training_curves: curve '" + curve.label + "' has " +
                                  std::to_string(curve.x.size()) + " x values and " +
                                  std::to_string(curve.error.size()) + " errors");
    }
    if (curve.x_name != curves.front().x_name) {
      throw std::invalid_argument("plot_training_curves: cannot share an axis between '" + curves.front().x_name +
                                  "' and '" + curve.x_name + "'");
    }
  }
  double x_low = curves.front().x.front(), x_high = x_low;
  double error_low = curves.front().error.front(), error_high = error_low;
  for (const TrainingCurve& curve : curves) {
    for (double x : curve.x) x_low = std::min(x_low, x), x_high = std::max(x_high, x);
    for (double e : curve.error) error_low = std::min(error_low, e), error_high = std::max(error_high, e);
  }
  std::ostringstream script;
  for (std::size_t index = 0; index < curves.size(); ++index) {
    script << curve_datablock("curve" + std::to_string(index), curves[index]);
  }
  auto plot_all = [&](const char* y_expression) {
    script << "plot ";
    for (std::size_t index = 0; index < curves.size(); ++index) {
      script << (index ? ", " : "") << "$curve" << index << " using 1:" << y_expression << " with linespoints"
             << " pointsize 0.5 linewidth 2 title " << gnuplot_quote(curves[index].label);
    }
    script << "\n";
  };
  script << "set multiplot layout 2,1 title " << gnuplot_quote(title) << "\n"
         << "set grid\nset key top right\nset xlabel " << gnuplot_quote(curves.front().x_name) << "\n"
         << (whole_numbered_x(curves) ? "set xtics 1\n" : "")
         << axis_range("x", x_low, x_high) << axis_range("y", error_low, error_high)
         << "set ylabel 'error (training objective)'\nset title 'training error'\n";
  plot_all("2");
  script << axis_range("y", std::exp(-error_high), std::exp(-error_low))
         << "set ylabel 'likelihood exp(-error)'\nset title 'likelihood exp(-error)'\n"
         << "set key bottom right\n";
  plot_all("(exp(-$2))");
  script << "unset multiplot\n";
  return {script.str(), {{900, 900, 11}, {}, {}}};
}

void plot_training_curves(const std::vector<TrainingCurve>& curves, const std::string& title,
                          const std::filesystem::path& out) {
  render_png(training_curves_figure(curves, title), out);
}

}  // namespace convlab::plots
