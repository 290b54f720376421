// oneDNN's convolution as a peer, for the same cases as convlab's implementations (float32).
//
// Two variants per case:
//   conv/onednn/...       the primitive alone, every operand already in the layout oneDNN prefers (blocked
//                         formats such as nChw16c): the library at its best.
//   conv/onednn_nchw/...  the same primitive plus the reorders from NCHW/OIHW inputs and back to NCHW
//                         outputs, which is what a caller holding convlab's layout pays.
// The forward pass has two primitives: prop_kind forward_inference and forward_training. Which is faster
// depends on the shape (oneDNN 2.6 picks different jit kernels for them, and on some layers the training
// one is much faster), so each forward case times both briefly first and keeps the faster; the label
// and counters say which won and by how much. Both are checked against the naive reference on the first
// and last images before either may report a time; one that fails is not used.
// Built only when CMake found oneDNN (CONVLAB_HAVE_DNNL); otherwise it registers nothing and says why.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/bench_reference.hpp"
#include "bench/bench_suites.hpp"

#ifdef CONVLAB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>

namespace convlab::bench {

namespace {

using dnnl::memory;

// One oneDNN convolution call ready to run: the primitive, its arguments in preferred layouts, and the
// reorders that the NCHW variant adds before and after it.
struct OnednnCall {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::primitive primitive;
  std::unordered_map<int, memory> arguments;
  struct Reorder {
    dnnl::reorder primitive;
    memory from, to;
  };
  std::vector<Reorder> before, after;
  std::unordered_map<int, memory> plain;  // every operand in the NCHW/OIHW layout a caller holds
  std::string description;  // implementation oneDNN chose and which operands need a reorder

