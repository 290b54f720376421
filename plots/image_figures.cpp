// Scripts for the image-like figures; all pixel data travels as gnuplot datablocks (plots/raster.hpp).
#include "plots/image_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

namespace {

constexpr const char* kGreyPalette = "set palette grey\n";
constexpr const char* kDivergingPalette =
    "set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 1 '#b2182b')\n";  // blue - white - red
// Tiles are separated by NaN pixels, which gnuplot leaves unpainted and warns about.
const std::vector<std::string> kGapWarning = {"matrix contains missing or undefined values"};

// Axis ranges that put pixel (0, 0) in the top-left corner with square pixels.
std::string image_axes(const Raster& raster) {
  std::ostringstream text;
  text << "set size ratio -1\n"
       << "set xrange [-0.5:" << double(raster.cols) - 0.5 << "]\n"
       << "set yrange [" << double(raster.rows) - 0.5 << ":-0.5]\n";  // reversed: row 0 on top
  return text.str();
}

std::string colour_range(ValueRange range) {
  if (!(range.low < range.high)) throw std::invalid_argument("colour range must have low < high");
  std::ostringstream text;
  text.precision(9);
  text << "set cbrange [" << range.low << ":" << range.high << "]\n";
  return text.str();
}

// A symmetric range around zero that holds every value (and is never empty).
ValueRange symmetric_range(double max_abs) {
  const double half = max_abs > 0.0 ? max_abs : 1.0;
  return {-half, half};
}

std::vector<Raster> window_tiles(const StridedView<const double, 4>& windows) {
  std::vector<Raster> tiles;
  tiles.reserve(std::size_t(windows.shape(0) * windows.shape(1)));
  for (Index row = 0; row < windows.shape(0); ++row) {
    for (Index col = 0; col < windows.shape(1); ++col) tiles.emplace_back(windows.slice(0, row).slice(0, col));
  }
  return tiles;
}

std::string window_grid_script(const Raster& grid, Index windows_per_row, Index window_cols, ValueRange range,
                               const std::string& title, const char* palette) {
  std::ostringstream script;
  script << matrix_datablock("grid", grid) << palette << colour_range(range) << image_axes(grid)
         << "set title " << gnuplot_quote(title) << "\n"
         << "unset xtics\nunset ytics\n"
         << "set xlabel " << gnuplot_quote("window column (" + std::to_string(windows_per_row) + " windows of " +
                                           std::to_string(window_cols) + " pixels)") << "\n"
         << "set ylabel 'window row'\n"
         << "plot $grid matrix with image notitle\n";
  return script.str();
}

void require_windows(const StridedView<const double, 4>& windows) {
  if (windows.size() == 0) throw std::invalid_argument("no windows to draw");
}

}  // namespace

FigureScript digit_figure(const Raster& image, const std::string& title, ValueRange range) {
  if (image.values.empty()) throw std::invalid_argument("plot_digit: empty image");
  std::ostringstream script;
  script << matrix_datablock("digit", image) << kGreyPalette << colour_range(range) << image_axes(image)
         << "set title " << gnuplot_quote(title) << "\n"
         << "set xlabel 'column (pixel)'\nset ylabel 'row (pixel)'\nset cblabel 'pixel value'\n"
         << "plot $digit matrix with image notitle\n";
  return {script.str(), {{640, 560, 11}, {}, {}}};
}

void plot_digit(const Raster& image, const std::string& title, const std::filesystem::path& out, ValueRange range) {
  render_png(digit_figure(image, title, range), out);
}

FigureScript windows_figure(const StridedView<const double, 4>& windows, ValueRange range, const std::string& title) {
  require_windows(windows);
  const Raster grid = mosaic(window_tiles(windows), windows.shape(1));
  return {window_grid_script(grid, windows.shape(1), windows.shape(3), range, title, kGreyPalette),
          {{860, 800, 11}, kGapWarning, {}}};
}

void plot_windows(const StridedView<const double, 4>& windows, ValueRange range, const std::string& title,
                  const std::filesystem::path& out) {
  render_png(windows_figure(windows, range, title), out);
}

FigureScript response_figure(const Raster& response, const std::string& title) {
  if (response.values.empty()) throw std::invalid_argument("plot_response: empty response");
  std::ostringstream script;
  script << matrix_datablock("response", response) << kDivergingPalette << colour_range({-1.0, 1.0})
         << image_axes(response) << "set title " << gnuplot_quote(title) << "\n"
         << "set xlabel 'window column'\nset ylabel 'window row'\nset cblabel 'response'\n"
         << "plot $response matrix with image notitle\n";
  return {script.str(), {{680, 600, 11}, {}, {}}};
}

void plot_response(const Raster& response, const std::string& title, const std::filesystem::path& out) {
  render_png(response_figure(response, title), out);
}

