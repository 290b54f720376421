// `convlab accuracy`: how far each implementation's outputs are from the exact sums, per layer, input kind,
// type and pass, in units of the type's unit roundoff, beside the direct-sum bound n and Winograd's K (the
// engine and the metric: cli/accuracy.hpp; what it shows: docs/accuracy.md). The table goes to stdout,
// progress to stderr; --json FILE writes everything, --out DIR accuracy.json, accuracy.csv and accuracy.png
// (max error against C, float32 forward, uniform inputs, one panel per window size).
#include <omp.h>

#include <algorithm>
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
  std::string impls;  // empty: every registered implementation
  long long threads = 0;
  long long seed = 1;
  bool quick = false;
  std::string json_path, out;
};

void write_text(const std::filesystem::path& path, const std::string& text, std::string_view what) {
  write_file_atomically(path, std::as_bytes(std::span<const char>(text)), what);
}

std::vector<plots::AccuracyPanel> chart_panels(const convlab::AccuracyReport& report) {
  std::vector<plots::AccuracyPanel> panels;
  std::vector<Index> windows;
  for (const AccuracyLayer& layer : report.layers) {
    if (std::find(windows.begin(), windows.end(), layer.window) == windows.end()) windows.push_back(layer.window);
  }
  for (Index window : windows) {
    plots::AccuracyPanel panel;
    panel.title = std::to_string(window) + "x" + std::to_string(window) + " windows";
    for (const AccuracyCurveData& curve : accuracy_curves(report, window)) {
      panel.curves.push_back({curve.impl, curve.channels, curve.max_error_u});
    }
    if (!panel.curves.empty()) panels.push_back(std::move(panel));
  }
  return panels;
}

}  // namespace

void add_accuracy_command(CLI::App& app) {
  auto settings = std::make_shared<AccuracySettings>();
  AccuracySettings& s = *settings;
  CLI::App* command = app.add_subcommand(
      "accuracy", "Measure each implementation's error against exact sums, in units of u, beside its error bound");
  command->add_option("--impls", s.impls, "Comma-separated implementations (default: all)");
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
    const convlab::AccuracyReport report = run_accuracy(names, s.quick, std::uint64_t(s.seed), threads, &std::cerr);
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
      if (plots::gnuplot_built()) {
        plots::plot_accuracy(chart_panels(report),
                             "max error per output / sum|w x|, in u: float32 forward, uniform inputs",
                             out / "accuracy.png");
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
