// The plotting library: every figure writes a real PNG of the size it asks for from small synthetic data,
// each figure's script carries exactly the data it should draw (its datablocks, read back here), gnuplot's
// errors become exceptions, and a failed figure leaves no file behind.
#include <catch2/catch.hpp>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "common/tensor/strided_view.hpp"
#include "plots/accuracy_figures.hpp"
#include "plots/bench_figures.hpp"
#include "plots/curve_figures.hpp"
#include "plots/gnuplot_runner.hpp"
#include "plots/image_figures.hpp"
#include "plots/raster.hpp"

namespace fs = std::filesystem;
using convlab::Index;
using convlab::StridedView;
using namespace convlab::plots;

namespace {

// A fresh directory per test case, removed afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "convlab-test-plots-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) FAIL("cannot create a scratch directory");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  std::size_t entries() const { return std::size_t(std::distance(fs::directory_iterator(path_), fs::directory_iterator())); }

 private:
  fs::path path_;
};

struct PngSize {
  std::uint32_t width = 0, height = 0;
};

// Width and height from the PNG's IHDR chunk, the first after the signature: big-endian at bytes 16-23.
PngSize png_size(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::array<unsigned char, 24> head{};
  REQUIRE(bool(file.read(reinterpret_cast<char*>(head.data()), head.size())));
  REQUIRE(std::string(head.begin() + 12, head.begin() + 16) == "IHDR");
  auto big_endian = [&](std::size_t at) {
    return std::uint32_t(head[at]) << 24 | std::uint32_t(head[at + 1]) << 16 | std::uint32_t(head[at + 2]) << 8 |
           std::uint32_t(head[at + 3]);
  };
  return {big_endian(16), big_endian(20)};
}

void require_png(const fs::path& path) {
  REQUIRE(fs::exists(path));
  CHECK(is_png_file(path));
  CHECK(fs::file_size(path) > 2000);  // a blank canvas alone is smaller than any of our figures
}

// A PNG of the canvas the figure asked gnuplot for.
void require_png(const fs::path& path, PngCanvas canvas) {
  require_png(path);
  const PngSize size = png_size(path);
  CHECK(size.width == std::uint32_t(canvas.width));
  CHECK(size.height == std::uint32_t(canvas.height));
}

// The rows of datablock $name ("$name << EOD" ... "EOD") in a figure's script, split at blanks; blank
// lines (segment breaks) left out.
std::vector<std::vector<std::string>> datablock_rows(const std::string& script, const std::string& name) {
  const std::string start = "$" + name + " << EOD\n";
  const auto begin = script.find(start);
  INFO("datablock $" << name);
  REQUIRE(begin != std::string::npos);
  REQUIRE(script.find(start, begin + 1) == std::string::npos);  // defined once
  std::istringstream lines(script.substr(begin + start.size()));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(lines, line) && line != "EOD") {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string word; words >> word;) row.push_back(word);
    if (!row.empty()) rows.push_back(row);
  }
  REQUIRE(line == "EOD");
  return rows;
}

std::vector<std::vector<double>> numeric_rows(const std::string& script, const std::string& name) {
  std::vector<std::vector<double>> rows;
  for (const auto& words : datablock_rows(script, name)) {
    std::vector<double> row;
    for (const std::string& word : words) row.push_back(std::stod(word));  // "NaN" reads as NaN
    rows.push_back(row);
  }
  return rows;
}

// Datablock $name holds `expected`'s pixels, row by row, to the 9 digits they are written with.
void check_matrix(const std::string& script, const std::string& name, const Raster& expected) {
  const auto rows = numeric_rows(script, name);
  INFO("matrix $" << name);
  REQUIRE(rows.size() == std::size_t(expected.rows));
  for (Index row = 0; row < expected.rows; ++row) {
    REQUIRE(rows[std::size_t(row)].size() == std::size_t(expected.cols));
    for (Index col = 0; col < expected.cols; ++col) {
      INFO("pixel " << row << ", " << col);
      const double want = expected.at(row, col), got = rows[std::size_t(row)][std::size_t(col)];
      if (std::isnan(want)) CHECK(std::isnan(got));
      else CHECK(got == Approx(want).epsilon(1e-8).margin(1e-12));
    }
  }
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

Raster ramp(Index rows, Index cols) {
  Raster raster(rows, cols);
  for (Index row = 0; row < rows; ++row) {
    for (Index col = 0; col < cols; ++col) raster.at(row, col) = double(row * cols + col) / double(rows * cols);
  }
  return raster;
}

}  // namespace

