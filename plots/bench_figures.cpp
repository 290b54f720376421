// Parsing Google Benchmark JSON into convolution results and machine limits, and drawing the two charts.
#include "plots/bench_figures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "plots/gnuplot_runner.hpp"

namespace convlab::plots {

namespace {

using nlohmann::json;

// Name components Google Benchmark appends for its own options; they do not identify a case.
bool is_runner_suffix(const std::string& part) {
  return part == "real_time" || part == "process_time" || part == "manual_time" || part.rfind("iterations:", 0) == 0 ||
         part.rfind("repeats:", 0) == 0 || part.rfind("min_time:", 0) == 0 || part.rfind("min_warmup_time:", 0) == 0;
}

struct ParsedName {
  std::vector<std::string> parts;             // plain components, in order
  std::map<std::string, std::string> values;  // key:value components
};

ParsedName parse_name(const std::string& name) {
  ParsedName parsed;
  std::istringstream stream(name);
  std::string part;
  while (std::getline(stream, part, '/')) {
    if (is_runner_suffix(part)) continue;
    const auto colon = part.find(':');
    if (colon == std::string::npos) parsed.parts.push_back(part);
    else parsed.values[part.substr(0, colon)] = part.substr(colon + 1);
  }
  return parsed;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

// One benchmark's measurements: the median aggregate if present, else the iteration runs' values.
struct Samples {
  json first;                      // the first entry seen (for its counters other than the rate)
  std::vector<double> rates;
  std::optional<double> median_aggregate;
};

std::optional<double> rate_of(const json& entry, const char* counter) {
  if (entry.contains(counter) && entry[counter].is_number()) return entry[counter].get<double>();
  return std::nullopt;
}

std::string gflops_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f", value);
  return text;
}

std::string threads_text(int threads) { return std::to_string(threads) + (threads == 1 ? " thread" : " threads"); }

}  // namespace

BenchRun read_benchmark_json(const std::vector<std::filesystem::path>& paths) {
  if (paths.empty()) throw std::invalid_argument("no benchmark JSON files given");
  BenchRun run;
  for (const std::filesystem::path& path : paths) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error(path.string() + ": cannot open the benchmark results");
    json document;
    try {
      document = json::parse(file);
    } catch (const json::exception& error) {
      throw std::runtime_error(path.string() + ": not valid JSON: " + error.what());
    }
    if (!document.is_object() || !document.contains("benchmarks") || !document["benchmarks"].is_array()) {
      throw std::runtime_error(path.string() + ": no \"benchmarks\" array (not Google Benchmark JSON output)");
    }
    if (run.machine.empty() && document.contains("context") && document["context"].is_object()) {
      const json& context = document["context"];
      std::ostringstream machine;
      if (context.contains("host_name")) machine << context["host_name"].get<std::string>();
      if (context.contains("num_cpus")) machine << ", " << context["num_cpus"].get<long>() << " CPUs";
      if (context.contains("mhz_per_cpu")) machine << " at " << context["mhz_per_cpu"].get<long>() << " MHz";
      if (context.contains("date")) machine << ", " << context["date"].get<std::string>();
      run.machine = machine.str();
    }
    // convlab_bench also measures the FMA peak at start-up, before the machine warms up and the load
    // changes; like bench/summarize.py, keep the larger of that and the peak benchmark's figure.
    std::map<std::pair<std::string, int>, MachineLimit> startup_peaks;
    if (document.contains("context") && document["context"].is_object()) {
      static const std::string prefix = "convlab.startup_fma_gflops.";
      for (const auto& [key, value] : document["context"].items()) {
        if (key.rfind(prefix, 0) != 0 || !value.is_string()) continue;
        const std::string rest = key.substr(prefix.size());  // "<dtype>.threads:<T>"
        const auto dot = rest.find(".threads:");
        if (dot == std::string::npos) continue;
        try {
          startup_peaks[{rest.substr(0, dot), std::stoi(rest.substr(dot + 9))}] = {std::stod(value.get<std::string>()),
                                                                                   "start-up " + key};
        } catch (const std::exception&) {
          throw std::runtime_error(path.string() + ": context entry " + key + " is not a number");
        }
      }
    }

    std::vector<std::string> order;
    std::map<std::string, Samples> by_name;
    for (const json& entry : document["benchmarks"]) {
      if (!entry.is_object() || !entry.contains("name")) continue;
      if (entry.value("error_occurred", false)) continue;
      const std::string run_name = entry.value("run_name", entry["name"].get<std::string>());
      const std::string kind = entry.value("run_type", std::string("iteration"));
      auto [found, inserted] = by_name.try_emplace(run_name);
      if (inserted) {
        order.push_back(run_name);
        found->second.first = entry;
      }
      const bool is_peak_memory = run_name.rfind("peak/memory/", 0) == 0;
      std::optional<double> rate = rate_of(entry, is_peak_memory ? "GBps" : "GFLOPS");
      if (!rate && !is_peak_memory) {
        if (auto items = rate_of(entry, "items_per_second")) rate = *items / 1e9;  // items counted as FLOPs
      }
      if (!rate) continue;
      if (kind == "aggregate") {
        if (entry.value("aggregate_name", std::string()) == "median") found->second.median_aggregate = rate;
      } else {
        found->second.rates.push_back(*rate);
      }
    }

    for (const std::string& run_name : order) {
      const Samples& samples = by_name[run_name];
      if (!samples.median_aggregate && samples.rates.empty()) continue;
      const double value = samples.median_aggregate ? *samples.median_aggregate : median(samples.rates);
      const ParsedName name = parse_name(run_name);
      const int threads = name.values.count("threads") ? std::stoi(name.values.at("threads")) : 1;
      if (name.parts.size() >= 3 && name.parts[0] == "peak" && name.parts[1] == "fma") {
        MachineLimit& peak = run.fma_peak[name.parts[2]][threads];
        if (value > peak.value) peak = {value, run_name};
      } else if (name.parts.size() >= 3 && name.parts[0] == "peak" && name.parts[1] == "memory") {
        // Prefer read bandwidth (what a convolution mostly does), else copy, else write.
        static const std::vector<std::string> preference = {"read", "copy", "write"};
        auto rank = [&](const std::string& source) {
          for (std::size_t index = 0; index < preference.size(); ++index) {
            if (source.find("/" + preference[index] + "/") != std::string::npos) return index;
          }
          return preference.size();
        };
        auto existing = run.bandwidth.find(threads);
        if (existing == run.bandwidth.end() || rank(run_name) < rank(existing->second.source)) {
          run.bandwidth[threads] = {value, run_name};
        }
      } else if (name.parts.size() >= 5 && name.parts[0] == "conv") {
        ConvBenchResult result;
        result.impl = name.parts[1];
        result.pass = name.parts[2];
        result.shape = name.parts[3];
        result.dtype = name.parts[4];
        result.batch = name.values.count("batch") ? std::stol(name.values.at("batch")) : 0;
        result.threads = threads;
        result.gflops = value;
        if (auto intensity = rate_of(samples.first, "arithmetic_intensity")) result.arithmetic_intensity = intensity;
        run.conv.push_back(result);
      }
    }
    for (const auto& [key, limit] : startup_peaks) {
      MachineLimit& peak = run.fma_peak[key.first][key.second];
      if (limit.value > peak.value) peak = limit;
    }
  }
  return run;
}

