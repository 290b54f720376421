// Per-thread busy time of ocr_c1 batch 1 row tiles (8 tiles of 6 rows), as openmp runs them. Built against
// build-bench (2026-12-06, 17f21eb): g++ -O3 -march=native -fopenmp -std=c++20 -I. ocr_c1_thread_times.cpp
// build-bench/impls/libconvlab_impls.a build-bench/common/{kernels,conv,machine}/libconvlab_*.a -lz
// Modes: 1 one thread runs all tiles; 4 one thread runs the first half; 2 two threads, half each;
// 3 the same, the second thread writing an output buffer of its own.
#include <omp.h>
#include <chrono>
#include <cstdio>
#include <vector>
#include "impls/simd/simd_kernels.hpp"
#include "impls/simd/simd_arch.hpp"
using namespace convlab;
using clk = std::chrono::steady_clock;
int main(int argc, char** argv) {
  ConvShape s; s.batch = 1; s.in_channels = 1; s.out_channels = 16; s.in_height = 48; s.in_width = 480;
  s.kernel_height = 3; s.kernel_width = 3; s.stride_height = 1; s.stride_width = 1; s.pad_height = 1; s.pad_width = 1;
  const int mode = argc > 1 ? atoi(argv[1]) : 2;   // 1: one thread all tiles; 2: two threads 4 tiles each; 3: two threads, each its own out buffer
  const int tiles = argc > 2 ? atoi(argv[2]) : 8;
  const auto& kernels = simd::kernel_table(simd::selected_arch()).get<float>();
  simd::ForwardPlan plan(s, kernels.lanes, true);
  std::vector<float> in(s.input_size(), 0.5f), w(s.weight_size(), 0.1f), b(16, 0.f), out(s.output_size()), out2(s.output_size());
  std::vector<simd::Scratch<float>> scratch(2);
  for (auto& e : scratch) e.planes.resize(std::size_t(plan.layout.size()));
  const Index rows = plan.out_height, per = (rows + tiles - 1) / tiles;
  double busy[2] = {0, 0}, total = 0; long calls = 0;
  auto run = [&](int t, int nthreads) {
    const int first = t * tiles / nthreads, last = (t + 1) * tiles / nthreads;
    float* o = (mode == 3 && t == 1) ? out2.data() : out.data();
    for (int k = first; k < last; ++k)
      simd::forward_image(kernels, plan, in.data(), w.data(), b.data(), o, 0, 0, 16, k * per, std::min(rows, (k + 1) * per), scratch[t]);
  };
  for (int rep = 0; rep < 40; ++rep) {
    for (int i = 0; i < 500; ++i) {
      auto a = clk::now();
      if (mode == 4) { run(0, 2); busy[0] += std::chrono::duration<double, std::micro>(clk::now() - a).count(); }
      else if (mode == 1) { run(0, 1); busy[0] += std::chrono::duration<double, std::micro>(clk::now() - a).count(); }
      else {
#pragma omp parallel num_threads(2)
        {
          const int t = omp_get_thread_num();
          auto b0 = clk::now();
          run(t, 2);
          double d = std::chrono::duration<double, std::micro>(clk::now() - b0).count();
#pragma omp atomic
          busy[t] += d;
        }
      }
      if (rep >= 10) { total += std::chrono::duration<double, std::micro>(clk::now() - a).count(); ++calls; }
      else if (i == 499 && rep == 9) { busy[0] = busy[1] = 0; }
    }
  }
  std::printf("mode %d tiles %d: %.1f us per call; busy per call: thread0 %.1f thread1 %.1f\n", mode, tiles,
              total / calls, busy[0] / calls, busy[1] / calls);
}