TEST_CASE("render_png writes a PNG and nothing else", "[plots][gnuplot]") {
  ScratchDir dir;
  render_png("plot sin(x) title 'sin'", dir / "sine.png");
  require_png(dir / "sine.png");
  CHECK(dir.entries() == 1);  // no partial file left beside it
}

TEST_CASE("a gnuplot error becomes a GnuplotError and leaves no file", "[plots][gnuplot]") {
  ScratchDir dir;
  CHECK_THROWS_AS(render_png("plot sin(x) with lines bogus_option", dir / "bad.png"), GnuplotError);
  CHECK_THROWS_WITH(render_png("undefined_command 1 2 3", dir / "bad.png"), Catch::Contains("gnuplot"));
  CHECK_FALSE(fs::exists(dir / "bad.png"));
  CHECK(dir.entries() == 0);
}

TEST_CASE("a failed figure keeps the previous file at that path", "[plots][gnuplot]") {
  ScratchDir dir;
  render_png("plot x", dir / "kept.png");
  const auto size = fs::file_size(dir / "kept.png");
  CHECK_THROWS_AS(render_png("plot x with nonsense", dir / "kept.png"), GnuplotError);
  CHECK(fs::file_size(dir / "kept.png") == size);
  CHECK(dir.entries() == 1);
}

TEST_CASE("a warning is an error unless the caller allows it", "[plots][gnuplot]") {
  ScratchDir dir;
  const std::string script = "$m << EOD\n1 NaN\n2 3\nEOD\nplot $m matrix with image";
  CHECK_THROWS_AS(render_png(script, dir / "gap.png"), GnuplotError);
  render_png(script, dir / "gap.png", {{}, {"matrix contains missing or undefined values"}, {}});
  require_png(dir / "gap.png");
}

// Only in a build without figures (CONVLAB_BUILD_PLOTS=OFF; tests/CMakeLists.txt picks the tag).
TEST_CASE("built without figures: asking for one names the output and the option, and writes nothing",
          "[plots][no_gnuplot]") {
  CHECK_FALSE(gnuplot_built());
  ScratchDir dir;
  CHECK_THROWS_WITH(render_png("plot x", dir / "x.png"),
                    Catch::Contains("x.png: not drawn") && Catch::Contains("CONVLAB_BUILD_PLOTS=OFF"));
  CHECK_THROWS_AS(plot_confusion({{1, 0}, {0, 1}}, {"a", "b"}, "confusion", dir / "c.png"), GnuplotError);
  CHECK(dir.entries() == 0);
}

TEST_CASE("gnuplot_quote keeps quotes, backslashes and line breaks", "[plots]") {
  CHECK(gnuplot_quote("it's") == "\"it's\"");
  CHECK(gnuplot_quote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
}

TEST_CASE("mosaic places tiles with NaN gaps", "[plots]") {
  const Raster tile = ramp(2, 3);
  const Raster grid = mosaic({tile, tile, tile}, 2);
  CHECK(grid.rows == 5);
  CHECK(grid.cols == 7);
  CHECK(grid.at(0, 4) == tile.at(0, 0));
  CHECK(std::isnan(grid.at(0, 3)));
  CHECK(grid.at(3, 2) == tile.at(0, 2));
  CHECK(std::isnan(grid.at(3, 4)));  // the empty fourth slot
  CHECK_THROWS_AS(mosaic({tile, ramp(3, 3)}, 2), std::invalid_argument);
}

TEST_CASE("image figures write PNGs", "[plots][gnuplot]") {
  ScratchDir dir;
  const Raster digit = ramp(12, 12);
  plot_digit(digit, "synthetic digit", dir / "digit.png");
  require_png(dir / "digit.png", {640, 560});

  // 4 x 4 windows of 6 x 6 over the 12 x 12 image, stride 2, as the lecture's view builds them.
  const StridedView<const double, 3> image(std::span<const double>(digit.values), {1, 12, 12});
  const auto windows = convlab::sliding_windows(image, {6, 6}, {2, 2}).slice(0, 0);
  plot_windows(windows, {0.0, 1.0}, "windows", dir / "windows.png");
  require_png(dir / "windows.png", {860, 800});

  Raster response(4, 4);
  for (Index i = 0; i < 16; ++i) response.values[std::size_t(i)] = std::tanh(double(i - 8) / 4.0);
  plot_response(response, "response", dir / "response.png");
  require_png(dir / "response.png", {680, 600});
  plot_weighted_windows(windows, response, "weighted", dir / "weighted.png");
  require_png(dir / "weighted.png", {860, 800});
  CHECK_THROWS_AS(plot_weighted_windows(windows, Raster(3, 4), "bad", dir / "bad.png"), std::invalid_argument);

  std::vector<Raster> filters(6, ramp(5, 5)), maps(6, ramp(8, 8));
  filters[1].values.assign(25, -0.5);
  plot_filters(filters, "filters", dir / "filters.png");
  require_png(dir / "filters.png", {760, 700});
  plot_feature_maps(digit, filters, maps, "feature maps", dir / "maps.png");
  require_png(dir / "maps.png", {1100, 700});  // 6 filters: two rows of pairs, 300 + 2 x 200 pixels
  CHECK_THROWS_AS(plot_feature_maps(digit, filters, {}, "bad", dir / "bad.png"), std::invalid_argument);

  plot_confusion({{8, 2, 0}, {1, 9, 0}, {0, 0, 10}}, {"a", "b", "c"}, "confusion", dir / "confusion.png");
  require_png(dir / "confusion.png", {780, 700});
  CHECK_THROWS_AS(plot_confusion({{1, 2}, {3}}, {}, "bad", dir / "bad.png"), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir / "bad.png"));
}

