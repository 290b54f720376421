// XNNPACK's convolution as a peer for the forward pass (float32): the NHWC operator of Debian's XNNPACK
// (libxnnpack-dev, a 2022 snapshot), run on a pthreadpool with the case's thread count.
//
//   conv/xnnpack/forward/...       the operator alone, input already NHWC and the output left NHWC: the
//                                  library at its best (weights are packed once, when the operator is made).
//   conv/xnnpack_nchw/forward/...  the same plus the NCHW -> NHWC copy of the input and the NHWC -> NCHW copy
//                                  of the output, on the same thread pool: what a caller holding convlab's
//                                  layout pays (as conv/onednn_nchw does with oneDNN's reorders).
// XNNPACK has no backward passes. Each operator is checked against the naive reference on the batch's first
// and last images before it may report a time. Built only when CMake found XNNPACK (CONVLAB_HAVE_XNNPACK).
#include <benchmark/benchmark.h>

#include <string>

#include "bench/bench_suites.hpp"

#ifdef CONVLAB_HAVE_XNNPACK
#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>

#include "bench/bench_buffers.hpp"
#include "bench/bench_reference.hpp"

namespace convlab::bench {

namespace {

// One pool per thread count for the whole run: creating threads is not what is measured.
pthreadpool_t thread_pool(int threads) {
  struct PoolDeleter {
    void operator()(pthreadpool* pool) const { pthreadpool_destroy(pool); }
  };
  static std::map<int, std::unique_ptr<pthreadpool, PoolDeleter>> pools;
  auto& pool = pools[threads];
  if (!pool) {
    pool.reset(pthreadpool_create(std::size_t(threads)));
    if (!pool) throw std::runtime_error("pthreadpool_create failed");
  }
  return pool.get();
}

void check_status(xnn_status status, const char* what) {
  if (status != xnn_status_success)
    throw std::runtime_error(std::string("XNNPACK: ") + what + " failed (xnn_status " + std::to_string(int(status)) +
                             ")");
}

// Image-by-image layout copies for the NCHW variant, one image per pool task. `planes` x `pixels` ->
// `pixels` x `planes` transposes every image: NCHW -> NHWC with (C, H*W), NHWC -> NCHW with (H*W, C).
struct TransposeTask {
  const float* from;
  float* to;
  std::size_t planes, pixels;
  static void run(void* context, std::size_t image) {
    const auto& task = *static_cast<const TransposeTask*>(context);
    const std::size_t size = task.planes * task.pixels;
    const float* from = task.from + image * size;
    float* to = task.to + image * size;
    // In tiles, so both the rows read and the rows written stay in L1 while a tile is copied.
    constexpr std::size_t kTile = 16;
    for (std::size_t plane0 = 0; plane0 < task.planes; plane0 += kTile)
      for (std::size_t pixel0 = 0; pixel0 < task.pixels; pixel0 += kTile) {
        const std::size_t plane_end = std::min(plane0 + kTile, task.planes);
        const std::size_t pixel_end = std::min(pixel0 + kTile, task.pixels);
        for (std::size_t plane = plane0; plane < plane_end; ++plane)
          for (std::size_t pixel = pixel0; pixel < pixel_end; ++pixel)
            to[pixel * task.planes + plane] = from[plane * task.pixels + pixel];
      }
  }
  void operator()(pthreadpool_t pool, std::size_t images) {
    pthreadpool_parallelize_1d(pool, &TransposeTask::run, this, images, 0);
  }
};

// One XNNPACK convolution ready to run, with NHWC operands and the NCHW copies the second variant uses.
struct XnnpackCall {
  ConvShape shape;
  pthreadpool_t pool = nullptr;
  xnn_operator_t op = nullptr;
  AlignedBuffer<float> input_nhwc, output_nhwc, input_nchw, output_nchw;
  XnnpackCall() = default;
  XnnpackCall(const XnnpackCall&) = delete;
  XnnpackCall& operator=(const XnnpackCall&) = delete;
  ~XnnpackCall() {
    if (op) xnn_delete_operator(op);
  }
  void run_operator() { check_status(xnn_run_operator(op, pool), "xnn_run_operator"); }
  void run_with_layout_copies() {
    const auto channels = std::size_t(shape.in_channels), filters = std::size_t(shape.out_channels);
    const auto in_pixels = std::size_t(shape.in_height * shape.in_width);
    const auto out_pixels = std::size_t(shape.out_height() * shape.out_width());
    TransposeTask{input_nchw.data(), input_nhwc.data(), channels, in_pixels}(pool, std::size_t(shape.batch));
    run_operator();
    TransposeTask{output_nhwc.data(), output_nchw.data(), out_pixels, filters}(pool, std::size_t(shape.batch));
  }
};

void fill(AlignedBuffer<float>& buffer, std::size_t count, std::uint32_t seed) {
  buffer.resize(count);
  std::uint32_t state = seed;
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    buffer[i] = (float(state >> 8) / float(1u << 24) - 0.5f) * 0.2f;
  }
}

// XNNPACK may read up to XNN_EXTRA_BYTES past the end of the input (whole-vector loads).
constexpr std::size_t kInputSlack = (XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float);

std::unique_ptr<XnnpackCall> make_call(const BenchCase& bench_case, int threads) {
  static const xnn_status initialized = xnn_initialize(nullptr);
  check_status(initialized, "xnn_initialize");
  auto call = std::make_unique<XnnpackCall>();
  const ConvShape s = call->shape = bench_case.with_batch();
  call->pool = thread_pool(threads);
  const ReferenceImage& reference = reference_forward_image(s);
  const auto channels = std::size_t(s.in_channels), filters = std::size_t(s.out_channels);
  const auto kernel = std::size_t(s.kernel_height * s.kernel_width);

  // Weights F x C x kh x kw (OIHW) -> F x kh x kw x C (OHWI), the layout the operator takes.
  std::vector<float> weights_ohwi(reference.weights.size());
  for (std::size_t f = 0; f < filters; ++f)
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t k = 0; k < kernel; ++k)
        weights_ohwi[(f * kernel + k) * channels + c] = reference.weights[(f * channels + c) * kernel + k];
  check_status(xnn_create_convolution2d_nhwc_f32(
                   uint32_t(s.pad_height), uint32_t(s.pad_width), uint32_t(s.pad_height), uint32_t(s.pad_width),
                   uint32_t(s.kernel_height), uint32_t(s.kernel_width), uint32_t(s.stride_height),
                   uint32_t(s.stride_width), /*dilation*/ 1, 1, /*groups*/ 1, channels, filters,
                   /*input_channel_stride*/ channels, /*output_channel_stride*/ filters, weights_ohwi.data(),
                   reference.bias.data(), -INFINITY, INFINITY, /*flags*/ 0, &call->op),
               "xnn_create_convolution2d_nhwc_f32");

