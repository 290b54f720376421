// convlab_bench's entry point: measures the machine's FMA peak, registers every benchmark family, adds the
// context a reader needs to interpret the figures (build flags, peak, peers, load), then runs Google
// Benchmark. Flags of its own, taken out before Google Benchmark sees the rest:
//   --convlab_quick        the reduced plan of scripts/bench.sh --quick
//   --convlab_list_cases   print the plan as JSON (what the Python peers time) and exit
//   --convlab_no_onednn    leave the oneDNN peer out
//   --convlab_no_xnnpack   leave the XNNPACK peer out
//   --convlab_epoch_images=N   train the epoch benchmarks on the first N MNIST images (default: 60000, quick 3200)
//   --shapes FILE, --shape DESC   time these layers instead of the standard shape files (see kUsage)
#include <benchmark/benchmark.h>

#include <cstring>
#include <stdexcept>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_peak.hpp"
#include "bench/bench_suites.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/machine/machine_description.hpp"
#include "common/machine/openmp_spin.hpp"

namespace {

constexpr const char* kUsage = R"(convlab_bench: convlab's convolution benchmarks (Google Benchmark).
Without --shapes/--shape it times the standard shape files in bench/shapes/ (mnist, resnet, deepbench, tails).

convlab_bench's own flags:
  --shapes FILE            time the layers of a shape file (one benchdnn descriptor per line, # comments);
                           repeatable
  --shape DESC             time one layer given as a benchdnn descriptor, e.g. 'mb64ic20ih24oc50kh5sh2n"conv2"';
                           repeatable. Each layer runs at its mb (64 without one) and at batch 1
  --convlab_quick          the reduced plan of scripts/bench.sh --quick (mnist.txt at its batches)
  --convlab_list_cases     print the plan as JSON (what the Python peers time) and exit
  --convlab_no_onednn      leave the oneDNN peer out
  --convlab_no_xnnpack     leave the XNNPACK peer out
  --convlab_epoch_images=N train the epoch benchmarks on the first N MNIST images (default 60000, quick 3200)
Descriptor syntax: bench/README.md. Google Benchmark's flags follow.
)";

struct OwnFlags {
  bool quick = false;
  convlab::bench::PlanRequest plan;
  bool list_cases = false;
  bool no_onednn = false;
  bool no_xnnpack = false;
  std::size_t epoch_images = 0;  // 0: the plan's default
  bool only_listing = false;  // Google Benchmark was asked to list names: measure nothing
};

std::size_t parse_count(const std::string& flag) {
  const std::string value = flag.substr(flag.find('=') + 1);
  std::size_t used = 0;
  unsigned long long count = 0;
  try {
    count = std::stoull(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || count == 0)
    throw std::invalid_argument("convlab_bench: " + flag + ": expected a positive count");
  return std::size_t(count);
}

// The value of `--name VALUE` or `--name=VALUE` when argv[i] is that flag (advancing i past a separate value).
std::optional<std::string> flag_value(const std::string& name, int argc, char** argv, int& i) {
  const std::string arg = argv[i];
  if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
  if (arg != name) return std::nullopt;
  if (i + 1 >= argc) throw std::invalid_argument("convlab_bench: " + name + " needs a value (see --help)");
  return std::string(argv[++i]);
}

// Removes convlab's flags from argv (Google Benchmark rejects flags it does not know).
OwnFlags take_own_flags(int& argc, char** argv) {
  OwnFlags flags;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (auto file = flag_value("--shapes", argc, argv, i)) flags.plan.shape_files.push_back(*file);
    else if (auto descriptor = flag_value("--shape", argc, argv, i)) flags.plan.descriptors.push_back(*descriptor);
    else if (arg == "--convlab_quick") flags.quick = true;
    else if (arg == "--convlab_list_cases") flags.list_cases = true;
    else if (arg == "--convlab_no_onednn") flags.no_onednn = true;
    else if (arg == "--convlab_no_xnnpack") flags.no_xnnpack = true;
    else if (arg.rfind("--convlab_epoch_images=", 0) == 0) flags.epoch_images = parse_count(arg);
    else if (arg == "--benchmark_format=csv" || arg == "--benchmark_out_format=csv") {
      // Google Benchmark's CSV reporter aborts the run when a row lacks a counter an earlier row had, and
      // the peers carry counters of their own (oneDNN's chosen prop kind, XNNPACK's layout).
      throw std::invalid_argument(arg + ": CSV cannot hold these benchmarks (their counters differ from row "
                                  "to row); use json or console");
    } else {
      if (arg.rfind("--benchmark_list_tests", 0) == 0 && arg != "--benchmark_list_tests=false")
        flags.only_listing = true;
      argv[kept++] = argv[i];
      // Google Benchmark prints its own flags for --help (it does not know -h) and exits; ours come first.
      if (arg == "--help" || arg == "-h") {
        static char help[] = "--help";
        std::cout << kUsage;
        argv[kept - 1] = help;
      }
    }
  }
  argc = kept;
  argv[argc] = nullptr;
  flags.plan.quick = flags.quick;
  return flags;
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(file >> one >> five >> fifteen)) return "unknown";
  return one + " " + five + " " + fifteen + " (1, 5, 15 min)";
}