TEST_CASE("training curves from history CSVs", "[plots][gnuplot]") {
  ScratchDir dir;
  std::ofstream(dir / "naive.csv") << "iteration,error,seconds\n0,2.3,0\n1,1.2,0.5\n2,0.7,1.0\n";
  std::ofstream(dir / "im2col.csv") << "iteration,error,seconds\n0,2.3,0\n1,1.1,0.1\n2,0.6,0.2\n";
  const TrainingCurve naive = read_history_csv(dir / "naive.csv");
  CHECK(naive.label == "naive");
  CHECK(naive.x_name == "iteration");
  CHECK(naive.error == std::vector<double>{2.3, 1.2, 0.7});
  plot_training_curves({naive, read_history_csv(dir / "im2col.csv")}, "two runs", dir / "curves.png");
  require_png(dir / "curves.png", {900, 900});

  std::ofstream(dir / "broken.csv") << "iteration,error\n0,2.3\n1,oops\n";
  CHECK_THROWS_WITH(read_history_csv(dir / "broken.csv"), Catch::Contains("line 3"));
  std::ofstream(dir / "nocolumn.csv") << "when,what\n0,1\n";
  CHECK_THROWS_WITH(read_history_csv(dir / "nocolumn.csv"), Catch::Contains("no iteration/epoch/step column"));
  TrainingCurve epochs = naive;
  epochs.x_name = "epoch";
  CHECK_THROWS_AS(plot_training_curves({naive, epochs}, "mixed", dir / "mixed.png"), std::invalid_argument);
}