  void run_primitive() { primitive.execute(stream, arguments); }
  void run_with_reorders() {
    for (Reorder& r : before) r.primitive.execute(stream, r.from, r.to);
    primitive.execute(stream, arguments);
    for (Reorder& r : after) r.primitive.execute(stream, r.from, r.to);
  }
};

void fill(memory& m, float value_scale) {
  auto* data = static_cast<float*>(m.get_data_handle());
  const std::size_t count = m.get_desc().get_size() / sizeof(float);
  std::uint32_t state = 777u;
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    data[i] = (float(state >> 8) / float(1u << 24) - 0.5f) * value_scale;
  }
}

// Adds one operand: `preferred` is what the primitive wants, `plain` the NCHW/OIHW layout a caller holds.
void add_operand(OnednnCall& call, int argument, const memory::desc& preferred, const memory::desc& plain,
                 bool is_output, const char* what) {
  memory user(plain, call.engine);
  fill(user, 0.2f);  // touches every page now, not in the timed loop
  call.plain[argument] = user;
  if (preferred == plain) {
    call.arguments[argument] = user;
    return;
  }
  memory internal(preferred, call.engine);
  fill(internal, 0.0f);
  if (is_output) {
    call.after.push_back({dnnl::reorder(internal, user), internal, user});
  } else {
    call.before.push_back({dnnl::reorder(user, internal), user, internal});
    call.before.back().primitive.execute(call.stream, user, internal);  // sensible values for the primitive
  }
  call.arguments[argument] = internal;
  call.description += std::string(call.description.empty() ? "reorders: " : ",") + what;
}

// `forward_kind` is the forward pass's prop kind (forward_inference or forward_training); the backward
// passes ignore it. `algorithm`: direct, or Winograd (oneDNN has it for 3x3 stride-1 layers on AVX-512; where
// it has none, the primitive descriptor's creation throws).
std::unique_ptr<OnednnCall> make_call(const BenchCase& bench_case, dnnl::prop_kind forward_kind,
                                      dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct) {
  const ConvShape s = bench_case.with_batch();
  const auto f32 = memory::data_type::f32;
  const memory::dims x_dims{s.batch, s.in_channels, s.in_height, s.in_width};
  const memory::dims w_dims{s.out_channels, s.in_channels, s.kernel_height, s.kernel_width};
  const memory::dims b_dims{s.out_channels};
  const memory::dims y_dims{s.batch, s.out_channels, s.out_height(), s.out_width()};
  const memory::dims strides{s.stride_height, s.stride_width}, padding{s.pad_height, s.pad_width};
  const auto any = [&](const memory::dims& dims) { return memory::desc(dims, f32, memory::format_tag::any); };
  const memory::desc x_plain(x_dims, f32, memory::format_tag::nchw), w_plain(w_dims, f32, memory::format_tag::oihw),
      b_plain(b_dims, f32, memory::format_tag::x), y_plain(y_dims, f32, memory::format_tag::nchw);
  const auto direct = algorithm;

  auto call = std::make_unique<OnednnCall>();
  const auto forward_desc = [&](dnnl::prop_kind kind) {
    return dnnl::convolution_forward::desc(kind, direct, any(x_dims), any(w_dims), any(b_dims), any(y_dims), strides,
                                           padding, padding);
  };
  // The backward passes need a training forward as their hint (of the same algorithm).
  const dnnl::convolution_forward::primitive_desc training_pd(forward_desc(dnnl::prop_kind::forward_training),
                                                               call->engine);
  std::string implementation;
  switch (bench_case.pass) {
    case Pass::forward: {
      const dnnl::convolution_forward::primitive_desc pd(forward_desc(forward_kind), call->engine);
      call->primitive = dnnl::convolution_forward(pd);
      implementation = pd.impl_info_str();
      add_operand(*call, DNNL_ARG_SRC, pd.src_desc(), x_plain, false, "src");
      add_operand(*call, DNNL_ARG_WEIGHTS, pd.weights_desc(), w_plain, false, "weights");
      add_operand(*call, DNNL_ARG_BIAS, pd.bias_desc(), b_plain, false, "bias");
      add_operand(*call, DNNL_ARG_DST, pd.dst_desc(), y_plain, true, "dst");
      break;
    }
    case Pass::backward_input: {
      const dnnl::convolution_backward_data::desc desc(direct, any(x_dims), any(w_dims), any(y_dims), strides,
                                                       padding, padding);
      const dnnl::convolution_backward_data::primitive_desc pd(desc, call->engine, training_pd);
      call->primitive = dnnl::convolution_backward_data(pd);
      implementation = pd.impl_info_str();
      add_operand(*call, DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), y_plain, false, "diff_dst");
      add_operand(*call, DNNL_ARG_WEIGHTS, pd.weights_desc(), w_plain, false, "weights");
      add_operand(*call, DNNL_ARG_DIFF_SRC, pd.diff_src_desc(), x_plain, true, "diff_src");
      break;
    }
    case Pass::backward_weights: {
      const dnnl::convolution_backward_weights::desc desc(direct, any(x_dims), any(w_dims), any(b_dims),
                                                          any(y_dims), strides, padding, padding);
      const dnnl::convolution_backward_weights::primitive_desc pd(desc, call->engine, training_pd);
      call->primitive = dnnl::convolution_backward_weights(pd);
      implementation = pd.impl_info_str();
      add_operand(*call, DNNL_ARG_SRC, pd.src_desc(), x_plain, false, "src");
      add_operand(*call, DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), y_plain, false, "diff_dst");
      add_operand(*call, DNNL_ARG_DIFF_WEIGHTS, pd.diff_weights_desc(), w_plain, true, "diff_weights");
      add_operand(*call, DNNL_ARG_DIFF_BIAS, pd.diff_bias_desc(), b_plain, true, "diff_bias");
      break;
    }
  }
  call->description = implementation + " " + (call->description.empty() ? "no reorders" : call->description);
  call->stream.wait();
  return call;
}

const char* kind_name(dnnl::prop_kind kind) {
  return kind == dnnl::prop_kind::forward_training ? "forward_training" : "forward_inference";
}

// Runs the forward primitive once through the NCHW operands holding the reference's image (as the batch's
// first and last), weights and bias, and compares those images of the result with the naive reference.
// Empty when they match.
std::string check_forward(OnednnCall& call, const BenchCase& bench_case) {
  const ReferenceImage& reference = reference_forward_image(bench_case.with_batch());
  const auto put = [&](int argument, const std::vector<float>& values) {
    std::memcpy(call.plain.at(argument).get_data_handle(), values.data(), values.size() * sizeof(float));
  };
  put_reference_images(reference, static_cast<float*>(call.plain.at(DNNL_ARG_SRC).get_data_handle()),
                       bench_case.batch);  // the other images keep their values
  put(DNNL_ARG_WEIGHTS, reference.weights);
  put(DNNL_ARG_BIAS, reference.bias);
  call.run_with_reorders();  // the reorders fill the blocked operands that the primitive alone reads
  call.stream.wait();
  return check_reference_images(
      reference, static_cast<const float*>(call.plain.at(DNNL_ARG_DST).get_data_handle()), bench_case.batch);
}

