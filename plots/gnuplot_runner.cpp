// render_png: pipe a script to gnuplot, judge the run by its stderr, and publish the PNG atomically.
#include "plots/gnuplot_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#if CONVLAB_WITH_GNUPLOT
#include <gnuplot-iostream.h>
#endif
#include <sstream>
#include <system_error>

namespace convlab::plots {

bool gnuplot_built() { return CONVLAB_WITH_GNUPLOT; }

namespace {

#if CONVLAB_WITH_GNUPLOT
// A file created with mkstemp and removed when the object goes out of scope (unless released).
class TemporaryFile {
 public:
  explicit TemporaryFile(const std::filesystem::path& pattern_prefix) {
    std::string pattern = pattern_prefix.string() + "XXXXXX";
    const int descriptor = ::mkstemp(pattern.data());
    if (descriptor < 0) {
      throw GnuplotError("cannot create a temporary file " + pattern + ": " + std::strerror(errno));
    }
    ::close(descriptor);
    path_ = pattern;
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  const std::filesystem::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// While alive, writing to a pipe whose reader has gone (gnuplot missing or crashed) fails with EPIPE
// instead of killing the process with SIGPIPE; the run is then judged by the messages it left.
class IgnoreBrokenPipe {
 public:
  IgnoreBrokenPipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &previous_);
  }
  IgnoreBrokenPipe(const IgnoreBrokenPipe&) = delete;
  IgnoreBrokenPipe& operator=(const IgnoreBrokenPipe&) = delete;
  ~IgnoreBrokenPipe() { ::sigaction(SIGPIPE, &previous_, nullptr); }

 private:
  struct sigaction previous_ {};
};

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += "'\\''";
    else quoted += c;
  }
  return quoted + "'";
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// gnuplot's stderr minus blank lines and allowed warnings; empty means the run was clean.
std::string unexpected_messages(const std::string& stderr_text, const std::vector<std::string>& allowed,
                                const std::vector<std::string>& notes) {
  std::istringstream lines(stderr_text);
  std::string line, kept;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool is_allowed = false;
    if (line.find("warning:") != std::string::npos) {
      for (const std::string& warning : allowed) is_allowed = is_allowed || line.find(warning) != std::string::npos;
    }
    for (const std::string& note : notes) is_allowed = is_allowed || line.find(note) != std::string::npos;
    if (!is_allowed) kept += line + "\n";
  }
  return kept;
}

// gnuplot points at the offending token with a line of spaces and a caret; squeeze runs of spaces so the
// one-line message stays readable.
std::string one_line(const std::string& text) {
  std::string line;
  for (char c : text) {
    const char shown = c == '\n' ? ' ' : c;
    if (shown == ' ' && (line.empty() || line.back() == ' ')) continue;
    line += shown;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}
#endif

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') quoted += '\\';
    if (c == '\n') quoted += "\\n";
    else quoted += c;
  }
  return quoted + "\"";
}

bool is_png_file(const std::filesystem::path& path) {
  static constexpr std::array<unsigned char, 8> kSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::ifstream file(path, std::ios::binary);
  std::array<char, 8> head{};
  if (!file.read(head.data(), head.size())) return false;
  return std::memcmp(head.data(), kSignature.data(), kSignature.size()) == 0;
}

bool is_gif_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::array<char, 6> head{};
  if (!file.read(head.data(), head.size())) return false;
  return std::memcmp(head.data(), "GIF89a", 6) == 0 || std::memcmp(head.data(), "GIF87a", 6) == 0;
}

