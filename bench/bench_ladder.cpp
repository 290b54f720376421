// The tutorial's ladder (docs/ladder: the forward pass built up one idea per step) timed on the plan's
// layers that it computes (stride 1, no padding) up to batch 64, so chapters 4 and 5 can show what each
// idea buys on this machine: ladder/<step>/forward/<shape>/float/batch:<N>/threads:<T>. Steps without
// threads run on 1 thread; step 0 (plain loops) only on calls it finishes in about a second.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <string>

#include "bench/bench_buffers.hpp"
#include "bench/bench_suites.hpp"
#include "docs/ladder/ladder.hpp"

namespace convlab::bench {

namespace {

constexpr Index kMaxLadderBatch = 64;
constexpr double kNaiveStepFlopBudget = 1.5e9;

void ladder_benchmark(benchmark::State& state, const ladder::Step* step, BenchCase bench_case, int threads,
                      const StartupPeak* peak) {
  omp_set_num_threads(threads);
  const ConvShape s = bench_case.with_batch();
  ConvOperands<float>& operands = ConvOperands<float>::get();
  const float* input = operands.input.get(std::size_t(s.input_size()));
  const float* weights = operands.weights.get(std::size_t(s.weight_size()));
  const float* bias = operands.bias.get(std::size_t(s.out_channels));
  float* output = operands.output.get(std::size_t(s.output_size()));
  for (auto _ : state) {
    step->kernel(s, input, weights, bias, output);
    benchmark::ClobberMemory();
  }
  set_conv_counters(state, bench_case, threads, *peak, sizeof(float));
  state.counters["ladder_builds_on"] = double(step->builds_on);
  state.SetLabel(s.describe() + " | " + step->idea);
}

}  // namespace

void register_ladder_benchmarks(const BenchPlan& plan, const StartupPeak& peak) {
  benchmark::AddCustomContext("ladder.build_flags", CONVLAB_BASE_FLAGS);
  for (const BenchCase& bench_case : plan.cases) {
    if (bench_case.pass != Pass::forward || bench_case.batch > kMaxLadderBatch) continue;
    if (!ladder::supports(bench_case.with_batch())) continue;
    for (const ladder::Step& step : ladder::steps()) {
      if (step.name == "0_naive" && bench_case.flops() > kNaiveStepFlopBudget) continue;
      for (int threads : plan.thread_counts) {
        if (threads > 1 && !step.uses_threads) continue;
        const std::string name = "ladder/" + step.name + bench_case.name("", "float", threads).substr(std::string("conv/").size());
        benchmark::RegisterBenchmark(name.c_str(), ladder_benchmark, &step, bench_case, threads, &peak)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace convlab::bench