TEST_CASE("benchmark charts from Google Benchmark JSON", "[plots][gnuplot]") {
  ScratchDir dir;
  std::ofstream(dir / "run.json") << R"({
    "context": {"host_name": "testhost", "num_cpus": 2, "mhz_per_cpu": 3000},
    "benchmarks": [
      {"name": "peak/fma/float/threads:1/real_time", "run_name": "peak/fma/float/threads:1/real_time",
       "run_type": "iteration", "GFLOPS": 100.0},
      {"name": "peak/memory/read/threads:1/real_time", "run_type": "iteration", "GBps": 20.0},
      {"name": "peak/memory/copy/threads:1/real_time", "run_type": "iteration", "GBps": 10.0},
      {"name": "conv/naive/forward/lecture1/float/batch:64/threads:1/real_time", "run_type": "iteration",
       "GFLOPS": 1.5, "arithmetic_intensity": 8.0},
      {"name": "conv/naive/forward/lecture1/float/batch:64/threads:1/real_time", "run_type": "iteration",
       "GFLOPS": 2.5, "arithmetic_intensity": 8.0},
      {"name": "conv/naive/forward/lecture1/float/batch:64/threads:1/real_time", "run_type": "iteration",
       "GFLOPS": 2.0, "arithmetic_intensity": 8.0},
      {"name": "conv/im2col/forward/lecture1/float/batch:64/threads:1/real_time", "run_type": "iteration",
       "GFLOPS": 30.0, "arithmetic_intensity": 8.0},
      {"name": "conv/im2col/backward_input/lecture1/float/batch:64/threads:1/real_time", "run_type": "iteration",
       "GFLOPS": 20.0, "arithmetic_intensity": 6.0},
      {"name": "conv/broken/forward/lecture1/float/batch:64/threads:1", "error_occurred": true}
    ]})";
  const BenchRun run = read_benchmark_json({dir / "run.json"});
  REQUIRE(run.conv.size() == 3);
  CHECK(run.conv[0].impl == "naive");
  CHECK(run.conv[0].gflops == 2.0);  // the median of the repetitions
  CHECK(run.conv[0].batch == 64);
  CHECK(run.fma_peak.at("float").at(1).value == 100.0);
  CHECK(run.bandwidth.at(1).value == 20.0);  // read preferred over copy
  CHECK(run.machine.find("testhost") != std::string::npos);

  plot_bench_bars(run, {}, dir / "bars.png");
  require_png(dir / "bars.png", {900, 620});
  plot_roofline(run, {}, dir / "roofline.png");
  require_png(dir / "roofline.png", {1000, 760});
  CHECK_THROWS_AS(plot_bench_bars(run, {"forward", "double", {}}, dir / "none.png"), std::invalid_argument);

  std::ofstream(dir / "not.json") << "{\"something\": 1}";
  CHECK_THROWS_WITH(read_benchmark_json({dir / "not.json"}), Catch::Contains("no \"benchmarks\" array"));
}

// What each figure draws: its script's datablocks and canvas, from the functions the plot_ functions draw.

TEST_CASE("training curve figure: every epoch's x and error in its curve's datablock", "[plots]") {
  TrainingCurve long_run{"long", "epoch", {}, {}};
  for (int epoch = 1; epoch <= 25; ++epoch) {
    long_run.x.push_back(epoch);
    long_run.error.push_back(2.0 / 3.0 + 1.0 / double(epoch * epoch + 7));  // digits beyond the 6 of a default stream
  }
  const TrainingCurve short_run{"short", "epoch", {1, 2, 3}, {2.5, 1.25, 0.625}};
  const FigureScript figure = training_curves_figure({long_run, short_run}, "two runs");
  CHECK(figure.options.canvas.width == 900);
  CHECK(figure.options.canvas.height == 900);
  const auto points = numeric_rows(figure.script, "curve0");
  REQUIRE(points.size() == long_run.x.size());
  for (std::size_t epoch = 0; epoch < points.size(); ++epoch) {
    INFO("epoch " << long_run.x[epoch]);
    REQUIRE(points[epoch].size() == 2);
    CHECK(points[epoch][0] == long_run.x[epoch]);
    CHECK(points[epoch][1] == Approx(long_run.error[epoch]).epsilon(1e-11));
  }
  CHECK(numeric_rows(figure.script, "curve1") == std::vector<std::vector<double>>{{1, 2.5}, {2, 1.25}, {3, 0.625}});
  // Both panels draw both curves: the error (column 2) and the likelihood exp(-error), each named.
  CHECK(occurrences(figure.script, "$curve0 using 1:2 ") == 1);
  CHECK(occurrences(figure.script, "$curve1 using 1:2 ") == 1);
  CHECK(occurrences(figure.script, "$curve0 using 1:(exp(-$2))") == 1);
  CHECK(occurrences(figure.script, "$curve1 using 1:(exp(-$2))") == 1);
  CHECK(occurrences(figure.script, "title \"long\"") == 2);
  CHECK(occurrences(figure.script, "title \"short\"") == 2);
  CHECK(contains(figure.script, "set xlabel \"epoch\""));

  // One epoch: its one point, on axes ranged around it (gnuplot cannot range a single value).
  const FigureScript one = training_curves_figure({{"one", "epoch", {1}, {0.5}}}, "one point");
  CHECK(numeric_rows(one.script, "curve0") == std::vector<std::vector<double>>{{1, 0.5}});
  const auto x_range = one.script.find("set xrange [");
  REQUIRE(x_range != std::string::npos);
  std::size_t used = 0;
  const std::string bounds = one.script.substr(x_range + 12);
  CHECK(std::stod(bounds, &used) == Approx(0.9));
  CHECK(std::stod(bounds.substr(used + 1)) == Approx(1.1));
}