// Images per second of the primitive alone over one short round (at least one call): enough, best of a
// few rounds, to tell the two forward primitives apart; not a measurement to report.
double trial_round(OnednnCall& call, Index batch) {
  using clock = std::chrono::steady_clock;
  constexpr double kRoundSeconds = 0.03;
  const auto start = clock::now();
  int calls = 0;
  double seconds = 0;
  do {
    call.run_primitive();
    call.stream.wait();
    ++calls;
    seconds = std::chrono::duration<double>(clock::now() - start).count();
  } while (seconds < kRoundSeconds);
  return double(batch) * calls / seconds;
}

// The forward call to time: both prop kinds built, checked and tried; the faster correct one is kept.
struct ForwardChoice {
  std::unique_ptr<OnednnCall> call;
  dnnl::prop_kind kind = dnnl::prop_kind::forward_inference;
  dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct;
  double inference_rate = 0, training_rate = 0;  // direct's trial images/s; 0 when that kind failed its check
  double winograd_rate = 0;                      // Winograd's best trial images/s; 0 when oneDNN has none
  std::string note;                              // which won, or why one was left out
};

const char* algorithm_name(dnnl::algorithm algorithm) {
  return algorithm == dnnl::algorithm::convolution_winograd ? "winograd" : "direct";
}

// A 3x3 stride-1 layer, where oneDNN may have a Winograd primitive.
bool winograd_candidate(const BenchCase& bench_case) {
  const ConvShape s = bench_case.with_batch();
  return s.kernel_height == 3 && s.kernel_width == 3 && s.stride_height == 1 && s.stride_width == 1;
}

ForwardChoice choose_forward(const BenchCase& bench_case) {
  struct Candidate {
    dnnl::prop_kind kind;
    dnnl::algorithm algorithm;
    std::unique_ptr<OnednnCall> call;
    double rate = 0;
  };
  std::vector<Candidate> candidates;
  std::string failures;
  std::vector<dnnl::algorithm> algorithms = {dnnl::algorithm::convolution_direct};
  if (winograd_candidate(bench_case)) algorithms.push_back(dnnl::algorithm::convolution_winograd);
  for (dnnl::algorithm algorithm : algorithms)
  for (dnnl::prop_kind kind : {dnnl::prop_kind::forward_inference, dnnl::prop_kind::forward_training}) {
    std::unique_ptr<OnednnCall> call;
    std::string error;
    try {
      call = make_call(bench_case, kind, algorithm);
      error = check_forward(*call, bench_case);
    } catch (const std::exception& failure) {
      error = failure.what();
    }
    if (!error.empty()) {
      failures += std::string(failures.empty() ? "" : "; ") + algorithm_name(algorithm) + " " + kind_name(kind) +
                  ": " + error;
      continue;
    }
    call->run_primitive();  // warm-up after the check's reorders
    call->stream.wait();
    candidates.push_back({kind, algorithm, std::move(call)});
  }
  if (candidates.empty()) throw std::runtime_error("no oneDNN forward primitive passed the check: " + failures);
  // Rounds alternate between the two, so a burst of load from elsewhere does not favour either.
  for (int round = 0; round < 3; ++round)
    for (Candidate& candidate : candidates)
      candidate.rate = std::max(candidate.rate, trial_round(*candidate.call, bench_case.batch));

  ForwardChoice choice;
  Candidate* best = &candidates.front();
  for (Candidate& candidate : candidates) {
    if (candidate.algorithm == dnnl::algorithm::convolution_winograd) {
      choice.winograd_rate = std::max(choice.winograd_rate, candidate.rate);
    } else {
      (candidate.kind == dnnl::prop_kind::forward_training ? choice.training_rate : choice.inference_rate) =
          candidate.rate;
    }
    if (candidate.rate > best->rate) best = &candidate;
  }
  choice.kind = best->kind;
  choice.algorithm = best->algorithm;
  choice.call = std::move(best->call);  // the other one is freed with `candidates`
  std::ostringstream note;
  note.precision(3);
  note << algorithm_name(choice.algorithm) << " " << kind_name(choice.kind)
       << " chosen (trial images/s: inference " << choice.inference_rate << ", training " << choice.training_rate;
  if (winograd_candidate(bench_case)) note << ", winograd " << choice.winograd_rate;
  note << ")";
  if (!failures.empty()) note << "; left out: " << failures;
  choice.note = note.str();
  return choice;
}

