// The animations' window walk: every output reads the input cells the convolution formula names, and the
// transposed walk (the input gradient) is exactly the forward walk read backwards, padding left out.
#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>
#include <tuple>

#include "plots/window_walk.hpp"

using convlab::Index;
using convlab::plots::WindowWalkGeometry;
using convlab::plots::window_walk;

namespace {

WindowWalkGeometry geometry(Index rows, Index cols, Index window_rows, Index window_cols, Index stride, Index padding,
                            Index dilation) {
  WindowWalkGeometry g;
  g.input_rows = rows;
  g.input_cols = cols;
  g.window_rows = window_rows;
  g.window_cols = window_cols;
  g.stride = stride;
  g.padding = padding;
  g.dilation = dilation;
  return g;
}

}  // namespace

TEST_CASE("the forward walk reads input (o*s + k*d - p) for every output and tap", "[plots][walk]") {
  for (const WindowWalkGeometry& g : {geometry(5, 5, 3, 3, 2, 1, 1), geometry(6, 7, 2, 3, 1, 0, 2),
                                      geometry(4, 4, 4, 4, 1, 0, 1), geometry(7, 5, 3, 2, 3, 2, 1)}) {
    const auto frames = window_walk(g);
    REQUIRE(Index(frames.size()) == g.output_rows() * g.output_cols());
    for (std::size_t f = 0; f < frames.size(); ++f) {
      CHECK(frames[f].row == Index(f) / g.output_cols());
      CHECK(frames[f].col == Index(f) % g.output_cols());
      REQUIRE(Index(frames[f].terms.size()) == g.window_rows * g.window_cols);
      for (const auto& term : frames[f].terms) {
        CHECK(term.row == frames[f].row * g.stride + term.tap_row * g.dilation - g.padding);
        CHECK(term.col == frames[f].col * g.stride + term.tap_col * g.dilation - g.padding);
        CHECK(term.row >= -g.padding);
        CHECK(term.row < g.input_rows + g.padding);
      }
    }
  }
  CHECK(geometry(5, 5, 3, 3, 2, 1, 1).output_rows() == 3);
}

TEST_CASE("the transposed walk is the forward walk read backwards, without the padding", "[plots][walk]") {
  for (WindowWalkGeometry g : {geometry(5, 5, 3, 3, 2, 1, 1), geometry(6, 7, 2, 3, 1, 0, 2),
                               geometry(7, 5, 3, 2, 3, 2, 1), geometry(8, 8, 2, 2, 3, 0, 1)}) {
    using Link = std::tuple<Index, Index, Index, Index, Index, Index>;  // input cell, output cell, tap
    std::set<Link> forward, transposed;
    for (const auto& frame : window_walk(g))
      for (const auto& term : frame.terms)
        if (term.row >= 0 && term.col >= 0 && term.row < g.input_rows && term.col < g.input_cols)
          forward.insert({term.row, term.col, frame.row, frame.col, term.tap_row, term.tap_col});
    g.transposed = true;
    const auto frames = window_walk(g);
    REQUIRE(Index(frames.size()) == g.input_rows * g.input_cols);
    for (const auto& frame : frames)
      for (const auto& term : frame.terms)
        transposed.insert({frame.row, frame.col, term.row, term.col, term.tap_row, term.tap_col});
    CHECK(transposed == forward);
  }
  // Stride 3 with a 2 x 2 window skips a row and a column of every three: those input cells get no term.
  WindowWalkGeometry gaps = geometry(8, 8, 2, 2, 3, 0, 1);
  gaps.transposed = true;
  CHECK(window_walk(gaps)[2].terms.empty());
}

TEST_CASE("the window walk refuses geometries that do not fit", "[plots][walk]") {
  CHECK_THROWS_AS(window_walk(geometry(5, 5, 7, 7, 1, 0, 1)), std::invalid_argument);
  CHECK_THROWS_AS(window_walk(geometry(5, 5, 3, 3, 1, 0, 3)), std::invalid_argument);  // reaches over 7
  CHECK_THROWS_AS(window_walk(geometry(5, 5, 3, 3, 0, 0, 1)), std::invalid_argument);
  CHECK_THROWS_AS(window_walk(geometry(5, 5, 3, 3, 1, -1, 1)), std::invalid_argument);
  CHECK_NOTHROW(window_walk(geometry(5, 5, 7, 7, 1, 1, 1)));  // the padded input is 7 x 7
}