FigureScript bench_bars_figure(const BenchRun& run, const BenchSelection& selection) {
  struct Case {
    std::string shape;
    long batch;
    int threads;
    bool operator==(const Case&) const = default;
  };
  std::vector<Case> cases;
  std::vector<std::string> impls;
  std::vector<const ConvBenchResult*> chosen;
  for (const ConvBenchResult& result : run.conv) {
    if (result.pass != selection.pass || result.dtype != selection.dtype) continue;
    if (selection.threads && result.threads != *selection.threads) continue;
    const Case key{result.shape, result.batch, result.threads};
    if (std::find(cases.begin(), cases.end(), key) == cases.end()) cases.push_back(key);
    if (std::find(impls.begin(), impls.end(), result.impl) == impls.end()) impls.push_back(result.impl);
    chosen.push_back(&result);
  }
  if (chosen.empty()) {
    throw std::invalid_argument("no convolution results for pass '" + selection.pass + "' and dtype '" +
                                selection.dtype + "' in the benchmark JSON");
  }
  const double group_width = 0.8, bar_width = group_width / double(impls.size());
  std::ostringstream script;
  script.precision(10);
  double lowest = chosen.front()->gflops, highest = lowest;
  for (std::size_t series = 0; series < impls.size(); ++series) {
    script << "$impl" << series << " << EOD\n";
    for (const ConvBenchResult* result : chosen) {
      if (result->impl != impls[series]) continue;
      const auto position = std::find(cases.begin(), cases.end(), Case{result->shape, result->batch, result->threads});
      const double x = double(position - cases.begin()) - group_width / 2 + (double(series) + 0.5) * bar_width;
      script << x << " " << result->gflops << "\n";
      lowest = std::min(lowest, result->gflops);
      highest = std::max(highest, result->gflops);
    }
    script << "EOD\n";
  }
  // Each peak is drawn only over the cases run with its thread count.
  std::vector<std::pair<int, MachineLimit>> peaks;
  if (auto found = run.fma_peak.find(selection.dtype); found != run.fma_peak.end()) {
    for (const auto& [threads, limit] : found->second) {
      std::ostringstream segments;
      for (std::size_t index = 0; index < cases.size(); ++index) {
        if (cases[index].threads != threads) continue;
        segments << double(index) - 0.48 << " " << limit.value << "\n" << double(index) + 0.48 << " " << limit.value
                 << "\n\n";
      }
      if (segments.str().empty()) continue;
      script << "$peak" << peaks.size() << " << EOD\n" << segments.str() << "EOD\n";
      peaks.emplace_back(threads, limit);
      highest = std::max(highest, limit.value);
    }
  }
  std::ostringstream tics;
  for (std::size_t index = 0; index < cases.size(); ++index) {
    tics << (index ? ", " : "") << gnuplot_quote(cases[index].shape + "\nN=" + std::to_string(cases[index].batch) +
                                                 " T=" + std::to_string(cases[index].threads))
         << " " << index;
  }
  const std::string title = "convolution " + selection.pass + " (" + selection.dtype + "): GFLOP/s per implementation" +
                            (run.machine.empty() ? "" : "\n" + run.machine);
  script << "set title " << gnuplot_quote(title) << "\n"
         << "set style fill solid 0.85 border -1\nset boxwidth " << bar_width << " absolute\n"
         << "set logscale y\nset yrange [" << lowest / 3 << ":" << highest * 3 << "]\n"
         << "set xrange [-0.6:" << double(cases.size()) - 0.4 << "]\n"
         << "set grid ytics mytics\nset ylabel 'GFLOP/s (2 x multiply-adds per second, log scale)'\n"
         << "set xlabel 'case: shape (bench/shapes/), batch N, threads T'\n"
         << "set xtics (" << tics.str() << ") font 'sans,9'\n"
         << "set key outside below center horizontal\n";
  script << "plot ";
  for (std::size_t series = 0; series < impls.size(); ++series) {
    script << (series ? ", " : "") << "$impl" << series << " using 1:2 with boxes title " << gnuplot_quote(impls[series]);
  }
  static const char* const kPeakColours[] = {"#000000", "#d62728", "#7f7f7f"};
  for (std::size_t index = 0; index < peaks.size(); ++index) {
    const auto& [threads, limit] = peaks[index];
    script << ", $peak" << index << " using 1:2 with lines dashtype 2 linewidth 2 linecolor rgb '"
           << kPeakColours[index % 3] << "' title "
           << gnuplot_quote("FMA peak, " + threads_text(threads) + " (measured): " + gflops_text(limit.value) +
                            " GFLOP/s");
  }
  script << "\n";
  return {script.str(), {{std::max(900, 120 * int(cases.size()) + 350), 620, 11}, {}, {}}};
}