FigureScript weighted_windows_figure(const StridedView<const double, 4>& windows, const Raster& response,
                                     const std::string& title) {
  require_windows(windows);
  if (response.rows != windows.shape(0) || response.cols != windows.shape(1)) {
    throw std::invalid_argument("plot_weighted_windows: response of " + std::to_string(response.rows) + " x " +
                                std::to_string(response.cols) + " does not match the " +
                                std::to_string(windows.shape(0)) + " x " + std::to_string(windows.shape(1)) +
                                " windows");
  }
  std::vector<Raster> tiles = window_tiles(windows);
  for (std::size_t index = 0; index < tiles.size(); ++index) {
    for (double& value : tiles[index].values) value *= response.values[index];
  }
  const Raster grid = mosaic(tiles, windows.shape(1));
  return {window_grid_script(grid, windows.shape(1), windows.shape(3), symmetric_range(grid.max_abs()), title,
                             kDivergingPalette),
          {{860, 800, 11}, kGapWarning, {}}};
}

void plot_weighted_windows(const StridedView<const double, 4>& windows, const Raster& response,
                           const std::string& title, const std::filesystem::path& out) {
  render_png(weighted_windows_figure(windows, response, title), out);
}

FigureScript filters_figure(const std::vector<Raster>& filters, const std::string& title) {
  if (filters.empty()) throw std::invalid_argument("plot_filters: no filters");
  const Index columns = Index(std::ceil(std::sqrt(double(filters.size()))));
  const Raster grid = mosaic(filters, columns);
  double largest = 0.0;
  for (const Raster& filter : filters) largest = std::max(largest, filter.max_abs());
  std::ostringstream script;
  script << matrix_datablock("filters", grid) << kDivergingPalette << colour_range(symmetric_range(largest))
         << image_axes(grid) << "set title " << gnuplot_quote(title) << "\n"
         << "unset xtics\nunset ytics\nset cblabel 'weight'\n";
  // Number each filter just above its top-left corner.
  for (std::size_t index = 0; index < filters.size(); ++index) {
    const Index top = Index(index) / columns * (filters.front().rows + 1);
    const Index left = Index(index) % columns * (filters.front().cols + 1);
    script << "set label " << index + 1 << " '" << index << "' at " << double(left) - 0.4 << ","
           << double(top) - 0.1 << " front font 'sans,8' textcolor rgb '#333333'\n";
  }
  script << "plot $filters matrix with image notitle\n";
  return {script.str(), {{760, 700, 11}, kGapWarning, {}}};
}

void plot_filters(const std::vector<Raster>& filters, const std::string& title, const std::filesystem::path& out) {
  render_png(filters_figure(filters, title), out);
}

FigureScript feature_maps_figure(const Raster& image, const std::vector<Raster>& filters,
                                 const std::vector<Raster>& maps, const std::string& title) {
  if (filters.empty() || filters.size() != maps.size()) {
    throw std::invalid_argument("plot_feature_maps: need one feature map per filter, got " +
                                std::to_string(filters.size()) + " filters and " + std::to_string(maps.size()) +
                                " maps");
  }
  if (image.values.empty()) throw std::invalid_argument("plot_feature_maps: empty image");
  double filter_max = 0.0, map_max = 0.0;
  for (const Raster& filter : filters) filter_max = std::max(filter_max, filter.max_abs());
  for (const Raster& map : maps) map_max = std::max(map_max, map.max_abs());

  // Layout in screen fractions: a band for the title and digit, then pairs (filter, map) in a grid.
  const std::size_t pair_columns = 4;
  const std::size_t pair_rows = (filters.size() + pair_columns - 1) / pair_columns;
  const double top_band = 0.30;
  const double cell_height = (1.0 - top_band) / double(pair_rows);
  const double pair_width = 1.0 / double(pair_columns);

  std::ostringstream script;
  script << "set multiplot title " << gnuplot_quote(title) << "\n"
         << "unset xtics\nunset ytics\nunset colorbox\nset margins 0.5,0.5,0.5,1.5\n"
         << matrix_datablock("digit", image) << kGreyPalette << colour_range({0.0, std::max(1.0, image.max_abs())})
         << "set size ratio -1 0.30,0.24\nset origin 0.35,0.71\n"
         << "set xrange [-0.5:" << double(image.cols) - 0.5 << "]\nset yrange [" << double(image.rows) - 0.5
         << ":-0.5]\nset title 'input'\nplot $digit matrix with image notitle\n"
         << kDivergingPalette;
  for (std::size_t index = 0; index < filters.size(); ++index) {
    const double x = double(index % pair_columns) * pair_width;
    const double y = 1.0 - top_band - double(index / pair_columns + 1) * cell_height;
    const std::string filter_block = "filter" + std::to_string(index), map_block = "map" + std::to_string(index);
    script << matrix_datablock(filter_block, filters[index]) << matrix_datablock(map_block, maps[index])
           << colour_range(symmetric_range(filter_max)) << "set size ratio -1 " << pair_width * 0.42 << ","
           << cell_height << "\nset origin " << x + pair_width * 0.04 << "," << y << "\n"
           << "set xrange [-0.5:" << double(filters[index].cols) - 0.5 << "]\nset yrange ["
           << double(filters[index].rows) - 0.5 << ":-0.5]\nset title 'filter " << index << "'\n"
           << "plot $" << filter_block << " matrix with image notitle\n"
           << colour_range(symmetric_range(map_max)) << "set size ratio -1 " << pair_width * 0.5 << ","
           << cell_height << "\nset origin " << x + pair_width * 0.46 << "," << y << "\n"
           << "set xrange [-0.5:" << double(maps[index].cols) - 0.5 << "]\nset yrange ["
           << double(maps[index].rows) - 0.5 << ":-0.5]\nset title 'map " << index << "'\n"
           << "plot $" << map_block << " matrix with image notitle\n";
  }
  script << "unset multiplot\n";
  return {script.str(), {{1100, 300 + 200 * int(pair_rows), 10}, {}, {}}};
}

