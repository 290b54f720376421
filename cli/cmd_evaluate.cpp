// `convlab evaluate`: loads a saved model and prints its percent correct and confusion matrix on a split.
#include <omp.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/classifier_report.hpp"
#include "cli/commands.hpp"
#include "cli/training_options.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/nn/model_file.hpp"

namespace convlab::cli {
namespace {

struct EvaluateSettings {
  std::string model_path;
  std::string dataset{kDefaultDataset};
  std::string split = "test";
  std::string impl{kDefaultConvImpl};
  int threads = 0;
  std::string json_path;  // empty: no JSON
};

template <typename T>
void evaluate_with(const EvaluateSettings& s, const SavedModel& model, const Dataset& data) {
  Network<T> network(model.architecture, network_conv_factory(s.impl, model.architecture, false));
  std::copy(model.parameters.begin(), model.parameters.end(), network.parameters().begin());  // exact: saved as T
  const std::vector<T> inputs = to_inputs<T>(data, model.scaling);
  const AccuracyReport report = report_accuracy<T>(
      network, inputs, data, "Confusion matrix, " + data.name + " " + s.split + " set (percent of each true class):");
  const double percent = report.percent;
  if (!s.json_path.empty()) {
    // The result for other programs: settings, images, percent correct, the confusion matrix (counts and the
    // percentages printed; rows: true class).
    write_json_results(s.json_path, {{"command", "evaluate"},
                                     {"model", s.model_path},
                                     {"architecture", model.architecture.describe()},
                                     {"precision", model.precision == Precision::Double ? "double" : "float"},
                                     {"dataset", data.name},
                                     {"split", s.split},
                                     {"impl", s.impl},
                                     {"threads", omp_get_max_threads()},
                                     {"images", data.count()},
                                     {"percent_correct", percent},
                                     {"seconds", report.seconds},
                                     {"confusion", confusion_json(report.matrix, model.architecture.classes)}});
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", percent);
  std::cout << "\nPercent correct on " << data.name << " " << s.split << ": " << text << "% (" << data.count()
            << " images)\n";
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto settings = std::make_shared<EvaluateSettings>();
  CLI::App* command = app.add_subcommand("evaluate", "Report a saved model's accuracy and confusion matrix");
  EvaluateSettings& s = *settings;
  command->add_option("--model", s.model_path, "Model file written by `convlab train --save`")->required();
  command->add_option("--dataset", s.dataset, "mnist or fashion-mnist")->capture_default_str();
  command->add_option("--split", s.split, "train or test")->capture_default_str();
  command->add_option("--impl", s.impl, "Convolution implementation (see `convlab impls`)")->capture_default_str();
  command->add_option("--threads", s.threads, "OpenMP threads (default: OpenMP's choice)");
  command->add_option("--json", s.json_path,
                      "Also write the result as JSON (settings, images, percent correct, confusion counts and percentages)");
  command->callback([settings, command] {
    const EvaluateSettings& s = *settings;
    conv_implementation(s.impl);
    require_known_dataset(s.dataset);
    const DatasetSplit split = parse_dataset_split(s.split);
    if (command->count("--threads")) {
      require_at_least(s.threads, 1, "--threads");
      omp_set_num_threads(s.threads);
    }
    if (!s.json_path.empty()) check_output_writable(s.json_path, "JSON results");
    const SavedModel model = load_model(s.model_path);
    network_conv_factory(s.impl, model.architecture, false);  // a layer the implementation cannot run: refused now
    const Dataset data = load_dataset(s.dataset, split);
    require_fits(model.architecture, data);
    std::cout << "Model " << s.model_path << ": " << model.architecture.describe() << ", "
              << (model.precision == Precision::Double ? "double" : "float") << ", scaling "
              << to_string(model.scaling.kind) << "\n";
    if (model.precision == Precision::Double) {
      evaluate_with<double>(s, model, data);
    } else {
      evaluate_with<float>(s, model, data);
    }
  });
}

}  // namespace convlab::cli
