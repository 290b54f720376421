// `convlab plot <figure>`: draws one figure as a PNG (gnuplot, see plots/). Figures:
//   digit, windows, response, weighted-windows   the lecture's windows walk-through on one digit
//   filters, feature-maps                        a saved model's first-layer filters (and their outputs)
//   curve                                        training histories (`convlab train --history`)
//   confusion                                    a saved model on a dataset split, or a counts CSV
//   bench, roofline                              Google Benchmark JSON from convlab_bench and the peers
//   animation                                    an animated GIF of a window walking over an input
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.hpp"
#include "cli/training_options.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/data/datasets.hpp"
#include "cli/lecture_windows.hpp"
#include "common/nn/metrics.hpp"
#include "common/nn/model_file.hpp"
#include "common/nn/network.hpp"
#include "plots/animation_figures.hpp"
#include "plots/bench_figures.hpp"
#include "plots/curve_figures.hpp"
#include "plots/image_figures.hpp"

namespace convlab::cli {

namespace {

using plots::Raster;

struct DigitOptions {
  std::string dataset = std::string(kDefaultDataset);
  std::string split = "train";
  std::size_t digit = 15;  // the lecture's: the first 7 of the training set
  Index window = 10;
  Index stride = 1;
  std::string detector = "lecture";
  std::string out;
};

struct ModelOptions {
  std::string model;
  std::string impl = std::string(kDefaultConvImpl);
  std::string dataset = std::string(kDefaultDataset);
  std::string split = "test";
  std::size_t digit = 4;  // the lecture's feature maps are of test image 4 (a 4)
  std::optional<std::size_t> limit;
  std::string counts_csv;
  std::string out;
};

struct AnimationOptions {
  std::string input = "5", window = "3";
  Index stride = 1, padding = 0, dilation = 1;
  bool transposed = false;
  int delay = 80;
  std::string out;
};

// "5" -> 5 x 5, "5x7" -> 5 rows x 7 columns; `option` names the flag in the error.
std::pair<Index, Index> parse_size(const std::string& text, const std::string& option) {
  const std::size_t cross = text.find('x');
  auto number = [&](const std::string& part) {
    Index value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || error != std::errc() || end != part.data() + part.size() || value < 1 || value > 1000) {
      throw std::invalid_argument(option + ": expected N or RxC with whole numbers from 1 to 1000, got '" + text + "'");
    }
    return value;
  };
  if (cross == std::string::npos) {
    const Index side = number(text);
    return {side, side};
  }
  return {number(text.substr(0, cross)), number(text.substr(cross + 1))};
}

void run_animation(const AnimationOptions& options) {
  plots::WindowWalkGeometry geometry;
  std::tie(geometry.input_rows, geometry.input_cols) = parse_size(options.input, "--input");
  std::tie(geometry.window_rows, geometry.window_cols) = parse_size(options.window, "--window");
  geometry.stride = options.stride;
  geometry.padding = options.padding;
  geometry.dilation = options.dilation;
  geometry.transposed = options.transposed;
  plots::animate_window_walk(geometry, options.out, options.delay);
  std::cout << "wrote " << options.out << "\n";
}

struct CurveOptions {
  std::vector<std::string> histories;
  std::string title;
  std::string out;
};

struct BenchOptions {
  std::vector<std::string> json;
  plots::BenchSelection selection;
  std::optional<double> peak_gflops, bandwidth_gbs;
  std::string out;
};

// One digit of a dataset split, scaled as the lecture did (byte / 256).
struct LoadedDigit {
  Dataset dataset;
  std::vector<double> image;
  std::string description;  // "mnist training digit 0 (label 5)"
};

LoadedDigit load_digit(const std::string& dataset_name, const std::string& split_name, std::size_t index,
                       const PixelScaling& scaling = {}) {
  const DatasetSplit split = parse_dataset_split(split_name);
  LoadedDigit loaded{load_dataset(dataset_name, split, index + 1), {}, {}};
  if (index >= loaded.dataset.count()) {
    throw std::invalid_argument("--digit " + std::to_string(index) + " is out of range: the " + dataset_name + " " +
                                split_name + " split holds " + std::to_string(loaded.dataset.count()) + " images");
  }
  const std::vector<double> inputs = to_inputs<double>(loaded.dataset, scaling);
  const auto image = std::span<const double>(inputs).subspan(index * loaded.dataset.image_size(),
                                                             loaded.dataset.image_size());
  loaded.image.assign(image.begin(), image.end());
  loaded.description = dataset_name + (split == DatasetSplit::train ? " training" : " test") + " digit " +
                       std::to_string(index) + " (label " + std::to_string(loaded.dataset.labels[index]) + ")";
  return loaded;
}

void report(const std::string& out) { std::cout << "wrote " << out << "\n"; }

// digit, windows, response, weighted-windows share the walk-through's data; `figure` picks what is drawn.
void run_digit_figure(const std::string& figure, const DigitOptions& options) {
  const LoadedDigit loaded = load_digit(options.dataset, options.split, options.digit);
  const Index rows = Index(loaded.dataset.rows), cols = Index(loaded.dataset.cols);
  if (figure == "digit") {
    plots::plot_digit(Raster(rows, cols, loaded.image),
                      loaded.description + ", " + std::to_string(rows) + " x " + std::to_string(cols) +
                          " pixels / 256",
                      options.out);
    return report(options.out);
  }
  const StridedView<const double, 3> images(std::span<const double>(loaded.image), {1, rows, cols});
  const auto windows = sliding_windows(images, {options.window, options.window}, {options.stride, options.stride});
  const auto one_image = windows.slice(0, 0);
  const std::string grid = std::to_string(windows.shape(1)) + " x " + std::to_string(windows.shape(2)) +
                           " windows of " + std::to_string(options.window) + " x " + std::to_string(options.window) +
                           ", stride " + std::to_string(options.stride);
  if (figure == "windows") {
    plots::plot_windows(one_image, {0.0, 1.0}, loaded.description + ": " + grid + ", one grey range 0..1",
                        options.out);
    return report(options.out);
  }
  const std::vector<double> weights = make_detector(options.detector, options.window);
  const std::vector<float> image(loaded.image.begin(), loaded.image.end());  // pixels / 256: exact in float
  const WindowResponse response = detector_response(image, rows, cols, weights, options.window, options.stride);
  const Raster response_map(response.rows, response.cols, response.response);
  if (figure == "response") {
    std::ostringstream title;
    title.precision(3);
    title << "tanh(sum(window x " << options.detector << " detector)) over " << loaded.description << "\n" << grid
          << "; min " << response.min << ", max " << response.max;
    plots::plot_response(response_map, title.str(), options.out);
  } else {
    plots::plot_weighted_windows(one_image, response_map,
                                 loaded.description + ": each window x its " + options.detector + "-detector response\n" + grid,
                                 options.out);
  }
  report(options.out);
}

// A saved model rebuilt as a network that computes with `impl`.
struct LoadedModel {
  SavedModel saved;
  std::unique_ptr<Network<double>> network;
};

LoadedModel load_network(const std::string& path, const std::string& impl) {
  LoadedModel loaded{load_model(path), nullptr};
  loaded.network = std::make_unique<Network<double>>(loaded.saved.architecture,
                                                     network_conv_factory(impl, loaded.saved.architecture, false));
  const std::span<double> parameters = loaded.network->parameters();
  if (parameters.size() != loaded.saved.parameters.size()) {
    throw std::runtime_error(path + ": holds " + std::to_string(loaded.saved.parameters.size()) +
                             " parameters, its architecture needs " + std::to_string(parameters.size()));
  }
  std::copy(loaded.saved.parameters.begin(), loaded.saved.parameters.end(), parameters.begin());
  return loaded;
}

// The first layer's filters (input channel 0 of each), which must be a convolution.
std::vector<Raster> first_layer_filters(const LoadedModel& loaded, const std::string& path) {
  const LayerGeometry& layer = loaded.network->layers().front();
  if (!layer.is_conv) throw std::invalid_argument(path + ": the first layer is not a convolution; it has no filters");
  const ConvLayerSpec& spec = loaded.saved.architecture.conv_layers.front();
  const ParameterBlock& block = loaded.network->parameter_layout().front();
  const Index filter_size = spec.window_height * spec.window_width;
  std::vector<Raster> filters;
  for (Index unit = 0; unit < spec.units; ++unit) {
    const auto weights = loaded.network->parameters().subspan(
        std::size_t(block.weights_offset + unit * layer.in_channels * filter_size), std::size_t(filter_size));
    filters.emplace_back(spec.window_height, spec.window_width, std::span<const double>(weights));
  }
  return filters;
}

std::string model_description(const LoadedModel& loaded, const std::string& path) {
  return std::filesystem::path(path).filename().string() + ": " + loaded.saved.architecture.describe();
}

void run_filters(const ModelOptions& options) {
  const LoadedModel loaded = load_network(options.model, options.impl);
  const std::vector<Raster> filters = first_layer_filters(loaded, options.model);
  const bool several_channels = loaded.network->layers().front().in_channels > 1;
  plots::plot_filters(filters,
                      "first-layer filters" + std::string(several_channels ? " (input channel 0)" : "") + " of\n" +
                          model_description(loaded, options.model),
                      options.out);
  report(options.out);
}

void run_feature_maps(const ModelOptions& options) {
  const LoadedModel loaded = load_network(options.model, options.impl);
  const std::vector<Raster> filters = first_layer_filters(loaded, options.model);
  const LoadedDigit digit = load_digit(options.dataset, options.split, options.digit, loaded.saved.scaling);
  const auto outputs = loaded.network->use(std::span<const double>(digit.image), false, true);
  const LayerGeometry& layer = loaded.network->layers().front();
  const std::vector<double>& maps_data = outputs.hidden.front();
  std::vector<Raster> maps;
  const Index map_size = layer.out_height * layer.out_width;
  for (Index unit = 0; unit < layer.units; ++unit) {
    maps.emplace_back(layer.out_height, layer.out_width,
                      std::span<const double>(maps_data).subspan(std::size_t(unit * map_size), std::size_t(map_size)));
  }
  const Raster image(Index(digit.dataset.rows), Index(digit.dataset.cols), digit.image);
  plots::plot_feature_maps(image, filters, maps,
                           model_description(loaded, options.model) + "\neach first-layer filter beside its tanh feature map for " +
                               digit.description + ", predicted " + std::to_string(outputs.classes.front()),
                           options.out);
  report(options.out);
}

// A K x K CSV of counts, rows = true class. Labels are dropped: a header row (non-numeric cells, or the one
// extra row of a (K + 1) x K table) and a label column (non-numeric first cells, or the one extra column).
std::vector<std::vector<std::size_t>> read_counts_csv(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error(path + ": cannot open the confusion counts");
  auto is_count = [](const std::string& cell) {
    return cell.find_first_of("0123456789") != std::string::npos &&
           cell.find_first_not_of("0123456789 \t\r") == std::string::npos;
  };
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> line_numbers;
  std::string line;
  for (std::size_t line_number = 1; std::getline(file, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<std::string> cells;
    std::istringstream stream(line);
    for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(cell);
    if (!cells.empty() && !is_count(cells.front())) cells.erase(cells.begin());  // a label column
    rows.push_back(std::move(cells));
    line_numbers.push_back(line_number);
  }
  if (!rows.empty()) {
    const bool has_text = std::any_of(rows.front().begin(), rows.front().end(),
                                      [&](const std::string& cell) { return !is_count(cell); });
    if (has_text || rows.size() == rows.front().size() + 1) {
      rows.erase(rows.begin());
      line_numbers.erase(line_numbers.begin());
    }
  }
  if (rows.empty()) throw std::runtime_error(path + ": no counts");
  // Numeric class labels in the first column: every row one cell wider than the table is tall.
  if (std::all_of(rows.begin(), rows.end(), [&](const auto& cells) { return cells.size() == rows.size() + 1; })) {
    for (auto& cells : rows) cells.erase(cells.begin());
  }
  std::vector<std::vector<std::size_t>> counts;
  for (std::size_t row = 0; row < rows.size(); ++row) {
    if (rows[row].size() != rows.size()) {
      throw std::runtime_error(path + ": line " + std::to_string(line_numbers[row]) + ": expected " +
                               std::to_string(rows.size()) + " counts (a square table), found " +
                               std::to_string(rows[row].size()));
    }
    std::vector<std::size_t> values;
    for (const std::string& cell : rows[row]) {
      if (!is_count(cell)) {
        throw std::runtime_error(path + ": line " + std::to_string(line_numbers[row]) + ": '" + cell +
                                 "' is not a count");
      }
      values.push_back(std::stoull(cell));
    }
    counts.push_back(std::move(values));
  }
  return counts;
}

void run_confusion(const ModelOptions& options) {
  if (options.model.empty() == options.counts_csv.empty()) {
    throw std::invalid_argument("plot confusion: give either --model or --csv");
  }
  if (!options.counts_csv.empty()) {
    plots::plot_confusion(read_counts_csv(options.counts_csv), {},
                          "confusion matrix from " + std::filesystem::path(options.counts_csv).filename().string(),
                          options.out);
    return report(options.out);
  }
  const LoadedModel loaded = load_network(options.model, options.impl);
  const Dataset data = load_dataset(options.dataset, parse_dataset_split(options.split), options.limit);
  const std::vector<double> inputs = to_inputs<double>(data, loaded.saved.scaling);
  const auto outputs = loaded.network->use(std::span<const double>(inputs));
  const ConfusionMatrix matrix(Index(kDigitClasses), outputs.classes, data.labels);
  std::vector<std::vector<std::size_t>> counts(kDigitClasses, std::vector<std::size_t>(kDigitClasses));
  for (std::size_t truth = 0; truth < kDigitClasses; ++truth) {
    for (std::size_t predicted = 0; predicted < kDigitClasses; ++predicted) {
      counts[truth][predicted] = std::size_t(matrix.count(Index(truth), Index(predicted)));
    }
  }
  plots::plot_confusion(counts, {},
                        model_description(loaded, options.model) + "\non the " + options.dataset + " " + options.split +
                            " split",
                        options.out);
  report(options.out);
}

void run_curve(const CurveOptions& options) {
  std::vector<plots::TrainingCurve> curves;
  for (const std::string& path : options.histories) curves.push_back(plots::read_history_csv(path));
  const std::string title = options.title.empty() ? "training curves: " + std::to_string(curves.size()) +
                                                        (curves.size() == 1 ? " run" : " runs")
                                                  : options.title;
  plots::plot_training_curves(curves, title, options.out);
  report(options.out);
}

plots::BenchRun read_bench(const BenchOptions& options) {
  plots::BenchRun run = plots::read_benchmark_json({options.json.begin(), options.json.end()});
  // An explicit limit replaces the measured one for the chosen thread count, or for every count present.
  std::vector<int> thread_counts;
  if (options.selection.threads) {
    thread_counts.push_back(*options.selection.threads);
  } else {
    for (const plots::ConvBenchResult& result : run.conv) thread_counts.push_back(result.threads);
  }
  for (int threads : thread_counts) {
    if (options.peak_gflops) run.fma_peak[options.selection.dtype][threads] = {*options.peak_gflops, "--peak-gflops"};
    if (options.bandwidth_gbs) run.bandwidth[threads] = {*options.bandwidth_gbs, "--bandwidth-gbs"};
  }
  return run;
}

void add_out_option(CLI::App* command, std::string& out) {
  command->add_option("--out", out, "PNG file to write (its folder is created if needed)")->required();
}

void add_digit_figure(CLI::App* plot, const std::string& figure, const std::string& description) {
  auto options = std::make_shared<DigitOptions>();
  CLI::App* command = plot->add_subcommand(figure, description);
  command->add_option("--dataset", options->dataset, "mnist or fashion-mnist")
      ->capture_default_str()
      ->check(CLI::IsMember(dataset_names()));
  command->add_option("--split", options->split, "train or test")->capture_default_str()->check(CLI::IsMember({"train", "test"}));
  command->add_option("--digit", options->digit, "Index of the image in the split")->capture_default_str();
  if (figure != "digit") {
    command->add_option("--window", options->window, "Window side in pixels")->capture_default_str()->check(integer_at_least(1));
    command->add_option("--stride", options->stride, "Step between windows in pixels")
        ->capture_default_str()
        ->check(integer_at_least(1));
  }
  if (figure == "response" || figure == "weighted-windows") {
    command->add_option("--detector", options->detector, "lecture (0.05 on the anti-diagonal) or band")
        ->capture_default_str()
        ->check(CLI::IsMember({"lecture", "band"}));
  }
  add_out_option(command, options->out);
  command->callback([figure, options] { run_digit_figure(figure, *options); });
}

CLI::App* add_model_figure(CLI::App* plot, const std::string& figure, const std::string& description,
                           const std::shared_ptr<ModelOptions>& options, bool model_required) {
  CLI::App* command = plot->add_subcommand(figure, description);
  auto* model = command->add_option("--model", options->model, "A model saved by `convlab train --save`");
  if (model_required) model->required();
  command->add_option("--impl", options->impl, "Convolution implementation to run the model with")
      ->capture_default_str();
  add_out_option(command, options->out);
  return command;
}

void add_bench_options(CLI::App* command, BenchOptions& options) {
  command->add_option("--json", options.json, "Google Benchmark JSON file(s) (convlab_bench, peers)")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--dtype", options.selection.dtype, "float or double")->capture_default_str();
  command->add_option("--threads", options.selection.threads, "Only this thread count");
  command->add_option("--peak-gflops", options.peak_gflops, "FMA peak to draw instead of the measured one");
  add_out_option(command, options.out);
}

}  // namespace

void add_plot_command(CLI::App& app) {
  CLI::App* plot = app.add_subcommand("plot", "Draw a figure as a PNG with gnuplot");
  plot->require_subcommand(1);

  add_digit_figure(plot, "digit", "One digit as a grey image, row 0 on top");
  add_digit_figure(plot, "windows", "The digit's grid of windows (the lecture's strided view), one grey range");
  add_digit_figure(plot, "response", "The response map of a diagonal detector (the lecture's by default) over the windows");
  add_digit_figure(plot, "weighted-windows", "Each window multiplied by the detector's response");

  auto filters = std::make_shared<ModelOptions>();
  add_model_figure(plot, "filters", "A saved model's first-layer filters as a grid", filters, true)
      ->callback([filters] { run_filters(*filters); });

  auto maps = std::make_shared<ModelOptions>();
  CLI::App* maps_command =
      add_model_figure(plot, "feature-maps", "Each first-layer filter beside its feature map for one digit", maps, true);
  maps_command->add_option("--dataset", maps->dataset, "mnist or fashion-mnist")->capture_default_str();
  maps_command->add_option("--split", maps->split, "train or test")->capture_default_str();
  maps_command->add_option("--digit", maps->digit, "Index of the image in the split")->capture_default_str();
  maps_command->callback([maps] { run_feature_maps(*maps); });

  auto confusion = std::make_shared<ModelOptions>();
  CLI::App* confusion_command = add_model_figure(
      plot, "confusion", "Confusion matrix of a saved model on a dataset split (or from a CSV of counts)",
      confusion, false);
  confusion_command->add_option("--csv", confusion->counts_csv, "K x K counts, rows = true class, instead of --model");
  confusion_command->add_option("--dataset", confusion->dataset, "mnist or fashion-mnist")->capture_default_str();
  confusion_command->add_option("--split", confusion->split, "train or test")->capture_default_str();
  confusion_command->add_option("--limit", confusion->limit, "Only the first N examples of the split");
  confusion_command->callback([confusion] { run_confusion(*confusion); });

  auto curve = std::make_shared<CurveOptions>();
  CLI::App* curve_command =
      plot->add_subcommand("curve", "Training error and likelihood exp(-error) from history CSVs, one line each");
  curve_command->add_option("--history", curve->histories, "CSV from `convlab train --history` (repeatable)")
      ->required()
      ->check(CLI::ExistingFile);
  curve_command->add_option("--title", curve->title, "Figure title (say what was run)");
  add_out_option(curve_command, curve->out);
  curve_command->callback([curve] { run_curve(*curve); });

  auto bench = std::make_shared<BenchOptions>();
  CLI::App* bench_command =
      plot->add_subcommand("bench", "GFLOP/s bars per implementation for each case, with the measured FMA peak");
  add_bench_options(bench_command, *bench);
  bench_command->add_option("--pass", bench->selection.pass, "forward, backward_input or backward_weights")
      ->capture_default_str();
  bench_command->callback([bench] {
    plots::plot_bench_bars(read_bench(*bench), bench->selection, bench->out);
    report(bench->out);
  });

  auto animation = std::make_shared<AnimationOptions>();
  CLI::App* animation_command = plot->add_subcommand(
      "animation", "An animated GIF of a window walking over an input (or, --transposed, of the input gradient)");
  animation_command->add_option("--input", animation->input, "Input size: N or RxC")->capture_default_str();
  animation_command->add_option("--window", animation->window, "Window size: N or RxC")->capture_default_str();
  animation_command->add_option("--stride", animation->stride, "Step between windows")
      ->capture_default_str()
      ->check(integer_at_least(1));
  animation_command->add_option("--padding", animation->padding, "Zero pixels added on each side")
      ->capture_default_str()
      ->check(integer_at_least(0));
  animation_command->add_option("--dilation", animation->dilation, "Distance between a window's pixels")
      ->capture_default_str()
      ->check(integer_at_least(1));
  animation_command->add_flag("--transposed", animation->transposed,
                              "Animate the input gradient (a transposed convolution) instead");
  animation_command->add_option("--delay", animation->delay, "Time per frame in hundredths of a second")
      ->capture_default_str()
      ->check(integer_at_least(1));
  animation_command->add_option("--out", animation->out, "GIF file to write (its folder is created if needed)")
      ->required();
  animation_command->callback([animation] { run_animation(*animation); });

  auto roofline = std::make_shared<BenchOptions>();
  CLI::App* roofline_command =
      plot->add_subcommand("roofline", "Roofline: arithmetic intensity vs GFLOP/s under the FMA and bandwidth limits");
  add_bench_options(roofline_command, *roofline);
  roofline_command->add_option("--bandwidth-gbs", roofline->bandwidth_gbs, "Memory bandwidth to draw instead");
  roofline_command->callback([roofline] {
    plots::plot_roofline(read_bench(*roofline), roofline->selection, roofline->out);
    report(roofline->out);
  });
}

}  // namespace convlab::cli
