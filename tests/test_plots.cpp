// The plotting library: every figure writes a real PNG from small synthetic data, gnuplot's errors become
// exceptions, and a failed figure leaves no file behind.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "common/strided_view.hpp"
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

void require_png(const fs::path& path) {
  REQUIRE(fs::exists(path));
  CHECK(is_png_file(path));
  CHECK(fs::file_size(path) > 2000);  // a blank canvas alone is smaller than any of our figures
}

Raster ramp(Index rows, Index cols) {
  Raster raster(rows, cols);
  for (Index row = 0; row < rows; ++row) {
    for (Index col = 0; col < cols; ++col) raster.at(row, col) = double(row * cols + col) / double(rows * cols);
  }
  return raster;
}

}  // namespace

TEST_CASE("render_png writes a PNG and nothing else", "[plots]") {
  ScratchDir dir;
  render_png("plot sin(x) title 'sin'", dir / "sine.png");
  require_png(dir / "sine.png");
  CHECK(dir.entries() == 1);  // no partial file left beside it
}

TEST_CASE("a gnuplot error becomes a GnuplotError and leaves no file", "[plots]") {
  ScratchDir dir;
  CHECK_THROWS_AS(render_png("plot sin(x) with lines bogus_option", dir / "bad.png"), GnuplotError);
  CHECK_THROWS_WITH(render_png("undefined_command 1 2 3", dir / "bad.png"), Catch::Contains("gnuplot"));
  CHECK_FALSE(fs::exists(dir / "bad.png"));
  CHECK(dir.entries() == 0);
}

TEST_CASE("a failed figure keeps the previous file at that path", "[plots]") {
  ScratchDir dir;
  render_png("plot x", dir / "kept.png");
  const auto size = fs::file_size(dir / "kept.png");
  CHECK_THROWS_AS(render_png("plot x with nonsense", dir / "kept.png"), GnuplotError);
  CHECK(fs::file_size(dir / "kept.png") == size);
  CHECK(dir.entries() == 1);
}

TEST_CASE("a warning is an error unless the caller allows it", "[plots]") {
  ScratchDir dir;
  const std::string script = "$m << EOD\n1 NaN\n2 3\nEOD\nplot $m matrix with image";
  CHECK_THROWS_AS(render_png(script, dir / "gap.png"), GnuplotError);
  render_png(script, dir / "gap.png", {{}, {"matrix contains missing or undefined values"}, {}});
  require_png(dir / "gap.png");
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

TEST_CASE("image figures write PNGs", "[plots]") {
  ScratchDir dir;
  const Raster digit = ramp(12, 12);
  plot_digit(digit, "synthetic digit", dir / "digit.png");
  require_png(dir / "digit.png");

  // 4 x 4 windows of 6 x 6 over the 12 x 12 image, stride 2, as the lecture's view builds them.
  const StridedView<const double, 3> image(std::span<const double>(digit.values), {1, 12, 12});
  const auto windows = convlab::sliding_windows(image, {6, 6}, {2, 2}).slice(0, 0);
  plot_windows(windows, {0.0, 1.0}, "windows", dir / "windows.png");
  require_png(dir / "windows.png");

  Raster response(4, 4);
  for (Index i = 0; i < 16; ++i) response.values[std::size_t(i)] = std::tanh(double(i - 8) / 4.0);
  plot_response(response, "response", dir / "response.png");
  require_png(dir / "response.png");
  plot_weighted_windows(windows, response, "weighted", dir / "weighted.png");
  require_png(dir / "weighted.png");
  CHECK_THROWS_AS(plot_weighted_windows(windows, Raster(3, 4), "bad", dir / "bad.png"), std::invalid_argument);

  std::vector<Raster> filters(6, ramp(5, 5)), maps(6, ramp(8, 8));
  filters[1].values.assign(25, -0.5);
  plot_filters(filters, "filters", dir / "filters.png");
  require_png(dir / "filters.png");
  plot_feature_maps(digit, filters, maps, "feature maps", dir / "maps.png");
  require_png(dir / "maps.png");
  CHECK_THROWS_AS(plot_feature_maps(digit, filters, {}, "bad", dir / "bad.png"), std::invalid_argument);

  plot_confusion({{8, 2, 0}, {1, 9, 0}, {0, 0, 10}}, {"a", "b", "c"}, "confusion", dir / "confusion.png");
  require_png(dir / "confusion.png");
  CHECK_THROWS_AS(plot_confusion({{1, 2}, {3}}, {}, "bad", dir / "bad.png"), std::invalid_argument);
  CHECK_FALSE(fs::exists(dir / "bad.png"));
}

TEST_CASE("training curves from history CSVs", "[plots]") {
  ScratchDir dir;
  std::ofstream(dir / "naive.csv") << "iteration,error,seconds\n0,2.3,0\n1,1.2,0.5\n2,0.7,1.0\n";
  std::ofstream(dir / "im2col.csv") << "iteration,error,seconds\n0,2.3,0\n1,1.1,0.1\n2,0.6,0.2\n";
  const TrainingCurve naive = read_history_csv(dir / "naive.csv");
  CHECK(naive.label == "naive");
  CHECK(naive.x_name == "iteration");
  CHECK(naive.error == std::vector<double>{2.3, 1.2, 0.7});
  plot_training_curves({naive, read_history_csv(dir / "im2col.csv")}, "two runs", dir / "curves.png");
  require_png(dir / "curves.png");

  std::ofstream(dir / "broken.csv") << "iteration,error\n0,2.3\n1,oops\n";
  CHECK_THROWS_WITH(read_history_csv(dir / "broken.csv"), Catch::Contains("line 3"));
  std::ofstream(dir / "nocolumn.csv") << "when,what\n0,1\n";
  CHECK_THROWS_WITH(read_history_csv(dir / "nocolumn.csv"), Catch::Contains("no iteration/epoch/step column"));
  TrainingCurve epochs = naive;
  epochs.x_name = "epoch";
  CHECK_THROWS_AS(plot_training_curves({naive, epochs}, "mixed", dir / "mixed.png"), std::invalid_argument);
}

TEST_CASE("benchmark charts from Google Benchmark JSON", "[plots]") {
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
  require_png(dir / "bars.png");
  plot_roofline(run, {}, dir / "roofline.png");
  require_png(dir / "roofline.png");
  CHECK_THROWS_AS(plot_bench_bars(run, {"forward", "double", {}}, dir / "none.png"), std::invalid_argument);

  std::ofstream(dir / "not.json") << "{\"something\": 1}";
  CHECK_THROWS_WITH(read_benchmark_json({dir / "not.json"}), Catch::Contains("no \"benchmarks\" array"));
}