namespace {

// Draws `script` under `terminal` into a temporary file beside `png_path`, checks it with `is_valid`
// (`kind` names the format in the error) and renames it into place.
void render(const std::string& script, const std::filesystem::path& png_path, const RenderOptions& options,
            const std::string& terminal, bool (*is_valid)(const std::filesystem::path&), const char* kind) {
  if (png_path.empty()) throw GnuplotError("no output path given for the figure");
#if !CONVLAB_WITH_GNUPLOT
  (void)script, (void)options, (void)terminal, (void)is_valid;
  throw GnuplotError(png_path.string() + ": not drawn: this convlab was built without figures (CMake option " +
                     "CONVLAB_BUILD_PLOTS=OFF); for " + kind + " output, install gnuplot-iostream and Boost " +
                     "(bash scripts/install.sh) and build with -DCONVLAB_BUILD_PLOTS=ON");
#else
  const std::filesystem::path target = std::filesystem::absolute(png_path);
  std::error_code error;
  std::filesystem::create_directories(target.parent_path(), error);
  if (error) {
    throw GnuplotError(png_path.string() + ": cannot create directory " + target.parent_path().string() + ": " +
                       error.message());
  }
  // Beside the target so the final rename stays on one file system (and is atomic).
  TemporaryFile partial_png(target.parent_path() / ("." + target.filename().string() + ".partial-"));
  TemporaryFile gnuplot_stderr(std::filesystem::temp_directory_path() / "convlab-gnuplot-stderr-");

  // The shell records a failing exit status in the same file as the messages, so nothing is lost and
  // gnuplot-iostream's pclose sees success (it would otherwise print its own complaint on our stderr).
  const std::string command = "gnuplot 2>" + shell_quote(gnuplot_stderr.path().string()) +
                              " || echo \"gnuplot exited with status $?\" >>" +
                              shell_quote(gnuplot_stderr.path().string());
  {
    const IgnoreBrokenPipe keep_running;
    Gnuplot gnuplot(command);
    gnuplot << terminal << "\n"
            << "set output " << gnuplot_quote(partial_png.path().string()) << "\n"
            << script << "\n"
            << "set output\n"
            << "exit\n";
  }  // the destructor flushes and waits for gnuplot to finish

  const std::string messages = unexpected_messages(read_text(gnuplot_stderr.path()), options.allowed_warnings,
                                                     options.allowed_notes);
  if (!messages.empty()) throw GnuplotError(png_path.string() + ": gnuplot: " + one_line(messages));
  if (!is_valid(partial_png.path())) {
    throw GnuplotError(png_path.string() + ": gnuplot reported no error but wrote no " + kind + " image");
  }
  // mkstemp made the file private (0600); a figure is meant to be read by others.
  using std::filesystem::perms;
  std::filesystem::permissions(partial_png.path(), perms::owner_read | perms::owner_write | perms::group_read |
                                                       perms::others_read, error);
  std::filesystem::rename(partial_png.path(), target, error);
  if (error) throw GnuplotError(png_path.string() + ": cannot move the finished figure into place: " + error.message());
  partial_png.release();
#endif
}

}  // namespace

void render_png(const std::string& script, const std::filesystem::path& png_path, const RenderOptions& options) {
  const std::string terminal = "set terminal pngcairo noenhanced size " + std::to_string(options.canvas.width) + "," +
                               std::to_string(options.canvas.height) + " font 'sans," +
                               std::to_string(options.canvas.font_size) + "'";
  render(script, png_path, options, terminal, is_png_file, "PNG");
}

void render_png(const FigureScript& figure, const std::filesystem::path& png_path) {
  render_png(figure.script, png_path, figure.options);
}

void render_animated_gif(const std::string& script, const std::filesystem::path& gif_path,
                         const RenderOptions& options, int frame_delay_centiseconds) {
  const std::string terminal = "set terminal gif animate delay " + std::to_string(frame_delay_centiseconds) +
                               " loop 0 noenhanced size " + std::to_string(options.canvas.width) + "," +
                               std::to_string(options.canvas.height) + " font 'sans," +
                               std::to_string(options.canvas.font_size) + "'";
  render(script, gif_path, options, terminal, is_gif_file, "GIF");
}

}  // namespace convlab::plots
