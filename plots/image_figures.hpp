// Image-like figures: a digit, its grid of windows, a detector's response map, the windows weighted by that
// response, learned filters, filters beside their feature maps, and a confusion matrix.
//
// Every plot_ function writes one PNG through render_png (errors: GnuplotError; bad arguments:
// std::invalid_argument) and draws row 0 on top, as the arrays are printed; the _figure function of the same
// name builds its script (the pixels as matrix datablocks, plots/raster.hpp) and canvas without drawing.
// Colour ranges are fixed per figure, never per tile: a constant window must look like its value, not like
// the tile's own min..max (stretching each tile separately is what turned the lecture's constant patches
// all black).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "common/tensor/strided_view.hpp"
#include "plots/gnuplot_runner.hpp"
#include "plots/raster.hpp"

namespace convlab::plots {

struct ValueRange {
  double low = 0.0, high = 1.0;
};

// A grey image (black = range.low, white = range.high), pixel coordinates on the axes.
// Datablock $digit: the image.
FigureScript digit_figure(const Raster& image, const std::string& title, ValueRange range = {0.0, 1.0});
void plot_digit(const Raster& image, const std::string& title, const std::filesystem::path& out,
                ValueRange range = {0.0, 1.0});

// windows: (grid rows, grid cols, window rows, window cols), e.g. one image's slice of sliding_windows().
// All windows share the one grey range `range`.
// Datablock $grid: the windows as a mosaic, a row of the grid per window row.
FigureScript windows_figure(const StridedView<const double, 4>& windows, ValueRange range, const std::string& title);
void plot_windows(const StridedView<const double, 4>& windows, ValueRange range, const std::string& title,
                  const std::filesystem::path& out);

// A map of values in [-1, 1] (a tanh response), blue negative, white zero, red positive.
// Datablock $response: the map.
FigureScript response_figure(const Raster& response, const std::string& title);
void plot_response(const Raster& response, const std::string& title, const std::filesystem::path& out);

// Each window multiplied by its response (response.rows x response.cols must equal the window grid), on one
// symmetric range: where the detector fires the window keeps its ink (red), where it opposes it turns blue.
// Datablock $grid: the mosaic of the weighted windows.
FigureScript weighted_windows_figure(const StridedView<const double, 4>& windows, const Raster& response,
                                     const std::string& title);
void plot_weighted_windows(const StridedView<const double, 4>& windows, const Raster& response,
                           const std::string& title, const std::filesystem::path& out);

// Filters (all the same shape) as a numbered grid on one symmetric range +-max|w|.
// Datablock $filters: the mosaic of the filters, ceil(sqrt(count)) per row.
FigureScript filters_figure(const std::vector<Raster>& filters, const std::string& title);
void plot_filters(const std::vector<Raster>& filters, const std::string& title, const std::filesystem::path& out);

// The input digit on top; below it each filter beside its feature map (maps[i] is filter i's output).
// Filters share one symmetric range, maps another.
// Datablocks $digit, and $filter<i> and $map<i> per filter.
FigureScript feature_maps_figure(const Raster& image, const std::vector<Raster>& filters,
                                 const std::vector<Raster>& maps, const std::string& title);
void plot_feature_maps(const Raster& image, const std::vector<Raster>& filters, const std::vector<Raster>& maps,
                       const std::string& title, const std::filesystem::path& out);

// counts[true][predicted]; cells coloured and labelled by the percentage of their row (the true class),
// so the diagonal reads as per-class recall. class_names may be empty (then 0, 1, ...).
// Datablocks $percent (the matrix of row percentages) and $labels (rows "predicted true \"percent\" white").
FigureScript confusion_figure(const std::vector<std::vector<std::size_t>>& counts,
                              const std::vector<std::string>& class_names, const std::string& title);
void plot_confusion(const std::vector<std::vector<std::size_t>>& counts, const std::vector<std::string>& class_names,
                    const std::string& title, const std::filesystem::path& out);

}  // namespace convlab::plots
