// `convlab compare`: trains the same network from the same seed with every implementation (or --impls),
// naive first as the reference, and prints a table of training time, speed-up over the reference, train
// and test accuracy, the largest deviation of test probabilities from the reference and how many test
// predictions differ; writes it as compare.json and compare.csv (and, with --history, each training curve)
// under --out. This is what "compare implementation accuracy" means for users: the implementations are
// interchangeable when a whole training run with each lands on a classifier as accurate as naive's.
//
// The default budget is one epoch of the lecture's network (float, SGD one-cycle, batch 64) on all 60000
// MNIST training images, tested on all 10000 test images: its speed-ups are the per-epoch ratios. On the
// idle 2-core Zen 4 machine of 2026-12-01 naive trained for 70 s and the whole comparison of four
// implementations took about 2.5 minutes (docs/tutorial/07-cross-checks.md has its table).
// Over its 938 SGD steps the implementations' different summation orders (rounding differences of 1e-7)
// are amplified by the training dynamics, so the classifiers agree in accuracy but not prediction for
// prediction; fewer steps (a smaller --train-limit) show the agreement directly: see the measurements in
// tests/test_compare.cpp.
#include <omp.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/classifier_report.hpp"
#include "cli/commands.hpp"
#include "cli/training_options.hpp"
#include "cli/compare.hpp"
#include "common/conv/conv_registry.hpp"

namespace convlab::cli {
namespace {

struct CompareSettings {
  std::string impls;  // empty: every registered implementation
  TrainingOptions training;
  std::string out;  // empty: results/compare-<timestamp>
  bool history = false;
};

std::string default_out_folder() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
  return std::string("results/compare-") + stamp;
}

std::string describe_optimizer(const TrainingOptions& o, const TrainingPlan& plan) {
  if (plan.use_scg) return "scg, " + std::to_string(o.iterations) + " iterations";
  std::ostringstream text;
  text << o.optimizer << " " << to_string(plan.minibatch.schedule) << " lr " << o.learning_rate << ", batch "
       << o.batch_size << ", " << o.epochs << (o.epochs == 1 ? " epoch" : " epochs");
  return text.str();
}

template <typename T>
CompareReport run_comparison(const CompareSettings& s, const CheckedTraining& checked,
                             const std::vector<CompareCandidate>& candidates, const Dataset& train,
                             const Dataset& test, const PixelScaling& scaling, const Architecture& architecture) {
  const std::vector<T> train_inputs = to_inputs<T>(train, scaling);
  const std::vector<T> test_inputs = to_inputs<T>(test, scaling);
  CompareReport report;
  CompareContext& c = report.context;
  c.dataset = train.name;
  c.precision = checked.use_double ? "double" : "float";
  c.architecture = architecture.describe();
  c.optimizer = describe_optimizer(s.training, checked.plan);
  c.train_examples = Index(train.count());
  c.test_examples = Index(test.count());
  c.threads = omp_get_max_threads();
  c.seed = std::uint64_t(s.training.seed);
  std::cout << "Comparing " << candidates.size() << " implementations on " << c.dataset << " (" << c.train_examples
            << " training, " << c.test_examples << " test images), " << c.precision << ", " << c.threads
            << " OpenMP threads, seed " << c.seed << "\n"
            << std::flush;  // before the progress lines, which go to stderr (results to stdout)
  report.rows = compare_implementations<T>(candidates, architecture, c.seed, checked.plan, train_inputs,
                                           train.labels, test_inputs, test.labels, &std::cerr);
  return report;
}

}  // namespace

void add_compare_command(CLI::App& app) {
  auto settings = std::make_shared<CompareSettings>();
  CompareSettings& s = *settings;
  s.training.epochs = 1;
  s.training.batch_size = 64;  // compare's own budget (above), not train's recipe
  CLI::App* command = app.add_subcommand(
      "compare", "Train the same network with every implementation and compare time, accuracy and agreement");
  command->add_option("--impls", s.impls, "Comma-separated implementations (default: all; naive is the reference)");
  add_training_options(*command, s.training);
  command->add_option("--out", s.out, "Folder for compare.json/compare.csv (default: results/compare-<time>)");
  command->add_flag("--history", s.history, "Also write each implementation's training curve to <out>/history/");
  command->callback([settings, command] {
    const CompareSettings& s = *settings;
    std::vector<std::string> known;
    for (const ConvImplInfo& info : conv_implementations()) known.push_back(info.name);
    const std::vector<std::string> names = comparison_order(s.impls, known);
    const CheckedTraining checked = check_training_options(s.training, *command);

    // Listed by name, an implementation that cannot train this network is refused; by default it is left out
    // with the reason.
    const Architecture network = digit_architecture(s.training);
    std::vector<CompareCandidate> candidates;
    std::vector<std::string> left_out;  // said once the run is sure to start
    for (const std::string& name : names) {
      const ConvImplInfo& info = conv_implementation(name);
      if (const std::string why = unsupported_layer(info, network, true); !why.empty()) {
        if (!s.impls.empty()) throw std::invalid_argument("--impls: " + why);
        left_out.push_back(why);
        continue;
      }
      candidates.push_back({info.name, info.build_flags, info.make});
    }
    apply_thread_option(s.training, *command);
    const Dataset train = load_dataset(s.training.dataset, DatasetSplit::train, checked.train_limit);
    const Dataset test = load_dataset(s.training.dataset, DatasetSplit::test, checked.test_limit);
    const PixelScaling scaling = fit_scaling(checked.scaling, train);
    const Architecture architecture =
        Architecture::parse(s.training.arch, 1, Index(train.rows), Index(train.cols), Index(kDigitClasses));
    // Created only once the data has loaded (no empty folder is left by a missing dataset), checked
    // before any time is spent training.
    const std::string out = s.out.empty() ? default_out_folder() : s.out;
    prepare_compare_folder(out, s.history);
    for (const std::string& why : left_out) std::cerr << "compare: leaving out " << why << "\n";
    const CompareReport report =
        checked.use_double ? run_comparison<double>(s, checked, candidates, train, test, scaling, architecture)
                           : run_comparison<float>(s, checked, candidates, train, test, scaling, architecture);
    std::cout << "\n" << format_compare_table(report);
    for (const auto& path : write_compare_files(out, report, s.history)) std::cout << "Wrote " << path.string() << "\n";
    if (s.history) {
      const std::filesystem::path folder(out);
      std::cout << "Overlay the curves: convlab plot curve";
      for (const CompareRow& row : report.rows) {
        std::cout << " --history " << (folder / "history" / (row.impl + ".csv")).string();
      }
      std::cout << " --out " << (folder / "curves.png").string() << "\n";
    }
  });
}

}  // namespace convlab::cli
