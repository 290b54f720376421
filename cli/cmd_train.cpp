// `convlab train`: trains the classifier on a digit dataset with SCG, SGD or Adam and reports accuracy.
// With no options it runs the lecture's network (1, [20, 50], 10, (28, 28), (5, 5), (1, 1)) on MNIST with
// the recipe measured to reach the lecture's accuracy: standardised pixels, SGD with momentum 0.9, a
// one-cycle schedule peaking at lr 0.05, batch 128, 4 epochs (scripts/recipe_sweep.py's choice).
// The options it shares with `convlab compare` (and --lr's units) are in cli/training_options.hpp.
// --profile times every step operation by operation (common/nn/step_profile.hpp; with SCG a step is one
// iteration: its evaluations over the full batch and SCG's own vector arithmetic as "update") and prints the
// table to stderr after training, and into --json as "step_profile"; the weights are the same as without.
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
#include "common/machine/parallel_for.hpp"
#include "common/nn/model_file.hpp"
#include "common/nn/step_profile.hpp"

namespace convlab::cli {
namespace {

struct TrainSettings {
  std::string impl{kDefaultConvImpl};
  TrainingOptions training;
  std::string save_path, history_path, json_path;
  bool profile = false;
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

// The step profile as `--json` holds it: per operation its accumulated seconds, share of the steps' time,
// FLOPs and bytes, and GFLOP/s (the products) or GB/s (the rest), as bench/summarize.py reads them; "step" says
// what a step is ("step": a minibatch step; "iteration": an SCG iteration).
nlohmann::json step_profile_json(const StepProfile& profile, const std::string& step) {
  nlohmann::json operations = nlohmann::json::object();
  for (int i = 0; i < kStepOperationCount; ++i) {
    const auto operation = StepOperation(i);
    const double seconds = profile.seconds(operation);
    nlohmann::json entry = {{"seconds", seconds}, {"share", profile.share(operation)}};
    if (operation != StepOperation::other) {
      const bool product = step_operation_is_product(operation);
      entry["flops"] = profile.flops(operation);
      entry["bytes"] = profile.bytes(operation);
      entry[product ? "GFLOPS" : "GBps"] =
          seconds > 0 ? (product ? profile.flops(operation) : profile.bytes(operation)) / seconds / 1e9 : 0.0;
    }
    operations[std::string(step_operation_name(operation))] = entry;
  }
  return {{"step", step},
          {"steps", profile.steps()},
          {"examples", profile.examples()},
          {"step_seconds", profile.step_seconds()},
          {"threads", omp_get_max_threads()},
          {"operations", operations}};
}

// The table --profile prints: per operation milliseconds per step, share, GFLOP/s or GB/s. The fraction of
// each operation's bound needs the machine's measured peak: convlab_bench's epoch benchmarks have it
// (bench/summarize.py), and scripts/report.sh sets this run's table against its quick benchmark's.
// `step`: what one step is ("step" for a minibatch step, "iteration" for an SCG iteration).
void print_step_profile(std::ostream& out, const StepProfile& profile, const std::string& step) {
  if (profile.steps() == 0) {
    out << "\nStep profile: no " << step << " was timed\n";
    return;
  }
  const double steps = double(profile.steps());
  out << "\nStep profile: " << profile.steps() << " " << step << "s (" << profile.examples() << " examples), "
      << fixed(1e3 * profile.step_seconds() / steps, 3) << " ms per " << step << ", " << omp_get_max_threads()
      << " OpenMP threads; share of the " << step << "s' wall time, other = the rest\n";
  char line[160];
  std::snprintf(line, sizeof line, "%-17s %14s %8s %9s %9s\n", "operation", ("ms per " + step).c_str(), "share",
                "GFLOP/s", "GB/s");
  out << line;
  for (int i = 0; i < kStepOperationCount; ++i) {
    const auto operation = StepOperation(i);
    const double seconds = profile.seconds(operation);
    if (operation != StepOperation::other && seconds == 0) continue;  // never ran (a first layer's input gradient)
    std::string gflops = "-", gbps = "-";
    if (operation != StepOperation::other && seconds > 0) {
      if (step_operation_is_product(operation)) gflops = fixed(profile.flops(operation) / seconds / 1e9, 1);
      else gbps = fixed(profile.bytes(operation) / seconds / 1e9, 1);
    }
    std::snprintf(line, sizeof line, "%-17s %14s %6s %% %9s %9s\n", std::string(step_operation_name(operation)).c_str(),
                  fixed(1e3 * seconds / steps, 3).c_str(), fixed(100 * profile.share(operation), 1).c_str(),
                  gflops.c_str(), gbps.c_str());
    out << line;
  }
  out << std::flush;
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

  StepProfile profile;
  TrainingPlan plan = checked.plan;
  if (s.profile) (plan.use_scg ? plan.scg_profile : plan.minibatch.profile) = &profile;
  const TrainingOutcome outcome = train_network<T>(network, plan, train_inputs, train.labels, test_inputs,
                                                   test.labels, &std::cerr);
  const std::string step = plan.use_scg ? "iteration" : "step";
  if (s.profile) print_step_profile(std::cerr, profile, step);

  std::cout << "\nTraining took " << fixed(outcome.training_seconds, 2) << " s"
            << (checked.plan.use_scg ? "" : " (not counting the per-epoch test evaluation)") << "\n"
            << "Parallel loops ran on up to " << largest_team() << (largest_team() == 1 ? " thread\n" : " threads\n");
  const AccuracyReport train_report = report_accuracy<T>(network, train_inputs, train,
                                                         "Confusion matrix, training set (percent of each true class):");
  const AccuracyReport test_report = report_accuracy<T>(network, test_inputs, test,
                                                        "Confusion matrix, test set (percent of each true class):");
  const double train_percent = train_report.percent, test_percent = test_report.percent;
  std::cout << "\nPercent correct: train " << fixed(train_percent, 2) << "%, test " << fixed(test_percent, 2)
            << "%\n";

  if (!s.json_path.empty()) {
    const Index classes = architecture.classes;
    nlohmann::json results = {{"command", "train"},
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
                              {"largest_team", largest_team()},
                              {"seed", s.training.seed},
                              {"training_seconds", outcome.training_seconds},
                              {"history", history_json(outcome.history_csv)},
                              {"train", {{"percent_correct", train_percent}, {"confusion", confusion_json(train_report.matrix, classes)}}},
                              {"test", {{"percent_correct", test_percent}, {"confusion", confusion_json(test_report.matrix, classes)}}}};
    if (s.profile) results["step_profile"] = step_profile_json(profile, step);
    write_json_results(s.json_path, results);
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
  command->add_flag("--profile", s.profile,
                    "Time each training step operation by operation (convolutions, dense products, tanh, softmax and "
                    "loss, update, data, the rest; with SCG each iteration, its own vector arithmetic as update): a "
                    "table on stderr after training, and \"step_profile\" in --json");
  command->callback([settings, command] {
    const TrainSettings& s = *settings;
    const CheckedTraining checked = check(s, *command);
    apply_thread_option(s.training, *command);
    const Dataset train = load_dataset(s.training.dataset, DatasetSplit::train, checked.train_limit);
    const Dataset test = load_dataset(s.training.dataset, DatasetSplit::test, checked.test_limit);
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