// A backward pass's call: direct, or Winograd where oneDNN has it and it ran faster in the trial rounds.
// (Not checked against the reference here: the forward check covers each algorithm's primitive family.)
ForwardChoice choose_backward(const BenchCase& bench_case) {
  ForwardChoice choice;
  choice.call = make_call(bench_case, dnnl::prop_kind::forward_training);
  if (!winograd_candidate(bench_case)) return choice;
  std::unique_ptr<OnednnCall> winograd;
  try {
    winograd = make_call(bench_case, dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_winograd);
  } catch (const std::exception& failure) {
    choice.note = std::string("winograd left out: ") + failure.what();
    return choice;
  }
  double direct_rate = 0;
  for (int round = 0; round < 3; ++round) {
    direct_rate = std::max(direct_rate, trial_round(*choice.call, bench_case.batch));
    choice.winograd_rate = std::max(choice.winograd_rate, trial_round(*winograd, bench_case.batch));
  }
  std::ostringstream note;
  note.precision(3);
  if (choice.winograd_rate > direct_rate) {
    choice.call = std::move(winograd);
    choice.algorithm = dnnl::algorithm::convolution_winograd;
  }
  note << algorithm_name(choice.algorithm) << " chosen (trial images/s: direct " << direct_rate << ", winograd "
       << choice.winograd_rate << ")";
  choice.note = note.str();
  return choice;
}

void onednn_benchmark(benchmark::State& state, BenchCase bench_case, int threads, bool with_reorders,
                      const StartupPeak* peak) {
  // oneDNN's OpenMP runtime sizes its kernels by the thread count when the primitive is created.
  omp_set_num_threads(threads);
  // Google Benchmark calls this several times per case in a row, and the NCHW variant follows the
  // primitive alone: keep the last case's call (and, for forward, the choice between prop kinds).
  static ForwardChoice current;
  static std::string current_name;
  const std::string name = bench_case.name("onednn", "float", threads);
  if (current_name != name) {
    current = ForwardChoice{};
    current_name.clear();
    try {
      if (bench_case.pass == Pass::forward) {
        current = choose_forward(bench_case);
      } else {
        current = choose_backward(bench_case);
      }
    } catch (const std::exception& error) {
      state.SkipWithError(error.what());
      return;
    }
    current_name = name;
  }
  OnednnCall& call = *current.call;
  if (with_reorders) call.run_with_reorders();  // warm-up
  else call.run_primitive();
  call.stream.wait();
  for (auto _ : state) {
    if (with_reorders) call.run_with_reorders();
    else call.run_primitive();
    call.stream.wait();
  }
  set_conv_counters(state, bench_case, threads, *peak, sizeof(float));
  std::string label = bench_case.with_batch().describe() + " " + call.description;
  if (bench_case.pass == Pass::forward) {
    state.counters["forward_training_chosen"] = current.kind == dnnl::prop_kind::forward_training ? 1 : 0;
    state.counters["trial_inference_images_per_second"] = current.inference_rate;
    state.counters["trial_training_images_per_second"] = current.training_rate;
    label += "; " + current.note;
  } else if (!current.note.empty()) {
    label += "; " + current.note;
  }
  state.counters["winograd_chosen"] = current.algorithm == dnnl::algorithm::convolution_winograd ? 1 : 0;
  state.SetLabel(label);
}

}  // namespace

bool register_onednn_benchmarks(const BenchPlan& plan, const StartupPeak& peak) {
  for (const BenchCase& bench_case : plan.cases) {
    for (int threads : plan.thread_counts) {
      for (bool with_reorders : {false, true}) {
        const std::string name = bench_case.name(with_reorders ? "onednn_nchw" : "onednn", "float", threads);
        benchmark::RegisterBenchmark(name.c_str(), onednn_benchmark, bench_case, threads, with_reorders, &peak)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}

std::string onednn_description() {
  const dnnl_version_t* version = dnnl::version();
  return "oneDNN " + std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
         std::to_string(version->patch) + (version->cpu_runtime == DNNL_RUNTIME_OMP ? " (OpenMP runtime)" : "");
}

}  // namespace convlab::bench

#else  // built without oneDNN

namespace convlab::bench {
bool register_onednn_benchmarks(const BenchPlan&, const StartupPeak&) { return false; }
std::string onednn_description() { return "not found at configure time (install libdnnl-dev and re-run cmake)"; }
}  // namespace convlab::bench

#endif