TEST_CASE("accuracy figure: each implementation's max error against C, per window panel, zeros left out", "[plots]") {
  const std::vector<AccuracyPanel> panels = {
      {"3x3 windows",
       {{"naive", {1, 16, 64}, {0.5, 2.25, 7.125}}, {"winograd4", {1, 16, 64}, {3.0, 0.0, 40.5}}}},
      {"5x5 windows", {{"naive", {1, 16, 64}, {0.75, 3.5, 9.0}}}}};
  const FigureScript figure = accuracy_figure(panels, "float32 forward, uniform inputs");
  CHECK(numeric_rows(figure.script, "p0c0") == std::vector<std::vector<double>>{{1, 0.5}, {16, 2.25}, {64, 7.125}});
  // An exact result (error 0) has no place on a log axis: its point is left out, the others kept.
  CHECK(numeric_rows(figure.script, "p0c1") == std::vector<std::vector<double>>{{1, 3.0}, {64, 40.5}});
  CHECK(numeric_rows(figure.script, "p1c0") == std::vector<std::vector<double>>{{1, 0.75}, {16, 3.5}, {64, 9.0}});
  CHECK(occurrences(figure.script, "$p0c0 using 1:2 ") == 1);
  CHECK(occurrences(figure.script, "$p0c1 using 1:2 ") == 1);
  CHECK(occurrences(figure.script, "$p1c0 using 1:2 ") == 1);
  CHECK(occurrences(figure.script, "title \"naive\"") == 2);
  CHECK(contains(figure.script, "title \"winograd4\""));
  CHECK(contains(figure.script, "set multiplot layout 1,2"));
  CHECK(contains(figure.script, "set logscale xy"));
  CHECK(figure.options.canvas.width == 1120);
  CHECK(figure.options.canvas.height == 560);
  CHECK_THROWS_AS(accuracy_figure({}, "none"), std::invalid_argument);
  CHECK_THROWS_AS(accuracy_figure({{"bad", {{"x", {1, 2}, {1}}}}}, "bad"), std::invalid_argument);

  if (gnuplot_built()) {  // drawn too, where this build draws figures
    ScratchDir dir;
    plot_accuracy(panels, "float32 forward, uniform inputs", dir / "accuracy.png");
    require_png(dir / "accuracy.png", figure.options.canvas);
  }
}

TEST_CASE("digit figure: the image's pixels, row 0 on top, on the grey range asked for", "[plots]") {
  Raster digit(3, 5);  // not square: a transposed image has the wrong shape
  for (Index row = 0; row < 3; ++row) {
    for (Index col = 0; col < 5; ++col) digit.at(row, col) = double(row) * 0.25 + double(col) * 0.01 + 1.0 / 7.0;
  }
  const FigureScript figure = digit_figure(digit, "a digit", {0.0, 2.0});
  check_matrix(figure.script, "digit", digit);
  CHECK(contains(figure.script, "set xrange [-0.5:4.5]"));
  CHECK(contains(figure.script, "set yrange [2.5:-0.5]"));  // reversed: row 0 on top
  CHECK(contains(figure.script, "set cbrange [0:2]"));
  CHECK(contains(figure.script, "plot $digit matrix with image"));
  CHECK(figure.options.canvas.width == 640);
  CHECK(figure.options.canvas.height == 560);
}

TEST_CASE("filters figure: every filter's weights in one mosaic on a symmetric range", "[plots]") {
  std::vector<Raster> filters;
  for (int index = 0; index < 5; ++index) {
    Raster filter(2, 3);
    for (Index pixel = 0; pixel < 6; ++pixel) filter.values[std::size_t(pixel)] = (index - 2) * 0.1 + pixel * 0.013;
    filters.push_back(filter);
  }
  filters[3].at(1, 2) = -0.75;  // the largest magnitude, negative
  const FigureScript figure = filters_figure(filters, "filters");
  // 5 filters: ceil(sqrt(5)) = 3 per row, 2 rows; one NaN pixel between tiles.
  Raster expected(2 * 2 + 1, 3 * 3 + 2, std::nan(""));
  for (std::size_t index = 0; index < filters.size(); ++index) {
    const Index top = Index(index / 3) * 3, left = Index(index % 3) * 4;
    for (Index row = 0; row < 2; ++row) {
      for (Index col = 0; col < 3; ++col) expected.at(top + row, left + col) = filters[index].at(row, col);
    }
  }
  check_matrix(figure.script, "filters", expected);
  CHECK(contains(figure.script, "set cbrange [-0.75:0.75]"));
  CHECK(occurrences(figure.script, "set label ") == filters.size());
  CHECK(contains(figure.script, "set label 5 '4' at "));
  CHECK(figure.options.canvas.width == 760);
  CHECK(figure.options.canvas.height == 700);
}

