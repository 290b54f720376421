// Google Benchmark suite for the shared gemm at the dense-layer shapes of the lecture's network, with GFLOP/s
// rate counters, plus the simple triple loop at one shape for comparison. Run with
// --benchmark_filter=gemm. Both weight layouts appear: W as units x inputs (50 x 11520, "Wt" products) and
// as inputs x units (11520 x 50, network.cpp's layout).
// BM_gemm_im2col: the products im2col runs per band (one thread each, as inside its parallel loop) at a few
// standard shapes, with the band and column stride im2col itself picks; with oneDNN found, dnnl_sgemm runs
// the same products as a BLAS peer (BM_gemm_im2col_dnnl), so the gemm's share of im2col's time is visible.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <string>

#include "bench/bench_buffers.hpp"
#include "common/conv/conv_descriptor.hpp"
#include "common/kernels/gemm.hpp"
#include "impls/im2col/im2col_conv.hpp"

#ifdef CONVLAB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace convlab::bench {
namespace {

constexpr Index kInputs = 11520;  // 20 maps x 24 x 24 after the conv layer
constexpr Index kUnits = 50;

struct GemmShape {
  const char* name;
  Transpose transpose_a, transpose_b;
  Index m, n, k;  // as functions of the batch B below
};

// B is the batch; each case is one of the three products of a dense 11520 -> 50 layer.
GemmShape shape_for(int which, Index batch) {
  switch (which) {
    case 0: return {"forward_X_Wt", Transpose::No, Transpose::Yes, batch, kUnits, kInputs};
    case 1: return {"input_grad_dY_W", Transpose::No, Transpose::No, batch, kInputs, kUnits};
    case 2: return {"weight_grad_dYt_X", Transpose::Yes, Transpose::No, kUnits, kInputs, batch};
    case 3: return {"forward_X_W", Transpose::No, Transpose::No, batch, kUnits, kInputs};
    case 4: return {"input_grad_dY_Wt", Transpose::No, Transpose::Yes, batch, kInputs, kUnits};
    default: return {"weight_grad_Xt_dY", Transpose::Yes, Transpose::No, kInputs, kUnits, batch};
  }
}

template <typename T>
struct GemmOperands {
  TouchedBuffer<T> a, b, c;
  static GemmOperands& get() {
    static GemmOperands operands;
    return operands;
  }
};

void set_rate(benchmark::State& state, Index m, Index n, Index k) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(2e-9 * double(m) * double(n) * double(k) * double(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// Args: shape index, batch, threads.
template <typename T>
void BM_gemm(benchmark::State& state) {
  const GemmShape shape = shape_for(int(state.range(0)), Index(state.range(1)));
  const int threads = int(state.range(2));
  const Index lda = shape.transpose_a == Transpose::No ? shape.k : shape.m;
  const Index ldb = shape.transpose_b == Transpose::No ? shape.n : shape.k;
  auto& operands = GemmOperands<T>::get();
  const T* a = operands.a.get(std::size_t(shape.m * shape.k));
  const T* b = operands.b.get(std::size_t(shape.k * shape.n));
  T* c = operands.c.get(std::size_t(shape.m * shape.n));
  const int previous_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  for (auto _ : state) {
    gemm<T>(shape.transpose_a, shape.transpose_b, shape.m, shape.n, shape.k, T(1), a, lda, b, ldb, T(0), c, shape.n);
    benchmark::DoNotOptimize(c);
    benchmark::ClobberMemory();
  }
  omp_set_num_threads(previous_threads);
  set_rate(state, shape.m, shape.n, shape.k);
  state.SetLabel(std::string(shape.name) + " m=" + std::to_string(shape.m) + " n=" + std::to_string(shape.n) +
                 " k=" + std::to_string(shape.k));
}

// The simple triple loop (what gemm.cpp replaced) at the forward shape, batch 64, one thread.
void BM_gemm_triple_loop(benchmark::State& state) {
  const Index m = 64, n = kUnits, k = kInputs;
  auto& operands = GemmOperands<float>::get();
  const float* a = operands.a.get(std::size_t(m * k));
  const float* b = operands.b.get(std::size_t(k * n));
  float* c = operands.c.get(std::size_t(m * n));
  for (auto _ : state) {
    for (Index i = 0; i < m; ++i) {
      for (Index j = 0; j < n; ++j) {
        float sum = 0;
        for (Index p = 0; p < k; ++p) sum += a[i * k + p] * b[j * k + p];
        c[i * n + j] = sum;
      }
    }
    benchmark::DoNotOptimize(c);
    benchmark::ClobberMemory();
  }
  set_rate(state, m, n, k);
  state.SetLabel("forward_X_Wt m=64 n=50 k=11520, naive");
}

void gemm_arguments(benchmark::internal::Benchmark* family, bool with_one_thread) {
  family->ArgNames({"shape", "batch", "threads"});
  for (int shape = 0; shape < 6; ++shape) {
    for (int batch : {64, 1000}) {
      if (with_one_thread) family->Args({shape, batch, 1});
      family->Args({shape, batch, 2});
    }
  }
  family->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// im2col's per-band products at standard shapes: which pass (0 forward W * cols, 1 input gradient W^T * dY,
// 2 weight gradient dY * cols^T) at which layer.
constexpr const char* kIm2colLayers[] = {
    "mb64ic20ih24oc50oh20kh5n\"conv2_s1\"",
    "mb4ic64ih56oc64oh56kh3ph1n\"res2a_branch2b\"",
    "mb16ic256ih56oc128oh28kh1sh2n\"res3a_branch2a\"",
    "mb4ic128ih28oc128oh28kh3ph1n\"res3a_branch2b\"",
    "mb4ic512ih7oc512oh7kh3ph1n\"res5a_branch2b\"",
    "mb128ic17ih30oc17oh30kh3ph1n\"c17_3x3\"",
};
constexpr const char* kIm2colPasses[] = {"forward_W_cols", "input_grad_Wt_dY", "weight_grad_dY_colsT"};

struct Im2colProduct {
  std::string label;
  Transpose transpose_a, transpose_b;
  Index m, n, k, lda, ldb, ldc;
};

Im2colProduct im2col_product(int layer, int pass) {
  const ConvDescriptor descriptor = parse_conv_descriptor(kIm2colLayers[layer], 1);
  const Im2colGeometry g(descriptor.shape, sizeof(float));
  const Index pixels = g.band_rows * g.out_w, kk = g.kernel_h * g.kernel_w;
  Im2colProduct product;
  switch (pass) {
    case 0: product = {"", Transpose::No, Transpose::No, g.filters, pixels, g.patch_length, g.patch_length,
                       g.column_stride, g.out_pixels}; break;
    case 1: product = {"", Transpose::No, Transpose::No, g.channels * kk, pixels, g.filters, g.filters,
                       g.out_pixels, g.column_stride}; break;
    default: product = {"", Transpose::No, Transpose::Yes, g.filters, g.patch_length, pixels, g.out_pixels,
                        g.column_stride, g.patch_length}; break;
  }
  product.label = descriptor.name + " " + kIm2colPasses[pass] + " m=" + std::to_string(product.m) +
                  " n=" + std::to_string(product.n) + " k=" + std::to_string(product.k);
  return product;
}

template <typename Call>
void run_im2col_product(benchmark::State& state, const Call& call) {
  const Im2colProduct p = im2col_product(int(state.range(0)), int(state.range(1)));
  auto& operands = GemmOperands<float>::get();
  const Index a_rows = p.transpose_a == Transpose::No ? p.m : p.k;
  const Index b_rows = p.transpose_b == Transpose::No ? p.k : p.n;
  const Index c_cols = p.ldc;
  const float* a = operands.a.get(std::size_t(a_rows * p.lda));
  const float* b = operands.b.get(std::size_t(b_rows * p.ldb));
  float* c = operands.c.get(std::size_t(p.m * c_cols));
  const int previous_threads = omp_get_max_threads();
  omp_set_num_threads(1);
  for (auto _ : state) {
    call(p, a, b, c);
    benchmark::DoNotOptimize(c);
    benchmark::ClobberMemory();
  }
  omp_set_num_threads(previous_threads);
  set_rate(state, p.m, p.n, p.k);
  state.SetLabel(p.label);
}

void BM_gemm_im2col(benchmark::State& state) {
  run_im2col_product(state, [](const Im2colProduct& p, const float* a, const float* b, float* c) {
    gemm<float>(p.transpose_a, p.transpose_b, p.m, p.n, p.k, 1.0f, a, p.lda, b, p.ldb, 0.0f, c, p.ldc);
  });
}

void im2col_arguments(benchmark::internal::Benchmark* family) {
  family->ArgNames({"layer", "pass"});
  for (int layer = 0; layer < int(std::size(kIm2colLayers)); ++layer)
    for (int pass = 0; pass < 3; ++pass) family->Args({layer, pass});
  family->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_gemm_im2col)->Apply(im2col_arguments);

#ifdef CONVLAB_HAVE_DNNL
void BM_gemm_im2col_dnnl(benchmark::State& state) {
  run_im2col_product(state, [](const Im2colProduct& p, const float* a, const float* b, float* c) {
    dnnl_sgemm(p.transpose_a == Transpose::No ? 'N' : 'T', p.transpose_b == Transpose::No ? 'N' : 'T', p.m, p.n,
               p.k, 1.0f, a, p.lda, b, p.ldb, 0.0f, c, p.ldc);
  });
}
BENCHMARK(BM_gemm_im2col_dnnl)->Apply(im2col_arguments);
#endif

BENCHMARK(BM_gemm<float>)->Apply([](benchmark::internal::Benchmark* family) { gemm_arguments(family, true); });
BENCHMARK(BM_gemm<double>)->Apply([](benchmark::internal::Benchmark* family) { gemm_arguments(family, false); });
BENCHMARK(BM_gemm_triple_loop)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace convlab::bench
