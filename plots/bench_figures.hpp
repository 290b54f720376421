// Benchmark charts from Google Benchmark JSON (what convlab_bench --benchmark_format=json and the Python
// peers write): GFLOP/s bars per implementation for each case, and a roofline.
//
// Names follow bench/bench_plan.hpp: conv/<impl>/<pass>/<shape>/<dtype>/batch:<N>/threads:<T> with the
// counters GFLOPS and arithmetic_intensity; the machine's limits come from the same run's
// peak/fma/<dtype>/threads:<T> (GFLOPS) and peak/memory/<read|write|copy>/threads:<T> (GBps). Suffixes
// Google Benchmark adds (/real_time, /iterations:..) are ignored; failed runs (error_occurred) are skipped;
// repetitions of one name are reduced to their median (the "median" aggregate when the file has one).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

struct ConvBenchResult {
  std::string impl, pass, shape, dtype;
  long batch = 0;
  int threads = 1;
  double gflops = 0.0;
  std::optional<double> arithmetic_intensity;  // flop per byte of compulsory traffic
};

struct MachineLimit {
  double value = 0.0;      // GFLOP/s for a peak, GB/s for a bandwidth
  std::string source;      // which benchmark (or option) it came from
};

struct BenchRun {
  std::vector<ConvBenchResult> conv;
  std::map<std::string, std::map<int, MachineLimit>> fma_peak;  // dtype -> threads -> GFLOP/s
  std::map<int, MachineLimit> bandwidth;                         // threads -> GB/s (read, else copy, else write)
  std::string machine;                                           // host, CPUs and MHz from the context, if any
};

// Reads one or more JSON files (their results are merged; later files add peers). Throws std::runtime_error
// naming the file on unreadable JSON or a file with no benchmarks array.
BenchRun read_benchmark_json(const std::vector<std::filesystem::path>& paths);

struct BenchSelection {
  std::string pass = "forward";
  std::string dtype = "float";
  std::optional<int> threads;  // roofline: which thread count (default: the largest present)
};

// Bars: x = (shape, batch, threads) cases in file order, one bar per implementation, log-scale GFLOP/s, a
// dashed horizontal line per thread count at the measured FMA peak. Throws std::invalid_argument when no
// result matches the selection.
// Datablocks $impl<i> (rows "bar x, GFLOP/s" of implementation i) and $peak<j> (the peak lines' segments).
FigureScript bench_bars_figure(const BenchRun& run, const BenchSelection& selection);
void plot_bench_bars(const BenchRun& run, const BenchSelection& selection, const std::filesystem::path& out);

// Log-log roofline for one thread count: min(peak, bandwidth x intensity) and each implementation's cases
// (every pass of the selected dtype) as points. Needs both limits (from the run or set on `run`).
// Datablocks $impl<i>: rows "intensity GFLOP/s marker" of implementation i; the roof from `peak` and `bandwidth`.
FigureScript roofline_figure(const BenchRun& run, const BenchSelection& selection);
void plot_roofline(const BenchRun& run, const BenchSelection& selection, const std::filesystem::path& out);

}  // namespace convlab::plots
