// Raster construction, tiling and its gnuplot datablock form.
#include "plots/raster.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace convlab::plots {

Raster::Raster(Index rows_, Index cols_, double fill) : rows(rows_), cols(cols_) {
  if (rows < 0 || cols < 0) throw std::invalid_argument("raster shape must not be negative");
  values.assign(std::size_t(rows * cols), fill);
}

Raster::Raster(Index rows_, Index cols_, std::span<const double> row_major) : Raster(rows_, cols_) {
  if (Index(row_major.size()) != rows * cols) {
    throw std::invalid_argument("raster of " + std::to_string(rows) + " x " + std::to_string(cols) + " given " +
                                std::to_string(row_major.size()) + " values");
  }
  std::copy(row_major.begin(), row_major.end(), values.begin());
}

Raster::Raster(const StridedView<const double, 2>& view) : Raster(view.shape(0), view.shape(1)) {
  for (Index row = 0; row < rows; ++row) {
    for (Index col = 0; col < cols; ++col) at(row, col) = view(row, col);
  }
}

double Raster::max_abs() const {
  double largest = 0.0;
  for (double value : values) {
    if (!std::isnan(value)) largest = std::max(largest, std::abs(value));
  }
  return largest;
}

Raster mosaic(const std::vector<Raster>& tiles, Index columns, Index gap) {
  if (tiles.empty()) throw std::invalid_argument("mosaic of no tiles");
  if (columns <= 0 || gap < 0) throw std::invalid_argument("mosaic needs positive columns and a non-negative gap");
  const Index tile_rows = tiles.front().rows, tile_cols = tiles.front().cols;
  for (const Raster& tile : tiles) {
    if (tile.rows != tile_rows || tile.cols != tile_cols) throw std::invalid_argument("mosaic tiles differ in shape");
  }
  columns = std::min(columns, Index(tiles.size()));
  const Index grid_rows = (Index(tiles.size()) + columns - 1) / columns;
  Raster out(grid_rows * (tile_rows + gap) - gap, columns * (tile_cols + gap) - gap, std::nan(""));
  for (std::size_t index = 0; index < tiles.size(); ++index) {
    const Index top = Index(index) / columns * (tile_rows + gap);
    const Index left = Index(index) % columns * (tile_cols + gap);
    for (Index row = 0; row < tile_rows; ++row) {
      for (Index col = 0; col < tile_cols; ++col) out.at(top + row, left + col) = tiles[index].at(row, col);
    }
  }
  return out;
}

std::string matrix_datablock(const std::string& name, const Raster& raster) {
  std::string text = "$" + name + " << EOD\n";
  char number[32];
  for (Index row = 0; row < raster.rows; ++row) {
    for (Index col = 0; col < raster.cols; ++col) {
      const double value = raster.at(row, col);
      if (std::isnan(value)) std::snprintf(number, sizeof number, "%sNaN", col ? " " : "");
      else std::snprintf(number, sizeof number, "%s%.9g", col ? " " : "", value);
      text += number;
    }
    text += "\n";
  }
  return text + "EOD\n";
}

}  // namespace convlab::plots
