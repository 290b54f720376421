// Raster: a rows x cols grid of values (row-major, row 0 drawn on top) - what every image-like figure
// draws - and the gnuplot text that carries one into a script as a named datablock.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "common/tensor/strided_view.hpp"

namespace convlab::plots {

struct Raster {
  Index rows = 0, cols = 0;
  std::vector<double> values;  // rows x cols, row-major; NaN is drawn as background (a gap)

  Raster() = default;
  Raster(Index rows, Index cols, double fill = 0.0);
  // Copies a row-major rows x cols array; throws std::invalid_argument when the sizes disagree.
  Raster(Index rows, Index cols, std::span<const double> row_major);
  explicit Raster(const StridedView<const double, 2>& view);

  double& at(Index row, Index col) { return values[std::size_t(row * cols + col)]; }
  double at(Index row, Index col) const { return values[std::size_t(row * cols + col)]; }
  double max_abs() const;  // ignores NaN; 0 for an empty raster
};

// Tiles placed left to right, top to bottom, `columns` per row, all of the first tile's size, separated by
// `gap` NaN pixels. Throws std::invalid_argument when tiles differ in shape or there are none.
Raster mosaic(const std::vector<Raster>& tiles, Index columns, Index gap = 1);

// "$name << EOD ... EOD": the raster as gnuplot matrix data (one line per row; NaN written as NaN).
std::string matrix_datablock(const std::string& name, const Raster& raster);

}  // namespace convlab::plots
