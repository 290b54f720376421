// What the convolution benchmark suite measures: which shapes (bench_shapes.hpp), passes, batch sizes and
// thread counts, in one place, so the C++ benchmarks and the Python peers (which read
// `convlab_bench --convlab_list_cases`) time exactly the same cases under the same names.
//
// Benchmark names follow one scheme that bench/summarize.py parses:
//   conv/<impl>/<pass>/<shape>/<dtype>/batch:<N>/threads:<T>
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench/bench_shapes.hpp"
#include "common/conv/conv_pass.hpp"
#include "common/conv/conv_shape.hpp"

namespace convlab::bench {

using Pass = ConvPass;  // named by pass_name (conv_pass.hpp)
inline constexpr Pass kAllPasses[] = {Pass::forward, Pass::backward_input, Pass::backward_weights};
// A pass timed with weights held by the implementation (ConvImpl::hold_weights: forward_held,
// backward_input_held): a benchmark name's pass field, not a pass of the plan (summarize.py pairs it with the
// peers that time theirs with prepacked weights). The weight gradient has none.
inline bool has_held_variant(Pass pass) { return pass != Pass::backward_weights; }

struct BenchCase {
  const BenchShape* shape = nullptr;
  Pass pass = Pass::forward;
  Index batch = 1;
  ConvShape with_batch() const;
  double flops() const;
  // Floating-point operations per byte of compulsory traffic (read the two operands once, write the result
  // once) for 4-byte elements: the x coordinate of the roofline.
  double arithmetic_intensity(std::size_t element_size) const;
  std::string name(const std::string& impl, const std::string& dtype, int threads) const;
};

struct BenchPlan {
  bool quick = false;
  std::vector<int> thread_counts{1, 2};
  std::vector<std::shared_ptr<const BenchShape>> shapes;  // what the cases point to
  std::vector<BenchCase> cases;  // every shape x pass x batch, in that order, batches increasing
};

struct PlanRequest {
  bool quick = false;
  std::vector<std::string> shape_files;  // --shapes, in order
  std::vector<std::string> descriptors;  // --shape, in order
};

// With shape files or descriptors: each of their shapes at its batch and at batch 1. Without: every standard
// file (bench/shapes/) at its batch and at 1, plus the lecture layer at 1000 (forward also 10000, the
// lecture's whole test set at once); quick: only mnist.txt at its batch, plus the lecture layer at 1000.
// Throws ConvDescriptorError or BenchPlanError, naming the file and line.
BenchPlan make_bench_plan(const PlanRequest& request);

// The plan as JSON, for the Python peers: {"quick":..., "thread_counts":[...], "cases":[{...}]}.
std::string bench_plan_json(const BenchPlan& plan);

// The reference implementation is orders of magnitude slower: give it only calls up to this many
// floating-point operations (and always batch 1) so the suite stays minutes, not hours.
inline constexpr double kSlowImplFlopBudget = 0.06e9;

}  // namespace convlab::bench