  // Every page touched now, not in the timed loop. The first and last images of the NCHW input are the
  // reference's image.
  const std::size_t in_size = std::size_t(s.input_size()), out_size = std::size_t(s.output_size());
  fill(call->input_nchw, in_size, 44u);
  put_reference_images(reference, call->input_nchw.data(), s.batch);
  fill(call->input_nhwc, in_size + kInputSlack, 0u);
  fill(call->output_nhwc, out_size, 0u);
  fill(call->output_nchw, out_size, 0u);
  check_status(xnn_setup_convolution2d_nhwc_f32(call->op, std::size_t(s.batch), std::size_t(s.in_height),
                                                std::size_t(s.in_width), call->input_nhwc.data(),
                                                call->output_nhwc.data(), call->pool),
               "xnn_setup_convolution2d_nhwc_f32");

  // The check goes through the NCHW variant: it covers the operator and both layout copies.
  call->run_with_layout_copies();
  const std::string error = check_reference_images(reference, call->output_nchw.data(), s.batch);
  if (!error.empty()) throw std::runtime_error("XNNPACK " + error);
  return call;
}

void xnnpack_benchmark(benchmark::State& state, BenchCase bench_case, int threads, bool with_layout_copies,
                       const StartupPeak* peak) {
  // Google Benchmark calls this several times per case in a row, and the NCHW variant follows the
  // operator alone: keep the last case's operator and operands.
  static std::unique_ptr<XnnpackCall> call;
  static std::string call_name;
  const std::string name = bench_case.name("xnnpack", "float", threads);
  try {
    if (call_name != name) {
      call.reset();
      call_name.clear();
      call = make_call(bench_case, threads);
      call_name = name;
    }
    if (with_layout_copies) call->run_with_layout_copies();  // warm-up
    else call->run_operator();
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  for (auto _ : state) {
    if (with_layout_copies) call->run_with_layout_copies();
    else call->run_operator();
    benchmark::ClobberMemory();
  }
  set_conv_counters(state, bench_case, threads, *peak, sizeof(float));
  state.SetLabel(bench_case.with_batch().describe() + (with_layout_copies ? " NCHW in and out" : " NHWC") +
                 ", pthreadpool of " + std::to_string(threads));
}

}  // namespace

bool register_xnnpack_benchmarks(const BenchPlan& plan, const StartupPeak& peak) {
  for (const BenchCase& bench_case : plan.cases) {
    if (bench_case.pass != Pass::forward) continue;  // XNNPACK is an inference library
    for (int threads : plan.thread_counts) {
      for (bool with_layout_copies : {false, true}) {
        const std::string name = bench_case.name(with_layout_copies ? "xnnpack_nchw" : "xnnpack", "float", threads);
        benchmark::RegisterBenchmark(name.c_str(), xnnpack_benchmark, bench_case, threads, with_layout_copies, &peak)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }
    }
  }
  return true;
}

std::string xnnpack_description() {
  return "XNNPACK (Debian libxnnpack-dev, NHWC f32 convolution operator on a pthreadpool)";
}

}  // namespace convlab::bench

#else  // built without XNNPACK

namespace convlab::bench {
bool register_xnnpack_benchmarks(const BenchPlan&, const StartupPeak&) { return false; }
std::string xnnpack_description() {
  return "not found at configure time (install libxnnpack-dev and libpthreadpool-dev, then re-run cmake)";
}
}  // namespace convlab::bench

#endif
