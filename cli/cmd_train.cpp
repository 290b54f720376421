// `convlab train`: trains the classifier on a digit dataset with SCG, SGD or Adam and reports accuracy.
// With no options it runs the lecture's network (1, [20, 50], 10, (28, 28), (5, 5), (1, 1)) on MNIST with
// the recipe measured to reach the lecture's accuracy: standardised pixels, SGD with momentum 0.9, a
// one-cycle schedule peaking at lr 0.05, batch 64, 6 epochs (found with PyTorch on this machine kind).
// The options it shares with `convlab compare` (and --lr's units) are in cli/training_options.hpp.
#include <omp.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/classifier_report.hpp"
#include "cli/commands.hpp"
#include "cli/training_options.hpp"
#include "common/io/atomic_file.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/nn/model_file.hpp"

namespace convlab::cli {
namespace {

struct TrainSettings {
  std::string impl{kDefaultConvImpl};
  TrainingOptions training;
  std::string save_path, history_path, json_path;
};

// The training curve's CSV (header, then one row per iteration or epoch) as a list of objects.
nlohmann::json history_json(const std::string& csv) {
  std::vector<std::string> lines;
  std::string line;
  for (std::istringstream text(csv); std::getline(text, line);)
    if (!line.empty()) lines.push_back(line);
  const auto split = [](const std::string& row) {
    std::vector<std::string> fields;
    std::string field;
    for (std::istringstream cells(row); std::getline(cells, field, ',');) fields.push_back(field);
    return fields;
  };
  nlohmann::json rows = nlohmann::json::array();
  if (lines.empty()) return rows;
  const std::vector<std::string> header = split(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> fields = split(lines[i]);
    nlohmann::json row = nlohmann::json::object();
    for (std::size_t f = 0; f < header.size() && f < fields.size(); ++f) {
      if (header[f] == "iteration" || header[f] == "epoch") row[header[f]] = std::stoll(fields[f]);
      else row[header[f]] = std::stod(fields[f]);
    }
    rows.push_back(row);
  }
  return rows;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

CheckedTraining check(const TrainSettings& s, const CLI::App& command) {
  const CheckedTraining checked = check_training_options(s.training, command);
  network_conv_factory(s.impl, digit_architecture(s.training), true);  // an unknown name, or a layer it cannot run
  if (!s.save_path.empty()) check_model_path_writable(s.save_path);
  if (!s.history_path.empty()) check_output_writable(s.history_path, "history");
  if (!s.json_path.empty()) check_output_writable(s.json_path, "JSON results");
  return checked;
}

template <typename T>
void train_with(const TrainSettings& s, const CheckedTraining& checked, const Dataset& train, const Dataset& test,
                const PixelScaling& scaling, const Architecture& architecture) {
  const std::vector<T> train_inputs = to_inputs<T>(train, scaling);
  const std::vector<T> test_inputs = to_inputs<T>(test, scaling);
  Network<T> network(architecture, network_conv_factory(s.impl, architecture, true), std::uint64_t(s.training.seed));

  std::cout << "Network " << architecture.describe() << ", " << network.parameter_count() << " parameters, "
            << (checked.use_double ? "double" : "float") << "\n"
            << "Data " << train.name << ": " << train.count() << " training and " << test.count()
            << " test images, scaling " << to_string(scaling.kind) << " (mean " << fixed(scaling.mean, 4)
            << ", std " << fixed(scaling.stddev, 4) << " in byte units)\n"
            << "Convolution " << s.impl << ", " << omp_get_max_threads() << " OpenMP threads, seed "
            << s.training.seed << "\n"
            << std::flush;  // before the progress lines, which go to stderr (results to stdout)

  const TrainingOutcome outcome = train_network<T>(network, checked.plan, train_inputs, train.labels, test_inputs,
                                                   test.labels, &std::cerr);

  std::cout << "\nTraining took " << fixed(outcome.training_seconds, 2) << " s"
            << (checked.plan.use_scg ? "" : " (not counting the per-epoch test evaluation)") << "\n";
  const AccuracyReport train_report = report_accuracy<T>(network, train_inputs, train,
                                                         "Confusion matrix, training set (percent of each true class):");
  const AccuracyReport test_report = report_accuracy<T>(network, test_inputs, test,
                                                        "Confusion matrix, test set (percent of each true class):");
  const double train_percent = train_report.percent, test_percent = test_report.percent;
  std::cout << "\nPercent correct: train " << fixed(train_percent, 2) << "%, test " << fixed(test_percent, 2)
            << "%\n";

  if (!s.json_path.empty()) {
    const Index classes = architecture.classes;
    write_json_results(s.json_path,
                       {{"command", "train"},
                        {"architecture", architecture.describe()},
                        {"parameters", network.parameter_count()},
                        {"precision", checked.use_double ? "double" : "float"},
                        {"optimizer", checked.plan.use_scg ? "scg" : to_string(checked.plan.minibatch.algorithm)},
                        {"dataset", train.name},
                        {"train_images", train.count()},
                        {"test_images", test.count()},
                        {"scaling", {{"kind", to_string(scaling.kind)}, {"mean", scaling.mean}, {"stddev", scaling.stddev}}},
                        {"impl", s.impl},
                        {"threads", omp_get_max_threads()},
                        {"seed", s.training.seed},
                        {"training_seconds", outcome.training_seconds},
                        {"history", history_json(outcome.history_csv)},
                        {"train", {{"percent_correct", train_percent}, {"confusion", confusion_json(train_report.matrix, classes)}}},
                        {"test", {{"percent_correct", test_percent}, {"confusion", confusion_json(test_report.matrix, classes)}}}});
    std::cout << "Results written to " << s.json_path << "\n";
  }
  if (!s.history_path.empty()) {
    const std::string& text = outcome.history_csv;
    write_file_atomically(s.history_path, std::as_bytes(std::span<const char>(text)), "history");
    std::cout << "Training curve written to " << s.history_path << "\n";
  }
  if (!s.save_path.empty()) {
    SavedModel model;
    model.architecture = architecture;
    model.precision = checked.use_double ? Precision::Double : Precision::Float;
    model.scaling = scaling;
    model.parameters.assign(network.parameters().begin(), network.parameters().end());
    save_model(s.save_path, model);
    std::cout << "Model saved to " << s.save_path << "\n";
  }
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto settings = std::make_shared<TrainSettings>();
  CLI::App* command = app.add_subcommand("train", "Train the classifier (default: the lecture's network on MNIST)");
  TrainSettings& s = *settings;
  command->add_option("--impl", s.impl, "Convolution implementation (see `convlab impls`)")->capture_default_str();
  add_training_options(*command, s.training);
  command->add_option("--save", s.save_path, "Save the trained model here");
  command->add_option("--history", s.history_path, "Write the training curve here (CSV)");
  command->add_option("--json", s.json_path,
                      "Also write the results as JSON: settings, the training curve, time, percent correct and confusion "
                      "matrices of both sets");
  command->callback([settings, command] {
    const TrainSettings& s = *settings;
    const CheckedTraining checked = check(s, *command);
    apply_thread_option(s.training, *command);
    const Dataset train = load_dataset(s.training.dataset, DatasetSplit::train, checked.train_limit);
    const Dataset test = load_dataset(s.training.dataset, DatasetSplit::test);
    const PixelScaling scaling = fit_scaling(checked.scaling, train);
    const Architecture architecture =
        Architecture::parse(s.training.arch, 1, Index(train.rows), Index(train.cols), Index(kDigitClasses));
    if (checked.use_double) {
      train_with<double>(s, checked, train, test, scaling, architecture);
    } else {
      train_with<float>(s, checked, train, test, scaling, architecture);
    }
  });
}

}  // namespace convlab::cli
