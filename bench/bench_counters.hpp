// What every convolution benchmark reports, for convlab's implementations and the oneDNN peer alike:
// rate counters (images/s, GFLOP/s, fraction of the FMA peak measured at start-up) and the case's figures.
#pragma once

#include <benchmark/benchmark.h>

#include <map>

#include "bench/bench_plan.hpp"

namespace convlab::bench {

// FMA peak (floating-point operations per second) per thread count, measured when the suite starts.
struct StartupPeak {
  std::map<int, double> float_flops;
  double double_flops_1t = 0;
  double for_threads(int threads) const {
    auto found = float_flops.find(threads);
    return found == float_flops.end() ? 0.0 : found->second;
  }
};

// Call after the timed loop.
void set_conv_counters(benchmark::State& state, const BenchCase& bench_case, int threads, const StartupPeak& peak,
                       std::size_t element_size);

}  // namespace convlab::bench
