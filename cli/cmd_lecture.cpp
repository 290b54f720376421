// `convlab lecture`: the lecture's experiment as it ran, then as its arguments asked for.
//
// The lecture built NeuralNetworkConvolutionalClassifier(1, [20, 50], 10, inputShape=(28, 28),
// windowShape=(5, 5), windowStrides=(4, 4)) and trained it with full-batch scaled conjugate gradient for
// 100 iterations, in float64, on the 50000 training images of its mnist.pkl.gz (pixels / 256), testing on
// the 10000 test images. Its code ignored windowStrides, so the network it trained had stride 1 (a
// 24 x 24 x 20 first layer). This command trains that network the same way and prints the lecture's report
// beside the lecture's own numbers; then it trains the network with the strides honoured (6 x 6 x 20) to
// show what (4, 4) would have done. The initial weights are convlab's (seeded), not the lecture's, so
// accuracies agree to within what a different initialisation moves, not to the digit.
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/classifier_report.hpp"
#include "cli/commands.hpp"
#include "cli/training_options.hpp"
#include "cli/lecture_printed.hpp"
#include "common/machine/machine_description.hpp"
#include "cli/numpy_format.hpp"
#include "common/io/atomic_file.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/nn/model_file.hpp"
#include "common/nn/training_run.hpp"

