// The window-walk animation: one gnuplot multiplot (two panels drawn from rectangles and labels) per frame.
#include "plots/animation_figures.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {
namespace {

constexpr const char* kPlainCell = "#ffffff";
constexpr const char* kPaddingCell = "#d9d9d9";
constexpr const char* kReadCell = "#6baed6";
constexpr const char* kReadPaddingCell = "#c6dbef";
constexpr const char* kDoneCell = "#fdd0a2";
constexpr const char* kCurrentCell = "#fd8d3c";

struct Cell {
  const char* colour = kPlainCell;
  std::string label;
};

// One panel: a grid whose rows run first_row .. first_row + rows - 1 (row 0 on top), cells coloured and
// labelled; axes numbered with the cells' indices.
void draw_panel(std::ostringstream& script, const std::string& title, Index first_row, Index rows, Index first_col,
                Index cols, const std::map<std::pair<Index, Index>, Cell>& cells, int& object_number) {
  script << "set title " << gnuplot_quote(title) << "\n"
         << "set size ratio -1\n"
         << "set xrange [" << first_col - 0.5 << ":" << first_col + cols - 0.5 << "]\n"
         << "set yrange [" << first_row + rows - 0.5 << ":" << first_row - 0.5 << "]\n"
         << "set xtics 1 scale 0 font ',8'\nset ytics 1 scale 0 font ',8'\nset xlabel 'column'\nset ylabel 'row'\n";
  for (Index r = first_row; r < first_row + rows; ++r)
    for (Index c = first_col; c < first_col + cols; ++c) {
      const auto found = cells.find({r, c});
      const Cell cell = found == cells.end() ? Cell{} : found->second;
      script << "set object " << ++object_number << " rect from " << c - 0.5 << "," << r - 0.5 << " to " << c + 0.5
             << "," << r + 0.5 << " fc rgb '" << cell.colour << "' fs solid 1.0 border lc rgb '#737373'\n";
      if (!cell.label.empty()) {
        script << "set label " << object_number << " " << gnuplot_quote(cell.label) << " at " << c << "," << r
               << " center front font ',8'\n";
      }
    }
  script << "plot NaN notitle\nunset object\nunset label\n";
}

std::string size_text(Index rows, Index cols) { return std::to_string(rows) + " x " + std::to_string(cols); }

std::string tap_text(const WalkTerm& term) {
  std::string text = "w";  // built up in place: gcc 12 warns (-Wrestrict) wrongly about "w" + std::string
  text += std::to_string(term.tap_row);
  text += ',';
  text += std::to_string(term.tap_col);
  return text;
}

}  // namespace

void animate_window_walk(const WindowWalkGeometry& g, const std::filesystem::path& gif_path,
                         int frame_delay_centiseconds) {
  const std::vector<WalkFrame> frames = window_walk(g);  // validates
  if (Index(frames.size()) > kMaxAnimationFrames) {
    throw std::invalid_argument("the animation would have " + std::to_string(frames.size()) + " frames (one per " +
                                (g.transposed ? "input" : "output") + " cell); at most " +
                                std::to_string(kMaxAnimationFrames) + ": choose a smaller input");
  }
  if (frame_delay_centiseconds < 1) throw std::invalid_argument("the frame delay must be at least 1 centisecond");
  const Index out_rows = g.output_rows(), out_cols = g.output_cols(), p = g.padding;
  const std::string geometry = "input " + size_text(g.input_rows, g.input_cols) + ", window " +
                               size_text(g.window_rows, g.window_cols) + ", stride " + std::to_string(g.stride) +
                               ", padding " + std::to_string(p) + ", dilation " + std::to_string(g.dilation) +
                               " -> output " + size_text(out_rows, out_cols);
  std::ostringstream script;
  script << "unset key\nset border lc rgb '#737373'\n";
  int object_number = 0;
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const WalkFrame& frame = frames[f];
    std::map<std::pair<Index, Index>, Cell> input_cells, output_cells;
    std::string caption;
    if (!g.transposed) {
      for (Index r = -p; r < g.input_rows + p; ++r)
        for (Index c = -p; c < g.input_cols + p; ++c)
          if (r < 0 || c < 0 || r >= g.input_rows || c >= g.input_cols) input_cells[{r, c}] = Cell{kPaddingCell, ""};
      Index padding_terms = 0;
      for (const WalkTerm& term : frame.terms) {
        const bool padding = term.row < 0 || term.col < 0 || term.row >= g.input_rows || term.col >= g.input_cols;
        padding_terms += padding;
        input_cells[{term.row, term.col}] = Cell{padding ? kReadPaddingCell : kReadCell, tap_text(term)};
      }
      for (std::size_t done = 0; done < f; ++done) output_cells[{frames[done].row, frames[done].col}] = Cell{kDoneCell, ""};
      output_cells[{frame.row, frame.col}] = Cell{kCurrentCell, "y"};
      caption = "output (" + std::to_string(frame.row) + ", " + std::to_string(frame.col) + ") = sum of " +
                std::to_string(frame.terms.size()) + " products w[ky,kx] x input" +
                (padding_terms ? " (" + std::to_string(padding_terms) + " of them padding zeros)" : "");
      script << "set multiplot layout 1,2 title " << gnuplot_quote("convolution\n" + geometry + "\n" + caption) << "\n";
      draw_panel(script, "input (grey: padding)", -p, g.input_rows + 2 * p, -p, g.input_cols + 2 * p, input_cells,
                 object_number);
      draw_panel(script, "output", 0, out_rows, 0, out_cols, output_cells, object_number);
    } else {
      for (const WalkTerm& term : frame.terms) output_cells[{term.row, term.col}] = Cell{kReadCell, tap_text(term)};
      for (std::size_t done = 0; done < f; ++done) input_cells[{frames[done].row, frames[done].col}] = Cell{kDoneCell, ""};
      input_cells[{frame.row, frame.col}] = Cell{kCurrentCell, "dx"};
      caption = frame.terms.empty()
                    ? "input gradient (" + std::to_string(frame.row) + ", " + std::to_string(frame.col) +
                          ") = 0: no window covered this input cell"
                    : "input gradient (" + std::to_string(frame.row) + ", " + std::to_string(frame.col) + ") = sum of " +
                          std::to_string(frame.terms.size()) + " products w[ky,kx] x output gradient";
      script << "set multiplot layout 1,2 title "
             << gnuplot_quote("input gradient (a transposed convolution) of\n" + geometry + "\n" + caption) << "\n";
      draw_panel(script, "output gradient dy", 0, out_rows, 0, out_cols, output_cells, object_number);
      draw_panel(script, "input gradient dx", 0, g.input_rows, 0, g.input_cols, input_cells, object_number);
    }
    script << "unset multiplot\n";
  }
  RenderOptions options;
  options.allowed_notes.push_back("frames in animation sequence");  // the gif terminal's count of frames
  const Index widest = std::max(g.input_cols + 2 * p, out_cols), tallest = std::max(g.input_rows + 2 * p, out_rows);
  options.canvas.width = int(std::clamp<Index>(2 * 48 * widest + 160, 820, 1600));
  options.canvas.height = int(std::clamp<Index>(48 * tallest + 240, 460, 1040));
  render_animated_gif(script.str(), gif_path, options, frame_delay_centiseconds);
}

}  // namespace convlab::plots