TEST_CASE("feature maps figure: the digit, each filter and its map", "[plots]") {
  const Raster digit = ramp(6, 7);
  std::vector<Raster> filters, maps;
  for (int index = 0; index < 5; ++index) {
    filters.push_back(ramp(3, 2));
    filters.back().values[0] = -double(index);
    maps.push_back(ramp(4, 6));
    maps.back().values[5] = 10.0 + index;
  }
  const FigureScript figure = feature_maps_figure(digit, filters, maps, "maps");
  check_matrix(figure.script, "digit", digit);
  for (std::size_t index = 0; index < filters.size(); ++index) {
    check_matrix(figure.script, "filter" + std::to_string(index), filters[index]);
    check_matrix(figure.script, "map" + std::to_string(index), maps[index]);
    CHECK(contains(figure.script, "plot $filter" + std::to_string(index) + " matrix with image"));
    CHECK(contains(figure.script, "plot $map" + std::to_string(index) + " matrix with image"));
  }
  CHECK(contains(figure.script, "set cbrange [-4:4]"));    // the filters' range: max |w| = 4
  CHECK(contains(figure.script, "set cbrange [-14:14]"));  // the maps' range
  CHECK(figure.options.canvas.width == 1100);
  CHECK(figure.options.canvas.height == 300 + 200 * 2);  // 5 pairs: two rows of 4
}

TEST_CASE("confusion figure: each row's percentages, the labels and the accuracy", "[plots]") {
  const FigureScript figure =
      confusion_figure({{8, 2, 0, 0}, {1, 9, 0, 0}, {0, 0, 10, 0}, {0, 0, 0, 0}}, {}, "confusion");
  Raster percent(4, 4);
  const double shares[4][4] = {{80, 20, 0, 0}, {10, 90, 0, 0}, {0, 0, 100, 0}, {0, 0, 0, 0}};
  for (Index truth = 0; truth < 4; ++truth) {
    for (Index predicted = 0; predicted < 4; ++predicted) percent.at(truth, predicted) = shares[truth][predicted];
  }
  check_matrix(figure.script, "percent", percent);  // rows: the true class, columns: the predicted
  const auto labels = datablock_rows(figure.script, "labels");
  REQUIRE(labels.size() == 16);
  CHECK(labels[1] == std::vector<std::string>{"1", "0", "\"20.0\"", "0"});   // x = predicted, y = true class
  CHECK(labels[5] == std::vector<std::string>{"1", "1", "\"90.0\"", "1"});   // white text on a dark cell
  CHECK(labels[4] == std::vector<std::string>{"0", "1", "\"10.0\"", "0"});
  CHECK(contains(figure.script, "confusion: 30 examples, 90.00 % correct"));
  CHECK(contains(figure.script, "set xtics (\"0\" 0, \"1\" 1, \"2\" 2, \"3\" 3)"));
  CHECK(figure.options.canvas.width == 780);
  CHECK(figure.options.canvas.height == 700);
}

TEST_CASE("windows figures: each window, and each window times its response", "[plots]") {
  const Raster digit = ramp(6, 6);
  const StridedView<const double, 3> image(std::span<const double>(digit.values), {1, 6, 6});
  const auto windows = convlab::sliding_windows(image, {3, 3}, {3, 3}).slice(0, 0);  // 2 x 2 windows
  Raster response(2, 2);
  response.values = {0.5, -1.0, 0.25, 2.0};
  Raster expected(7, 7, std::nan("")), weighted(7, 7, std::nan(""));
  for (Index grid_row = 0; grid_row < 2; ++grid_row) {
    for (Index grid_col = 0; grid_col < 2; ++grid_col) {
      for (Index row = 0; row < 3; ++row) {
        for (Index col = 0; col < 3; ++col) {
          const double pixel = digit.at(3 * grid_row + row, 3 * grid_col + col);
          expected.at(4 * grid_row + row, 4 * grid_col + col) = pixel;
          weighted.at(4 * grid_row + row, 4 * grid_col + col) = pixel * response.at(grid_row, grid_col);
        }
      }
    }
  }
  const FigureScript plain = windows_figure(windows, {0.0, 1.0}, "windows");
  check_matrix(plain.script, "grid", expected);
  CHECK(contains(plain.script, "set cbrange [0:1]"));
  const FigureScript product = weighted_windows_figure(windows, response, "weighted");
  check_matrix(product.script, "grid", weighted);
  const double largest = weighted.max_abs();
  std::ostringstream range;
  range.precision(9);
  range << "set cbrange [" << -largest << ":" << largest << "]";
  CHECK(contains(product.script, range.str()));
  const FigureScript map = response_figure(response, "response");
  check_matrix(map.script, "response", response);
  CHECK(contains(map.script, "set cbrange [-1:1]"));
}

