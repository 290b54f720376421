// Counters shared by the convolution benchmarks (see bench_counters.hpp).
#include "bench/bench_counters.hpp"

namespace convlab::bench {

void set_conv_counters(benchmark::State& state, const BenchCase& bench_case, int threads, const StartupPeak& peak,
                       std::size_t element_size) {
  using benchmark::Counter;
  const double iterations = double(state.iterations());
  const double flops = bench_case.flops() * iterations;
  state.counters["images_per_second"] = Counter(double(bench_case.batch) * iterations, Counter::kIsRate);
  state.counters["GFLOPS"] = Counter(flops / 1e9, Counter::kIsRate);
  const double peak_flops = peak.for_threads(threads);
  if (peak_flops > 0) state.counters["peak_fraction"] = Counter(flops / peak_flops, Counter::kIsRate);
  state.counters["arithmetic_intensity"] = bench_case.arithmetic_intensity(element_size);
  state.counters["compute_threads"] = threads;
  state.counters["batch"] = double(bench_case.batch);
}

}  // namespace convlab::bench
