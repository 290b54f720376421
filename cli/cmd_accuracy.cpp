// `convlab accuracy`: how far each implementation's outputs are from the exact sums, per layer, input kind,
// type and pass, in units of the type's unit roundoff, beside the direct-sum bound n and Winograd's K (the
// engine and the metric: cli/accuracy.hpp; what it shows: docs/accuracy.md). The table goes to stdout,
// progress to stderr; --json FILE writes everything, --out DIR accuracy.json, accuracy.csv, accuracy.png (max
// error against C, float32 forward, uniform inputs, one panel per window size, and one against Winograd's tile
// size) and accuracy.gp (the chart's gnuplot script, its data inline). --inputs picks the input kinds (default:
// all; mnist is skipped, with the reason, where the MNIST files are missing).
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cli/accuracy.hpp"
#include "cli/classifier_report.hpp"
#include "cli/commands.hpp"
#include "cli/compare.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/io/atomic_file.hpp"
#include "plots/accuracy_figures.hpp"
#include "plots/gnuplot_runner.hpp"

namespace convlab::cli {
namespace {

struct AccuracySettings {
  std::string impls;   // empty: every registered implementation
  std::string inputs;  // empty: every input kind
  long long threads = 0;
  long long seed = 1;
  bool quick = false;
  std::string json_path, out;
};

void write_text(const std::filesystem::path& path, const std::string& text, std::string_view what) {
  write_file_atomically(path, std::as_bytes(std::span<const char>(text)), what);
}

std::vector<AccuracyInput> parse_inputs(const std::string& list) {
  if (list.empty()) return {kAccuracyInputs.begin(), kAccuracyInputs.end()};
  std::vector<AccuracyInput> inputs;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    const AccuracyInput input = parse_accuracy_input(std::string_view(list).substr(start, comma - start));
    if (std::find(inputs.begin(), inputs.end(), input) == inputs.end()) inputs.push_back(input);
    start = comma + 1;
  }
  return inputs;
}

// Each implementation's colour, by its place in the registry: the same in every panel and every run, whichever
// --impls are measured. Okabe and Ito's colour-blind-safe set first (without black and yellow), then Tol's;
// greys are left to the tile panel's lines.
std::string impl_color(std::string_view name) {
  static constexpr std::array<const char*, 12> palette = {"#0072b2", "#e69f00", "#009e73", "#d55e00",
                                                          "#cc79a7", "#56b4e9", "#882255", "#44aa99",
                                                          "#999933", "#332288", "#aa4499", "#117733"};
  const std::vector<ConvImplInfo>& all = conv_implementations();
  std::size_t index = 0;
  while (index < all.size() && all[index].name != name) ++index;
  return palette[index % palette.size()];
}

// The legend: the implementation, and for a Winograd bound its tile, F(m x m, r x r).
std::string curve_label(const AccuracyImpl& impl, Index window) {
  if (impl.error_bound.kind != ConvErrorBoundKind::winograd) return impl.name;
  const std::string m = std::to_string(impl.error_bound.tile), r = std::to_string(window);
  return impl.name + ", F(" + m + "x" + m + "," + r + "x" + r + ") tiles";
}

// The chart: one panel per window size (max error against C, each implementation in its colour), and one of
// the error against Winograd's tile size.
struct Chart {
  std::vector<plots::AccuracyPanel> panels;
  plots::AccuracyStyle style;
};

Chart chart(const convlab::AccuracyReport& report) {
  Chart chart;
  std::vector<plots::AccuracyPanel>& panels = chart.panels;
  std::vector<Index> windows;
  for (const AccuracyLayer& layer : report.layers) {
    if (std::find(windows.begin(), windows.end(), layer.window) == windows.end()) windows.push_back(layer.window);
  }
  for (Index window : windows) {
    plots::AccuracyPanel panel;
    panel.title = std::to_string(window) + "x" + std::to_string(window) + " windows";
    for (const AccuracyCurveData& curve : accuracy_curves(report, window)) {
      const auto impl = std::find_if(report.impls.begin(), report.impls.end(),
                                     [&](const AccuracyImpl& i) { return i.name == curve.impl; });
      const std::string label = curve_label(*impl, window);
      panel.curves.push_back({label, curve.channels, curve.max_error_u});
      chart.style.colors[label] = impl_color(curve.impl);
    }
    if (!panel.curves.empty()) panels.push_back(std::move(panel));
  }
  // Error against the tile size: Winograd's output tile m on the x axis, one dashed grey line per channel count
  // (darker with more channels), on the 3x3 layers.
  const std::vector<AccuracyTileCurveData> tiles = accuracy_tile_curves(report, 3);
  if (!tiles.empty()) {
    plots::AccuracyPanel panel;
    panel.title = "3x3 windows: against Winograd's tile size";
    plots::AccuracyAxis& axis = chart.style.axes[panels.size()];
    axis.label = "output tile m of F(mxm,3x3)";
    std::vector<double> sizes;
    for (const AccuracyTileCurveData& curve : tiles) {
      for (double m : curve.tile)
        if (std::find(sizes.begin(), sizes.end(), m) == sizes.end()) sizes.push_back(m);
    }
    std::sort(sizes.begin(), sizes.end());
    for (double m : sizes) {
      const std::string text = std::to_string(int(m));
      axis.tics.push_back({"F(" + text + "x" + text + ")", m});
    }
    for (std::size_t i = 0; i < tiles.size(); ++i) {
      // Grey from #b0b0b0 (fewest channels) to #202020 (most).
      const int level = tiles.size() == 1 ? 0x20 : 0xb0 - int(i * (0xb0 - 0x20) / (tiles.size() - 1));
      char color[8];
      std::snprintf(color, sizeof color, "#%02x%02x%02x", level, level, level);
      const std::string label = "C = " + std::to_string(tiles[i].channels);
      panel.curves.push_back({label, tiles[i].tile, tiles[i].max_error_u});
      chart.style.colors[label] = color;
      chart.style.dashed.insert(label);
    }
    panels.push_back(std::move(panel));
  }
  return chart;
}

}  // namespace