TEST_CASE("bench and roofline figures: the points of the JSON's results", "[plots]") {
  ScratchDir dir;
  std::ofstream(dir / "run.json") << R"({
    "benchmarks": [
      {"name": "peak/fma/float/threads:1", "run_type": "iteration", "GFLOPS": 100.0},
      {"name": "peak/memory/read/threads:1", "run_type": "iteration", "GBps": 20.0},
      {"name": "conv/naive/forward/lecture1/float/batch:64/threads:1", "GFLOPS": 2.0, "arithmetic_intensity": 8.0},
      {"name": "conv/im2col/forward/lecture1/float/batch:64/threads:1", "GFLOPS": 30.0, "arithmetic_intensity": 8.0},
      {"name": "conv/naive/forward/lecture2/float/batch:32/threads:1", "GFLOPS": 3.0, "arithmetic_intensity": 12.5},
      {"name": "conv/im2col/forward/lecture2/float/batch:32/threads:1", "GFLOPS": 45.0, "arithmetic_intensity": 12.5},
      {"name": "conv/im2col/backward_input/lecture1/float/batch:64/threads:1", "GFLOPS": 20.0,
       "arithmetic_intensity": 6.0},
      {"name": "conv/im2col/forward/lecture1/double/batch:64/threads:1", "GFLOPS": 15.0, "arithmetic_intensity": 4.0}
    ]})";
  const BenchRun run = read_benchmark_json({dir / "run.json"});

  // Bars: the forward float cases; two implementations share each case's 0.8 wide group, 0.4 a bar.
  const FigureScript bars = bench_bars_figure(run, {});
  CHECK(numeric_rows(bars.script, "impl0") == std::vector<std::vector<double>>{{-0.2, 2.0}, {0.8, 3.0}});
  CHECK(numeric_rows(bars.script, "impl1") == std::vector<std::vector<double>>{{0.2, 30.0}, {1.2, 45.0}});
  CHECK(contains(bars.script, "$impl0 using 1:2 with boxes title \"naive\""));
  CHECK(contains(bars.script, "$impl1 using 1:2 with boxes title \"im2col\""));
  CHECK(numeric_rows(bars.script, "peak0") ==
        std::vector<std::vector<double>>{{-0.48, 100}, {0.48, 100}, {0.52, 100}, {1.48, 100}});
  CHECK(contains(bars.script, "\"lecture1\\nN=64 T=1\" 0, \"lecture2\\nN=32 T=1\" 1"));
  CHECK(bars.options.canvas.width == 900);
  CHECK(bars.options.canvas.height == 620);
  const FigureScript doubles = bench_bars_figure(run, {"forward", "double", {}});
  CHECK(numeric_rows(doubles.script, "impl0") == std::vector<std::vector<double>>{{0.0, 15.0}});

  // Roofline: every float pass, as (intensity, GFLOP/s, marker of the pass), under the measured limits.
  const FigureScript roofline = roofline_figure(run, {});
  CHECK(numeric_rows(roofline.script, "impl0") == std::vector<std::vector<double>>{{8.0, 2.0, 7}, {12.5, 3.0, 7}});
  CHECK(numeric_rows(roofline.script, "impl1") ==
        std::vector<std::vector<double>>{{8.0, 30.0, 7}, {12.5, 45.0, 7}, {6.0, 20.0, 4}});
  CHECK(contains(roofline.script, "peak = 100\nbandwidth = 20\n"));
  CHECK(roofline.options.canvas.width == 1000);
  CHECK(roofline.options.canvas.height == 760);
}