void plot_bench_bars(const BenchRun& run, const BenchSelection& selection, const std::filesystem::path& out) {
  render_png(bench_bars_figure(run, selection), out);
}

FigureScript roofline_figure(const BenchRun& run, const BenchSelection& selection) {
  // Default: one thread when measured (every implementation has single-thread results), else the largest.
  int threads = 0;
  if (selection.threads) {
    threads = *selection.threads;
  } else {
    for (const ConvBenchResult& result : run.conv) {
      if (result.dtype != selection.dtype) continue;
      if (threads != 1) threads = result.threads == 1 ? 1 : std::max(threads, result.threads);
    }
  }
  const auto peak_table = run.fma_peak.find(selection.dtype);
  if (peak_table == run.fma_peak.end() || !peak_table->second.count(threads)) {
    throw std::invalid_argument("roofline: no FMA peak for " + selection.dtype + " with " + threads_text(threads) +
                                " (run the peak benchmarks or give it explicitly)");
  }
  if (!run.bandwidth.count(threads)) {
    throw std::invalid_argument("roofline: no memory bandwidth for " + threads_text(threads) +
                                " (run the peak benchmarks or give it explicitly)");
  }
  const MachineLimit peak = peak_table->second.at(threads), bandwidth = run.bandwidth.at(threads);
  auto selected = [&](const ConvBenchResult& result) {
    return result.dtype == selection.dtype && result.threads == threads && result.arithmetic_intensity.has_value();
  };
  std::vector<std::string> impls, passes;
  const double ridge = peak.value / bandwidth.value;
  double low_intensity = ridge, high_intensity = ridge, low_rate = peak.value;
  for (const ConvBenchResult& result : run.conv) {
    if (!selected(result)) continue;
    if (std::find(impls.begin(), impls.end(), result.impl) == impls.end()) impls.push_back(result.impl);
    if (std::find(passes.begin(), passes.end(), result.pass) == passes.end()) passes.push_back(result.pass);
    low_intensity = std::min(low_intensity, *result.arithmetic_intensity);
    high_intensity = std::max(high_intensity, *result.arithmetic_intensity);
    low_rate = std::min(low_rate, result.gflops);
  }
  if (impls.empty()) {
    throw std::invalid_argument("roofline: no " + selection.dtype + " convolution results with " +
                                threads_text(threads) + " and an arithmetic_intensity counter");
  }
  // Colour says which implementation, the marker which pass.
  static const int kPassMarkers[] = {7, 4, 9, 11, 13};  // filled circle, open square, filled triangle, ...
  auto marker = [&](const std::string& pass) {
    return kPassMarkers[std::size_t(std::find(passes.begin(), passes.end(), pass) - passes.begin()) % 5];
  };
  std::ostringstream script;
  script.precision(10);
  for (std::size_t series = 0; series < impls.size(); ++series) {
    script << "$impl" << series << " << EOD\n";
    for (const ConvBenchResult& result : run.conv) {
      if (result.impl == impls[series] && selected(result)) {
        script << *result.arithmetic_intensity << " " << result.gflops << " " << marker(result.pass) << "\n";
      }
    }
    script << "EOD\n";
  }
  const std::string title = "roofline: convolution passes in " + selection.dtype + " with " + threads_text(threads) +
                            (run.machine.empty() ? "" : "\n" + run.machine) + "\nroof = min(FMA peak " +
                            gflops_text(peak.value) + " GFLOP/s, " + gflops_text(bandwidth.value) +
                            " GB/s read x intensity)";
  script << "set title " << gnuplot_quote(title) << "\n"
         << "set logscale xy\nset grid xtics ytics mxtics mytics\n"
         << "set xrange [" << low_intensity / 2 << ":" << high_intensity * 2 << "]\n"
         << "set yrange [" << low_rate / 3 << ":" << peak.value * 3 << "]\n"
         << "set xlabel 'arithmetic intensity (FLOP per byte of compulsory memory traffic)' offset 0,0.6\n"
         << "set ylabel 'GFLOP/s (log scale)'\nset key outside below center horizontal maxrows 3\nset samples 400\n"
         << "peak = " << peak.value << "\nbandwidth = " << bandwidth.value << "\n"
         << "roof(x) = bandwidth * x < peak ? bandwidth * x : peak\n"
         << "plot roof(x) with lines linewidth 3 linecolor rgb '#333333' title "
         << gnuplot_quote("roof");
  for (std::size_t series = 0; series < impls.size(); ++series) {
    // gnuplot's key cannot show a variable marker: the points go untitled, a filled square names the colour.
    script << ", $impl" << series << " using 1:2:3 with points pointtype variable pointsize 1.6 linecolor " << series + 1
           << " notitle, NaN with points pointtype 5 pointsize 1.6 linecolor " << series + 1 << " title "
           << gnuplot_quote(impls[series]);
  }
  for (const std::string& pass : passes) {
    script << ", NaN with points pointtype " << marker(pass) << " pointsize 1.6 linecolor rgb 'black' title "
           << gnuplot_quote("pass: " + pass);
  }
  script << "\n";
  return {script.str(), {{1000, 760, 11}, {}, {}}};
}

void plot_roofline(const BenchRun& run, const BenchSelection& selection, const std::filesystem::path& out) {
  render_png(roofline_figure(run, selection), out);
}

}  // namespace convlab::plots