void plot_feature_maps(const Raster& image, const std::vector<Raster>& filters, const std::vector<Raster>& maps,
                       const std::string& title, const std::filesystem::path& out) {
  render_png(feature_maps_figure(image, filters, maps, title), out);
}

FigureScript confusion_figure(const std::vector<std::vector<std::size_t>>& counts,
                              const std::vector<std::string>& class_names, const std::string& title) {
  const std::size_t classes = counts.size();
  if (classes == 0) throw std::invalid_argument("plot_confusion: empty confusion matrix");
  for (const auto& row : counts) {
    if (row.size() != classes) throw std::invalid_argument("plot_confusion: confusion matrix is not square");
  }
  if (!class_names.empty() && class_names.size() != classes) {
    throw std::invalid_argument("plot_confusion: " + std::to_string(class_names.size()) + " class names for " +
                                std::to_string(classes) + " classes");
  }
  Raster percent{Index(classes), Index(classes)};
  std::size_t total = 0, correct = 0;
  std::ostringstream labels;
  labels << "$labels << EOD\n";
  for (std::size_t truth = 0; truth < classes; ++truth) {
    std::size_t row_total = 0;
    for (std::size_t count : counts[truth]) row_total += count;
    total += row_total;
    correct += counts[truth][truth];
    for (std::size_t predicted = 0; predicted < classes; ++predicted) {
      const double share = row_total ? 100.0 * double(counts[truth][predicted]) / double(row_total) : 0.0;
      percent.at(Index(truth), Index(predicted)) = share;
      char cell[64];
      std::snprintf(cell, sizeof cell, "%zu %zu \"%.1f\" %d\n", predicted, truth, share, share > 50.0 ? 1 : 0);
      labels << cell;
    }
  }
  labels << "EOD\n";
  std::ostringstream tics;
  for (std::size_t index = 0; index < classes; ++index) {
    const std::string name = class_names.empty() ? std::to_string(index) : class_names[index];
    tics << (index ? ", " : "") << gnuplot_quote(name) << " " << index;
  }
  char accuracy[96];
  std::snprintf(accuracy, sizeof accuracy, ": %zu examples, %.2f %% correct", total,
                total ? 100.0 * double(correct) / double(total) : 0.0);
  std::ostringstream script;
  script << matrix_datablock("percent", percent) << labels.str()
         << "set palette defined (0 '#ffffff', 1 '#6baed6', 2 '#08306b')\n" << colour_range({0.0, 100.0})
         << image_axes(percent) << "set title " << gnuplot_quote(title + accuracy) << "\n"
         << "set xtics (" << tics.str() << ") scale 0\nset ytics (" << tics.str() << ") scale 0\n"
         << "set xlabel 'predicted class'\nset ylabel 'true class'\nset cblabel '% of the true class'\n"
         << "plot $percent matrix with image notitle, "
         << "$labels using 1:($4 == 0 ? $2 : NaN):3 with labels font 'sans,9' textcolor rgb 'black' notitle, "
         << "$labels using 1:($4 == 1 ? $2 : NaN):3 with labels font 'sans,9' textcolor rgb 'white' notitle\n";
  return {script.str(), {{780, 700, 11}, {}, {}}};
}

void plot_confusion(const std::vector<std::vector<std::size_t>>& counts, const std::vector<std::string>& class_names,
                    const std::string& title, const std::filesystem::path& out) {
  render_png(confusion_figure(counts, class_names, title), out);
}

}  // namespace convlab::plots
