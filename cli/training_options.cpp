// Shared training options of `convlab train` and `convlab compare` (see training_options.hpp).
#include "cli/training_options.hpp"

#include <omp.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "cli/classifier_report.hpp"
#include "common/nn/optim_minibatch.hpp"

namespace convlab::cli {
namespace {

LearningRateSchedule parse_schedule(const std::string& name) {
  try {
    return parse_learning_rate_schedule(name);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("unknown --schedule '" + name + "' (known: constant, step, cosine, onecycle)");
  }
}

std::string shortest(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

void add_training_options(CLI::App& command, TrainingOptions& o) {
  command.add_option("--dataset", o.dataset, "mnist or fashion-mnist")->capture_default_str();
  command.add_option("--optimizer", o.optimizer, "scg (full batch), sgd or adam")->capture_default_str();
  command.add_option("--iterations", o.iterations, "SCG iterations")->capture_default_str();
  command.add_option("--epochs", o.epochs, "Epochs (sgd, adam)")->capture_default_str();
  command.add_option("--batch-size", o.batch_size, "Minibatch size (sgd, adam)")->capture_default_str();
  command.add_option("--lr", o.learning_rate, "Learning rate on the per-example cross-entropy, as PyTorch's (the peak for onecycle)")->capture_default_str();
  command.add_option("--momentum", o.momentum, "SGD momentum (onecycle cycles it 0.95-0.85 instead)")
      ->capture_default_str();
  command.add_option("--schedule", o.schedule, "constant, step, cosine or onecycle")->capture_default_str();
  command.add_option("--seed", o.seed, "Seed of the initial weights and the shuffle")->capture_default_str();
  command.add_option("--threads", o.threads, "OpenMP threads (default: OpenMP's choice)");
  command.add_option("--arch", o.arch, "Layers: conv<units>:<kh>x<kw>[:s<stride>][:p<pad>],...,dense<units>,...")
      ->capture_default_str();
  CLI::Option* limit = command.add_option("--train-limit", o.train_limit, "Use only the first N training images");
  if (o.train_limit > 0) limit->capture_default_str();
  command.add_option("--test-limit", o.test_limit, "Use only the first N test images (default: all)");
  command.add_option("--scaling", o.scaling, "Pixel scaling: lecture (byte/256) or standardize")->capture_default_str();
  command.add_option("--precision", o.precision, "float or double (default: double for scg, float otherwise)");
}

CheckedTraining check_training_options(const TrainingOptions& s, const CLI::App& command) {
  CheckedTraining checked;
  require_known_dataset(s.dataset);
  if (s.optimizer != "scg" && s.optimizer != "sgd" && s.optimizer != "adam") {
    throw std::invalid_argument("unknown --optimizer '" + s.optimizer + "' (known: scg, sgd, adam)");
  }
  TrainingPlan& plan = checked.plan;
  plan.use_scg = s.optimizer == "scg";
  require_at_least(s.iterations, 1, "--iterations");
  require_at_least(s.epochs, 1, "--epochs");
  require_at_least(s.batch_size, 1, "--batch-size");
  if (!(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    throw std::invalid_argument("--lr must be a positive number, got " + shortest(s.learning_rate));
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) {
    throw std::invalid_argument("--momentum must be in [0, 1), got " + shortest(s.momentum));
  }
  require_at_least(s.seed, 0, "--seed");
  if (command.count("--threads")) require_at_least(s.threads, 1, "--threads");
  if (command.count("--train-limit")) require_at_least(s.train_limit, 1, "--train-limit");
  if (s.train_limit > 0) checked.train_limit = std::size_t(s.train_limit);
  if (command.count("--test-limit")) require_at_least(s.test_limit, 1, "--test-limit");
  if (s.test_limit > 0) checked.test_limit = std::size_t(s.test_limit);
  checked.scaling = parse_scaling(s.scaling);
  if (s.precision.empty()) {
    checked.use_double = plan.use_scg;
  } else if (s.precision == "float" || s.precision == "double") {
    checked.use_double = s.precision == "double";
  } else {
    throw std::invalid_argument("unknown --precision '" + s.precision + "' (known: float, double)");
  }
  plan.scg_iterations = s.iterations;
  if (!plan.use_scg) {
    MinibatchOptions& minibatch = plan.minibatch;
    minibatch.algorithm = parse_minibatch_algorithm(s.optimizer);
    minibatch.schedule = parse_schedule(s.schedule);
    if (minibatch.algorithm == MinibatchAlgorithm::Sgd) plan.rate_factor = double(kDigitClasses);
    minibatch.learning_rate = s.learning_rate * plan.rate_factor;
    minibatch.momentum = s.momentum;
    minibatch.batch_size = s.batch_size;
    minibatch.epochs = s.epochs;
    minibatch.seed = std::uint64_t(s.seed);
  } else {
    parse_schedule(s.schedule);  // still reject a misspelt name
  }
  digit_architecture(s);
  return checked;
}

Architecture digit_architecture(const TrainingOptions& options) {
  return Architecture::parse(options.arch, 1, 28, 28, Index(kDigitClasses));  // both datasets: 28x28, 10 classes
}

std::function<std::unique_ptr<ConvImpl>()> network_conv_factory(const std::string& impl,
                                                                const Architecture& architecture, bool training) {
  const ConvImplInfo& info = conv_implementation(impl);  // an unknown name: the known ones listed
  if (const std::string why = unsupported_layer(info, architecture, training); !why.empty()) {
    throw std::invalid_argument(why);
  }
  return info.make;
}

void apply_thread_option(const TrainingOptions& options, const CLI::App& command) {
  if (command.count("--threads")) omp_set_num_threads(options.threads);
}

}  // namespace convlab::cli