std::string format_gflops(double flops) {
  std::ostringstream text;
  text.precision(1);
  text << std::fixed << flops / 1e9;
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  convlab::bound_openmp_spin(argv);  // may re-execute the program once (see common/machine/openmp_spin.hpp)
  using namespace convlab::bench;
  OwnFlags flags;
  BenchPlan plan;
  try {
    flags = take_own_flags(argc, argv);
    plan = make_bench_plan(flags.plan);
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    std::cerr << (message.rfind("convlab_bench:", 0) == 0 ? "" : "convlab_bench: ") << message << "\n";
    return 2;
  }
  if (flags.list_cases) {
    std::cout << bench_plan_json(plan);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;  // a usage error, as everywhere else

  // The peak the conv benchmarks' peak_fraction counters divide by; the peak/fma benchmarks measure it again
  // with Google Benchmark's own statistics for the summary.
  static StartupPeak peak;
  if (!flags.only_listing) {
    for (int threads : plan.thread_counts) peak.float_flops[threads] = measure_fma_flops(false, threads, 0.15);
    peak.double_flops_1t = measure_fma_flops(true, 1, 0.15);
  }
  benchmark::AddCustomContext("convlab.mode", flags.quick ? "quick" : "full");
  benchmark::AddCustomContext("convlab.base_flags", CONVLAB_BASE_FLAGS);
  benchmark::AddCustomContext("convlab.load_average_at_start", load_average());
  benchmark::AddCustomContext("convlab.cpu", convlab::machine_description());
  benchmark::AddCustomContext("convlab.fma_kernel",
                              fma_kernel_arch() + ", " + std::to_string(fma_kernel_float_lanes()) + " floats/vector");
  for (const auto& [threads, flops] : peak.float_flops)
    benchmark::AddCustomContext("convlab.startup_fma_gflops.float.threads:" + std::to_string(threads),
                                format_gflops(flops));
  benchmark::AddCustomContext("convlab.startup_fma_gflops.double.threads:1", format_gflops(peak.double_flops_1t));
  std::string names;
  for (const convlab::ConvImplInfo& info : convlab::conv_implementations())
    names += (names.empty() ? "" : " ") + info.name;
  benchmark::AddCustomContext("convlab.implementations", names);
  std::string fast;
  for (const convlab::ConvImplInfo& info : convlab::conv_implementations())
    if (info.role == convlab::ConvRole::fast) fast += (fast.empty() ? "" : " ") + info.name;
  benchmark::AddCustomContext("convlab.fast_implementations", fast);

  register_peak_benchmarks(flags.quick);
  register_conv_benchmarks(plan, peak);
  if (flags.no_onednn) {
    benchmark::AddCustomContext("convlab.onednn", "left out (--convlab_no_onednn)");
  } else {
    const bool registered = register_onednn_benchmarks(plan, peak);
    benchmark::AddCustomContext("convlab.onednn", onednn_description());
    if (!registered) std::cerr << "convlab_bench: oneDNN peer skipped: " << onednn_description() << "\n";
  }
  if (flags.no_xnnpack) {
    benchmark::AddCustomContext("convlab.xnnpack", "left out (--convlab_no_xnnpack)");
  } else {
    const bool registered = register_xnnpack_benchmarks(plan, peak);
    benchmark::AddCustomContext("convlab.xnnpack", xnnpack_description());
    if (!registered) std::cerr << "convlab_bench: XNNPACK peer skipped: " << xnnpack_description() << "\n";
  }
  const std::size_t epoch_images = flags.epoch_images ? flags.epoch_images : (flags.quick ? 3200 : 60000);
  benchmark::AddCustomContext("convlab.epoch_images", std::to_string(epoch_images));
  register_ladder_benchmarks(plan, peak);
  register_epoch_benchmarks(plan, epoch_images);

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