namespace convlab::cli {
namespace {

struct LectureOptions {
  std::string impl{kDefaultConvImpl};
  int iterations = 100;
  long long train_limit = 50000;  // the lecture's mnist.pkl.gz training set: the first 50000 MNIST images
  long long test_limit = 0;       // 0: all 10000
  long long seed = 1;
  int threads = 0;
  bool skip_strided = false;
  std::string save_dir, json_path;
};

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// The lecture's printed test matrix in the same format (a printed 0 is a cell without samples).
std::string format_lectures_matrix() {
  std::vector<double> percent;
  std::vector<bool> empty;
  for (const auto& row : lecture_printed::kTestConfusion)
    for (double value : row) {
      percent.push_back(value);
      empty.push_back(value == 0);
    }
  return format_confusion_percentages(10, percent, empty);
}

// Two blocks of lines side by side, `left` padded to `width` columns.
std::string side_by_side(const std::string& left, const std::string& right, std::size_t width) {
  std::istringstream left_lines(left), right_lines(right);
  std::string text, a, b;
  while (true) {
    const bool has_a = bool(std::getline(left_lines, a)), has_b = bool(std::getline(right_lines, b));
    if (!has_a && !has_b) break;
    if (!has_a) a.clear();
    if (!has_b) b.clear();
    text += a + std::string(a.size() < width ? width - a.size() : 1, ' ') + b + "\n";
  }
  return text;
}

struct RunResult {
  double seconds = 0, train_percent = 0, test_percent = 0, final_error = 0;
  std::size_t errors_recorded = 0;
  nlohmann::json json;  // what --json writes for this network
};

RunResult run_variant(const LectureOptions& options, const Architecture& architecture, const Dataset& train,
                      const Dataset& test, const std::vector<double>& train_inputs,
                      const std::vector<double>& test_inputs, bool lectures_own, const std::string& model_name) {
  Network<double> network(architecture, network_conv_factory(options.impl, architecture, true),
                          std::uint64_t(options.seed));
  TrainingPlan plan;
  plan.use_scg = true;
  std::cout << std::flush;  // the progress lines go to stderr, the results to stdout
  plan.scg_iterations = options.iterations;
  const TrainingOutcome outcome =
      train_network<double>(network, plan, train_inputs, train.labels, test_inputs, test.labels, &std::cerr);

  RunResult result;
  result.seconds = outcome.training_seconds;
  result.errors_recorded = outcome.scg_error_trace.size();
  result.final_error = outcome.scg_error_trace.empty() ? 0.0 : outcome.scg_error_trace.back();
  std::cout << "\nNetwork was trained for " << result.errors_recorded << " iterations that took "
            << fixed(result.seconds, 4) << " seconds. Final error is " << numpy_scalar(result.final_error) << ".\n";
  if (lectures_own) {
    std::cout << "   lecture: " << lecture_printed::kErrorsRecorded << " iterations that took "
              << fixed(lecture_printed::kTrainingSeconds, 4) << " seconds, final error "
              << lecture_printed::kFinalError << "\n"
              << "   (both count the initial error as an iteration: " << options.iterations
              << " SCG iterations record " << options.iterations + 1 << " errors)\n";
  }

  const std::vector<std::uint8_t> train_predicted = network.classify(train_inputs);
  const std::vector<std::uint8_t> test_predicted = network.classify(test_inputs);
  result.train_percent = percent_correct(train_predicted, train.labels);
  result.test_percent = percent_correct(test_predicted, test.labels);
  const ConfusionMatrix train_matrix(architecture.classes, train_predicted, train.labels);
  const ConfusionMatrix test_matrix(architecture.classes, test_predicted, test.labels);
  result.json = {{"network", architecture.describe()},
                 {"parameters", architecture.parameter_count()},
                 {"window_strides", {architecture.conv_layers.front().stride_height, architecture.conv_layers.front().stride_width}},
                 {"training_seconds", result.seconds},
                 {"errors_recorded", result.errors_recorded},
                 {"final_error", result.final_error},
                 {"error_trace", outcome.scg_error_trace},
                 {"train", {{"percent_correct", result.train_percent},
                            {"confusion", confusion_json(train_matrix, architecture.classes)}}},
                 {"test", {{"percent_correct", result.test_percent},
                           {"confusion", confusion_json(test_matrix, architecture.classes)}}}};

  std::cout << "\nTraining data: Percent Correct  " << fixed(result.train_percent, 2);
  if (lectures_own) std::cout << "   (lecture: " << fixed(lecture_printed::kTrainPercent, 2) << ", 100.0 on the diagonal)";
  std::cout << "\n" << train_matrix.format();
  std::cout << "\nTesting data: Percent Correct  " << fixed(result.test_percent, 2);
  if (lectures_own) {
    std::cout << "   (lecture: " << fixed(lecture_printed::kTestPercent, 2) << ")\n"
              << side_by_side("convlab", "the lecture", 60)
              << side_by_side(test_matrix.format(), format_lectures_matrix(), 60);
  } else {
    std::cout << "\n" << test_matrix.format();
  }

  // The lecture's nnet.Vs[0] (a column of window weights plus a bias per unit) and Z[0] (the first layer's
  // outputs for every test image), as shapes.
  const LayerGeometry& conv = network.layers().front();
  const std::array<Index, 2> filter_shape{conv.fan_in + 1, conv.units};
  const std::array<Index, 2> hidden_shape{Index(test.count()), conv.output_size()};
  std::cout << "\nfilters = nnet.Vs[0]: shape " << numpy_tuple(filter_shape) << " (" << conv.fan_in
            << " window weights and a bias per unit)";
  if (lectures_own) std::cout << "   (lecture: " << lecture_printed::kFilterShape << ")";
  std::cout << "\nZ[0] for the test set: shape " << numpy_tuple(hidden_shape) << " (" << conv.out_height << " x "
            << conv.out_width << " x " << conv.units << " per image)";
  if (lectures_own && test.count() == 10000) std::cout << "   (lecture: " << lecture_printed::kHiddenShape << ")";
  std::cout << "\n";

  if (!options.save_dir.empty()) {
    SavedModel model;
    model.architecture = architecture;
    model.precision = Precision::Double;
    model.scaling = PixelScaling{};
    model.parameters.assign(network.parameters().begin(), network.parameters().end());
    const std::filesystem::path model_path = std::filesystem::path(options.save_dir) / (model_name + ".model");
    save_model(model_path, model);
    const std::filesystem::path history_path = std::filesystem::path(options.save_dir) / (model_name + ".csv");
    write_file_atomically(history_path, std::as_bytes(std::span<const char>(outcome.history_csv)), "history");
    std::cout << "Model saved to " << model_path.string() << ", training curve to " << history_path.string() << "\n";
  }
  return result;
}

void run_lecture(const LectureOptions& options) {
  // An unknown name, or a layer of either network the implementation cannot run: refused before the data loads.
  for (const auto& strides : {std::pair<Index, Index>{1, 1}, {4, 4}})
    network_conv_factory(options.impl, Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, strides), true);
  const Dataset train = load_dataset("mnist", DatasetSplit::train, std::size_t(options.train_limit));
  const Dataset test = load_dataset("mnist", DatasetSplit::test,
                                    options.test_limit > 0 ? std::optional<std::size_t>(options.test_limit)
                                                           : std::nullopt);
  // The folder is made only once the data is there, and checked before an hour could be spent training.
  if (!options.save_dir.empty()) {
    std::filesystem::create_directories(options.save_dir);
    check_model_path_writable(std::filesystem::path(options.save_dir) / "lecture.model");
  }
  if (!options.json_path.empty()) check_output_writable(options.json_path, "JSON results");
  const PixelScaling pixels_over_256{};  // the lecture's mnist.pkl.gz: byte / 256
  const std::vector<double> train_inputs = to_inputs<double>(train, pixels_over_256);
  const std::vector<double> test_inputs = to_inputs<double>(test, pixels_over_256);
  const bool lectures_data = train.count() == 50000 && test.count() == 10000 && options.iterations == 100;

