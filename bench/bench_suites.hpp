// The benchmark families convlab_bench registers at start-up (bench_main.cpp calls these in order).
#pragma once

#include <string>

#include "bench/bench_counters.hpp"
#include "bench/bench_plan.hpp"

namespace convlab::bench {

// Every registered implementation x case x thread count (1 only for implementations without threads).
// Adds each implementation's build flags and summary to the benchmark context.
void register_conv_benchmarks(const BenchPlan& plan, const StartupPeak& peak);

// oneDNN's convolution for the same cases: conv/onednn/... (the primitive alone, operands already in its
// preferred layouts) and conv/onednn_nchw/... (with reorders from and back to NCHW/OIHW).
// Returns false (registering nothing) when the suite was built without oneDNN.
bool register_onednn_benchmarks(const BenchPlan& plan, const StartupPeak& peak);
std::string onednn_description();  // version and CPU runtime, or why it is missing

// XNNPACK's NHWC convolution operator for the plan's forward cases: conv/xnnpack/forward/... (NHWC operands)
// and conv/xnnpack_nchw/forward/... (with the layout copies from and back to NCHW). Returns false
// (registering nothing) when the suite was built without XNNPACK.
bool register_xnnpack_benchmarks(const BenchPlan& plan, const StartupPeak& peak);
std::string xnnpack_description();  // what was found, or why it is missing

// The tutorial's ladder (docs/ladder) on the plan's forward cases it computes (stride 1, no padding), batches
// up to 64: ladder/<step>/forward/<shape>/float/batch:<N>/threads:<T>.
void register_ladder_benchmarks(const BenchPlan& plan, const StartupPeak& peak);

// One training epoch of the lecture's network per implementation (except the slow reference) and thread
// count, on the first `images` MNIST training images: epoch/<impl>/lecture_net/float/batch:64/threads:<T>.
void register_epoch_benchmarks(const BenchPlan& plan, std::size_t images);

}  // namespace convlab::bench