void add_accuracy_command(CLI::App& app) {
  auto settings = std::make_shared<AccuracySettings>();
  AccuracySettings& s = *settings;
  CLI::App* command = app.add_subcommand(
      "accuracy", "Measure each implementation's error against exact sums, in units of u, beside its error bound");
  command->add_option("--impls", s.impls, "Comma-separated implementations (default: all)");
  command->add_option("--inputs", s.inputs,
                      "Comma-separated input kinds: uniform, positive, wide, mnist (default: all; mnist is skipped, "
                      "saying why, without the MNIST files)");
  command->add_option("--threads", s.threads, "OpenMP threads (default: OMP_NUM_THREADS or all cores)");
  command->add_option("--seed", s.seed, "Seed of the random operands (default: 1)");
  command->add_flag("--quick", s.quick, "A subset: 3x3 and 5x5 windows, C in {1, 16, 64}");
  command->add_option("--json", s.json_path, "Write every measurement as JSON to FILE");
  command->add_option("--out", s.out, "Folder for accuracy.json, accuracy.csv and accuracy.png");
  command->callback([settings, command] {
    const AccuracySettings& s = *settings;
    std::vector<std::string> known;
    for (const ConvImplInfo& info : conv_implementations()) known.push_back(info.name);
    const std::vector<std::string> names = comparison_order(s.impls, known);
    const std::vector<AccuracyInput> inputs = parse_inputs(s.inputs);
    if (command->count("--threads")) require_at_least(s.threads, 1, "--threads");
    require_at_least(s.seed, 0, "--seed");
    if (!s.json_path.empty()) check_output_writable(s.json_path, "JSON results");
    const std::filesystem::path out(s.out);
    if (!s.out.empty()) {
      if (std::filesystem::exists(out) && !std::filesystem::is_directory(out)) {
        throw OutputFileError("cannot save accuracy results to '" + s.out + "': it is a file, not a folder");
      }
      std::error_code error;
      std::filesystem::create_directories(out, error);
      if (error) throw OutputFileError("cannot save accuracy results to '" + s.out + "': " + error.message());
      check_output_writable(out / "accuracy.json", "accuracy results");
    }
    if (command->count("--threads")) omp_set_num_threads(int(s.threads));
    const int threads = omp_get_max_threads();

    std::cout << "Measuring " << names.size() << " implementations against exact sums, " << threads
              << " OpenMP threads, seed " << s.seed << (s.quick ? " (--quick)" : "") << "\n"
              << std::flush;  // before the progress lines, which go to stderr (results to stdout)
    const convlab::AccuracyReport report = run_accuracy(names, s.quick, std::uint64_t(s.seed), threads, &std::cerr, inputs);
    std::cout << "\n" << format_accuracy_table(report);
    const std::string json = accuracy_json(report);
    if (!s.json_path.empty()) {
      write_text(s.json_path, json, "JSON results");
      std::cout << "Wrote " << s.json_path << "\n";
    }
    if (!s.out.empty()) {
      write_text(out / "accuracy.json", json, "accuracy results");
      write_text(out / "accuracy.csv", accuracy_csv(report), "accuracy results");
      std::vector<const char*> written = {"accuracy.json", "accuracy.csv"};
      const Chart drawn = chart(report);
      const plots::FigureScript figure = plots::accuracy_figure(
          drawn.panels, "max error per output / sum|w x|, in u: float32 forward, uniform inputs", drawn.style);
      const plots::PngCanvas& canvas = figure.options.canvas;
      write_text(out / "accuracy.gp",
                 "# accuracy.png's gnuplot script, its data inline (convlab accuracy). To draw it again:\n"
                 "#   gnuplot -e \"set terminal pngcairo size " + std::to_string(canvas.width) + "," +
                     std::to_string(canvas.height) + " font 'sans," + std::to_string(canvas.font_size) +
                     "'; set output 'accuracy.png'\" accuracy.gp\n" + figure.script,
                 "accuracy chart script");
      written.push_back("accuracy.gp");
      if (plots::gnuplot_built()) {
        plots::render_png(figure, out / "accuracy.png");
        written.push_back("accuracy.png");
      } else {
        std::cerr << (out / "accuracy.png").string()
                  << ": not drawn: this convlab was built without figures (CONVLAB_BUILD_PLOTS=OFF)\n";
      }
      for (const char* name : written) std::cout << "Wrote " << (out / name).string() << "\n";
    }
  });
}

}  // namespace convlab::cli
