// The one place convlab talks to gnuplot: a script in, a checked PNG (or animated GIF) out, or an exception.
//
// gnuplot reports its errors on stderr and carries on (a bad line does not stop the script, and its exit
// status is easy to lose through a pipe), so a run is judged by what it printed: gnuplot's stderr goes to
// a temporary file, and any line of it that is not an explicitly allowed warning becomes a GnuplotError.
// The PNG is drawn under a temporary name beside the destination, checked (it exists, starts with the PNG
// signature) and only then renamed into place, so an error never leaves a half-written figure behind.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace convlab::plots {

class GnuplotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PngCanvas {
  int width = 800, height = 600;   // pixels
  int font_size = 11;              // points, sans
};

struct RenderOptions {
  PngCanvas canvas;
  // Substrings of gnuplot warnings the caller expects and accepts, e.g. "matrix contains missing or
  // undefined values" when NaN pixels are used as gaps between tiles. Everything else on stderr is an error.
  std::vector<std::string> allowed_warnings;
  // Substrings of lines gnuplot prints that are not warnings but notes, e.g. the gif terminal's
  // "9 frames in animation sequence".
  std::vector<std::string> allowed_notes;
};

// A figure before it is drawn: the gnuplot script (all its data inline, as datablocks) and the canvas it
// asks for. Each figure is built by a pure function returning one (e.g. training_curves_figure), which the
// tests read, and drawn by a plot_ function through render_png below.
struct FigureScript {
  std::string script;
  RenderOptions options;
};

// Runs `script` (gnuplot commands without `set terminal` / `set output`, which this function adds) and
// writes the figure to `png_path`, creating its parent directory if needed. Throws GnuplotError naming the
// output and quoting gnuplot's message when gnuplot reports an error or produces no valid PNG.
void render_png(const std::string& script, const std::filesystem::path& png_path, const RenderOptions& options = {});
void render_png(const FigureScript& figure, const std::filesystem::path& png_path);

// The same for an animated GIF (gnuplot's gif terminal): every multiplot or plot of `script` is one frame,
// shown for `frame_delay_centiseconds`; the animation loops.
void render_animated_gif(const std::string& script, const std::filesystem::path& gif_path,
                         const RenderOptions& options, int frame_delay_centiseconds);

// Whether this build draws figures (CMake option CONVLAB_BUILD_PLOTS). When not, render_png and
// render_animated_gif throw a GnuplotError that names the output and the option.
bool gnuplot_built();

// True when the file exists and starts with the 8-byte PNG signature.
bool is_png_file(const std::filesystem::path& path);
// True when the file exists and starts with a GIF signature.
bool is_gif_file(const std::filesystem::path& path);

// A gnuplot string literal holding `text` exactly (double quotes, backslash escapes; '\n' breaks the line).
std::string gnuplot_quote(const std::string& text);

}  // namespace convlab::plots