  std::cout << "The lecture's experiment, as it ran\n\n"
            << "nnet = NeuralNetworkConvolutionalClassifier(1, [20, 50], 10, inputShape=(28, 28), windowShape=(5, 5),\n"
            << "                                            windowStrides=(4, 4))\n"
            << "nnet.train(Xtrain, Ttrain, " << options.iterations << ")   # full-batch SCG, float64\n\n"
            << "The lecture's code ignored windowStrides: the network it trained had stride 1.\n";
  const Architecture as_ran = Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1});
  std::cout << "Network " << as_ran.describe() << ", " << as_ran.parameter_count() << " parameters\n"
            << "Data: the first " << train.count() << " MNIST training images"
            << (train.count() == 50000 ? " (the lecture's mnist.pkl.gz training set)" : "") << ", " << test.count()
            << " test images, pixels / 256\n"
            << "Convolution " << options.impl << ", " << omp_get_max_threads() << " OpenMP threads, seed "
            << options.seed << "\n"
            << "Machine: " << machine_description() << "\n";
  if (!lectures_data) {
    std::cout << "Not the lecture's settings (it trained on 50000 images for 100 iterations and tested on 10000): "
                 "its numbers below are for its own run\n";
  }
  std::cout << "\n";
  const RunResult as_ran_result =
      run_variant(options, as_ran, train, test, train_inputs, test_inputs, true, "lecture");

  RunResult strided_result;
  const Architecture strided = Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {4, 4});
  if (!options.skip_strided) {
    std::cout << "\n\nThe same network with windowStrides=(4, 4) honoured\n\n"
              << "Network " << strided.describe() << ", " << strided.parameter_count() << " parameters\n\n";
    strided_result = run_variant(options, strided, train, test, train_inputs, test_inputs, false, "lecture-strided");
  }

  std::cout << "\n\nSummary (test percent correct, training time)\n"
            << "  the lecture (its machine):              " << fixed(lecture_printed::kTestPercent, 2) << " %, "
            << fixed(lecture_printed::kTrainingSeconds, 1) << " s\n"
            << "  convlab, as the lecture ran (stride 1): " << fixed(as_ran_result.test_percent, 2) << " %, "
            << fixed(as_ran_result.seconds, 1) << " s\n";
  if (!options.skip_strided) {
    std::cout << "  convlab, strides (4, 4) honoured:       " << fixed(strided_result.test_percent, 2) << " %, "
              << fixed(strided_result.seconds, 1) << " s\n";
  }
  if (!options.json_path.empty()) {
    nlohmann::json networks = {{"as_ran", as_ran_result.json}};
    if (!options.skip_strided) networks["strides_honoured"] = strided_result.json;
    write_json_results(
        options.json_path,
        {{"command", "lecture"},
         {"settings", {{"impl", options.impl}, {"iterations", options.iterations}, {"train_images", train.count()},
                       {"test_images", test.count()}, {"pixels", "byte / 256"}, {"precision", "float64"},
                       {"optimizer", "scg"}, {"seed", options.seed}, {"threads", omp_get_max_threads()},
                       {"lectures_settings", lectures_data}}},
         {"machine", machine_description()},
         {"networks", networks},
         {"lecture_printed", {{"errors_recorded", lecture_printed::kErrorsRecorded},
                              {"training_seconds", lecture_printed::kTrainingSeconds},
                              {"final_error", lecture_printed::kFinalError},
                              {"train_percent_correct", lecture_printed::kTrainPercent},
                              {"test_percent_correct", lecture_printed::kTestPercent}}}});
    std::cout << "\nResults written to " << options.json_path << "\n";
  }
  std::cout << "\nThe lecture's slips, as convlab reads them:\n"
            << "  - windowStrides=(4, 4) was ignored: Z[0] was (10000, 11520) = 24 x 24 x 20 per image, not 6 x 6 x 20;\n"
            << "  - \"trained for 101 iterations\" after train(..., 100): the count includes the initial error;\n"
            << "  - its text counts 101 inputs per first-layer unit (10 x 10 + 1, the walk-through's windows); with\n"
            << "    5 x 5 windows a unit has 26, as the filters' shape (26, 20) shows;\n"
            << "  - the walk-through's text gives the windows' shape as (2, 2, 3, 2, 3), its code (2, 2, 3, 2, 2).\n";
}

}  // namespace

void add_lecture_command(CLI::App& app) {
  auto options = std::make_shared<LectureOptions>();
  CLI::App* command = app.add_subcommand(
      "lecture", "The lecture's experiment as it ran (SCG, 100 iterations, 50000 images / 256, stride 1), "
                 "beside its printed report, then with its windowStrides=(4, 4) honoured");
  command->add_option("--impl", options->impl, "Convolution implementation (see `convlab impls`)")->capture_default_str();
  command->add_option("--iterations", options->iterations, "SCG iterations")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--train-limit", options->train_limit, "Training images (the lecture's: the first 50000)")
      ->capture_default_str()
      ->check(integer_at_least(1));
  command->add_option("--test-limit", options->test_limit, "Only the first N test images (default: all)")
      ->check(integer_at_least(1));
  command->add_option("--seed", options->seed, "Seed of the initial weights")->capture_default_str()->check(integer_at_least(0));
  command->add_option("--threads", options->threads, "OpenMP threads (default: OpenMP's choice)")
      ->check(integer_at_least(1));
  command->add_flag("--skip-strided", options->skip_strided, "Train only the network as the lecture ran it");
  command->add_option("--save-dir", options->save_dir,
                      "Save lecture.model, lecture-strided.model and their training curves (CSV) here");
  command->add_option("--json", options->json_path,
                      "Also write the settings and, per network, the error trace, training time, percent correct "
                      "and confusion matrices of both sets as JSON to this file");
  command->callback([options, command] {
    if (command->count("--threads")) omp_set_num_threads(options->threads);
    run_lecture(*options);
  });
}

}  // namespace convlab::cli
