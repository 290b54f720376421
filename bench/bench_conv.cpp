// Benchmarks of convlab's own convolution implementations: every registered implementation, pass, shape,
// batch size and thread count of the plan (bench_plan.hpp), float32.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "bench/bench_buffers.hpp"
#include "bench/bench_suites.hpp"
#include "common/conv/conv_registry.hpp"

namespace convlab::bench {

namespace {

// One object per implementation for the whole run, so scratch buffers it keeps are touched only once.
ConvImpl& impl_instance(const ConvImplInfo& info) {
  static std::map<std::string, std::unique_ptr<ConvImpl>> instances;
  std::unique_ptr<ConvImpl>& instance = instances[info.name];
  if (!instance) instance = info.make();
  return *instance;
}

// `held`: the pass with weights held by the implementation (ConvImpl::hold_weights, packed once before the
// timed calls), as the oneDNN primitives and XNNPACK's operator are timed.
template <typename T>
void hold_case_weights(ConvImpl& impl, const BenchCase& bench_case, ConvOperands<T>& operands) {
  const ConvShape s = bench_case.with_batch();
  impl.hold_weights(s, operands.weights.get(std::size_t(s.weight_size())),
                    operands.bias.get(std::size_t(s.out_channels)));
}

template <typename T>
void run_pass(ConvImpl& impl, const BenchCase& bench_case, ConvOperands<T>& operands, bool held) {
  const ConvShape s = bench_case.with_batch();
  const auto in = std::size_t(s.input_size()), out = std::size_t(s.output_size());
  const auto weights = std::size_t(s.weight_size()), bias = std::size_t(s.out_channels);
  if (held && bench_case.pass == Pass::forward) {
    impl.forward_held(s, operands.input.get(in), operands.output.get(out));
    return;
  }
  if (held && bench_case.pass == Pass::backward_input) {
    impl.backward_input_held(s, operands.output_grad.get(out), operands.input_grad.get(in));
    return;
  }
  switch (bench_case.pass) {
    case Pass::forward:
      impl.forward(s, operands.input.get(in), operands.weights.get(weights), operands.bias.get(bias),
                   operands.output.get(out));
      break;
    case Pass::backward_input:
      impl.backward_input(s, operands.output_grad.get(out), operands.weights.get(weights),
                          operands.input_grad.get(in));
      break;
    case Pass::backward_weights:
      impl.backward_weights(s, operands.input.get(in), operands.output_grad.get(out), operands.weight_grad.get(weights),
                            operands.bias_grad.get(bias));
      break;
  }
}

std::string benchmark_name(const ConvImplInfo& info, const BenchCase& bench_case, int threads, bool held) {
  std::string name = bench_case.name(info.name, "float", threads);
  const std::string pass(pass_name(bench_case.pass));
  const std::string plain = "/" + pass + "/";
  if (held) name.replace(name.find(plain), plain.size(), "/" + pass + "_held/");
  return name;
}

void conv_benchmark(benchmark::State& state, const ConvImplInfo* info, BenchCase bench_case, int threads,
                    const StartupPeak* peak, bool held) {
  omp_set_num_threads(threads);
  ConvImpl& impl = impl_instance(*info);
  ConvOperands<float>& operands = ConvOperands<float>::get();
  // Google Benchmark calls this function more than once per case; one untimed call on the first lets the
  // implementation size and touch its scratch memory (and checks it accepts the shape at all). Held weights
  // are held again on every call: the benchmarks between may have held other layers' in the same object.
  static std::set<std::string> warmed_up;
  const std::string name = benchmark_name(*info, bench_case, threads, held);
  try {
    if (held) hold_case_weights(impl, bench_case, operands);
    if (!warmed_up.count(name)) {
      run_pass(impl, bench_case, operands, held);
      warmed_up.insert(name);
    }
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  for (auto _ : state) {
    run_pass(impl, bench_case, operands, held);
    benchmark::ClobberMemory();
  }
  set_conv_counters(state, bench_case, threads, *peak, sizeof(float));
  const std::size_t workspace = impl.workspace_bytes(bench_case.with_batch(), sizeof(float));
  state.counters["workspace_bytes"] = double(workspace);
  state.SetLabel(bench_case.with_batch().describe() + " workspace=" + std::to_string(workspace) + "B");
}

}  // namespace

void register_conv_benchmarks(const BenchPlan& plan, const StartupPeak& peak) {
  for (const ConvImplInfo& info : conv_implementations()) {
    benchmark::AddCustomContext("impl." + info.name + ".build_flags", info.build_flags);
    benchmark::AddCustomContext("impl." + info.name + ".uses_threads", info.uses_threads ? "yes" : "no");
    benchmark::AddCustomContext("impl." + info.name + ".summary", info.summary);
    benchmark::AddCustomContext("impl." + info.name + ".role", std::string(info.role_name()));
    benchmark::AddCustomContext("impl." + info.name + ".direct_sums", info.direct_sums ? "yes" : "no");
    // The reference implementation is the slow, obviously-correct one: it gets only small calls.
    const bool slow_reference = info.role == ConvRole::reference;
    for (const BenchCase& bench_case : plan.cases) {
      if (slow_reference && bench_case.batch > 1 && bench_case.flops() > kSlowImplFlopBudget) continue;
      if (!info.supports(bench_case.with_batch(), bench_case.pass)) continue;  // `convlab impls --shape` says why
      if (info.delegates_pass(bench_case.pass)) continue;  // timed under the implementation it hands off to
      for (int threads : plan.thread_counts) {
        if (threads > 1 && !info.uses_threads) continue;  // it would time the same single-threaded code again
        // Passes also with held weights where the implementation packs them for this layer (elsewhere a held
        // call runs the plain pass: timing it again would only add a second sample of the same code).
        const ConvImpl::HeldPacking packing = impl_instance(info).held_packing(bench_case.with_batch());
        const bool packs = bench_case.pass == Pass::forward ? packing.forward : packing.backward_input;
        for (bool held : {false, true}) {
          if (held && (slow_reference || !has_held_variant(bench_case.pass) || !packs)) continue;
          benchmark::RegisterBenchmark(benchmark_name(info, bench_case, threads, held).c_str(), conv_benchmark, &info,
                                       bench_case, threads, &peak, held)
              ->UseRealTime()
              ->Unit(benchmark::kMicrosecond);
        }
      }
    }
  }
}

}  // namespace convlab::bench
