// The machine's peak: FMA throughput and memory bandwidth kernels (see bench_peak.hpp).
//
// Built with the project's architecture flags (-march=native by default), so xsimd::batch<T> is the widest
// vector this CPU has: 512-bit zmm registers on Zen 5, which has two 512-bit FMA pipes of 4 cycles latency
// (64 float flops per cycle), and on Zen 4, which runs a 512-bit FMA on its two 256-bit pipes (32 per
// cycle: half Zen 5's peak at the same clock). Eight independent chains would just cover latency x
// throughput on Zen 5; 16 leave slack for scheduling and still use only half of the 32 vector registers,
// so nothing spills.
#include "bench/bench_peak.hpp"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <xsimd/xsimd.hpp>

#include "common/tensor/aligned_buffer.hpp"

namespace convlab::bench {

namespace {

constexpr int kFmaChains = 16;

// Sum of a vector's lanes. (xsimd 8.1's hadd for double on AVX-512 trips a false GCC 12 -Wuninitialized
// inside the intrinsic headers; going through memory is just as good outside hot loops.)
template <typename T>
T horizontal_sum(const xsimd::batch<T>& vector) {
  alignas(64) T lanes[xsimd::batch<T>::size];
  vector.store_aligned(lanes);
  T sum = 0;
  for (T lane : lanes) sum += lane;
  return sum;
}
// About 2 ms per call: long enough that waking a second thread (an OpenMP barrier) is noise, even on a
// loaded machine where that wake-up can wait for a scheduler tick.
constexpr std::int64_t kFmaRoundsPerCall = 1000000;

// Runs `rounds` rounds of kFmaChains independent vector FMAs; returns a value depending on all of them so
// the compiler cannot drop any.
template <typename T>
T fma_chains(std::int64_t rounds, T seed) {
  using Batch = xsimd::batch<T>;
  Batch acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = Batch(seed + T(c) * T(1e-3));
  // x -> x * scale + shift converges towards 1: no overflow, no denormals, however long it runs.
  const Batch scale(T(0.999999)), shift(T(1e-6));
  for (std::int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < kFmaChains; ++c) acc[c] = xsimd::fma(acc[c], scale, shift);
  }
  Batch total = acc[0];
  for (int c = 1; c < kFmaChains; ++c) total += acc[c];
  return horizontal_sum(total);
}

template <typename T>
double fma_flops_per_call() {
  return double(kFmaRoundsPerCall) * kFmaChains * double(xsimd::batch<T>::size) * 2.0;
}

// One call on every thread; returns the sum of the threads' results (to be kept alive by the caller).
template <typename T>
T fma_call_on_threads(int threads) {
  T total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
  total += fma_chains<T>(kFmaRoundsPerCall, T(0.5) + T(omp_get_thread_num()));
  return total;
}

template <typename T>
void fma_benchmark(benchmark::State& state, int threads) {
  for (auto _ : state) benchmark::DoNotOptimize(fma_call_on_threads<T>(threads));
  const double flops = fma_flops_per_call<T>() * threads * double(state.iterations());
  state.counters["GFLOPS"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.counters["compute_threads"] = threads;
  state.SetLabel(std::string(xsimd::default_arch::name()) + " x" + std::to_string(kFmaChains) + " chains");
}

// Buffers for the bandwidth kernels: allocated and touched once, on first use.
std::size_t bandwidth_buffer_bytes = std::size_t(256) << 20;

struct BandwidthBuffers {
  AlignedBuffer<float> source, destination;
  BandwidthBuffers() : source(bandwidth_buffer_bytes / sizeof(float), 1.0f),
                       destination(bandwidth_buffer_bytes / sizeof(float), 0.0f) {}
  static BandwidthBuffers& get() {
    static BandwidthBuffers buffers;
    return buffers;
  }
};

enum class MemoryKernel { read, write, copy };

// Splits [0, count) into equal vector-aligned parts, one per thread.
template <typename Body>
void for_each_thread_part(std::size_t count, int threads, Body body) {
  using Batch = xsimd::batch<float>;
#pragma omp parallel num_threads(threads)
  {
    const std::size_t parts = std::size_t(omp_get_num_threads());
    const std::size_t part = std::size_t(omp_get_thread_num());
    const std::size_t per_part = (count / parts) / Batch::size * Batch::size;
    const std::size_t begin = part * per_part;
    const std::size_t end = part + 1 == parts ? count / Batch::size * Batch::size : begin + per_part;
    body(begin, end);
  }
}

float run_memory_kernel(MemoryKernel kernel, int threads) {
  using Batch = xsimd::batch<float>;
  BandwidthBuffers& buffers = BandwidthBuffers::get();
  const float* source = buffers.source.data();
  float* destination = buffers.destination.data();
  const std::size_t count = buffers.source.size();
  float checksum = 0;
  switch (kernel) {
    case MemoryKernel::read:
      for_each_thread_part(count, threads, [&](std::size_t begin, std::size_t end) {
        Batch a(0.0f), b(0.0f), c(0.0f), d(0.0f);  // four sums so the adds do not serialise the loads
        std::size_t i = begin;
        for (; i + 4 * Batch::size <= end; i += 4 * Batch::size) {
          a += Batch::load_aligned(source + i);
          b += Batch::load_aligned(source + i + Batch::size);
          c += Batch::load_aligned(source + i + 2 * Batch::size);
          d += Batch::load_aligned(source + i + 3 * Batch::size);
        }
        for (; i < end; i += Batch::size) a += Batch::load_aligned(source + i);
        const float sum = horizontal_sum((a + b) + (c + d));
#pragma omp atomic
        checksum += sum;
      });
      break;
    case MemoryKernel::write:
      for_each_thread_part(count, threads, [&](std::size_t begin, std::size_t end) {
        const Batch value(2.0f);
        for (std::size_t i = begin; i < end; i += Batch::size) value.store_aligned(destination + i);
      });
      checksum = destination[count / 2];
      break;
    case MemoryKernel::copy:
      for_each_thread_part(count, threads, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; i += Batch::size)
          Batch::load_aligned(source + i).store_aligned(destination + i);
      });
      checksum = destination[count / 2];
      break;
  }
  return checksum;
}

void memory_benchmark(benchmark::State& state, MemoryKernel kernel, int threads) {
  run_memory_kernel(kernel, threads);  // first touch and warm-up, outside the timed loop
  for (auto _ : state) benchmark::DoNotOptimize(run_memory_kernel(kernel, threads));
  const double bytes_per_call = double(bandwidth_buffer_bytes) * (kernel == MemoryKernel::copy ? 2.0 : 1.0);
  const double bytes = bytes_per_call * double(state.iterations());
  state.SetBytesProcessed(std::int64_t(bytes));
  state.counters["GBps"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["compute_threads"] = threads;
  state.counters["buffer_MiB"] = double(bandwidth_buffer_bytes >> 20);
}

}  // namespace

double measure_fma_flops(bool double_precision, int threads, double seconds) {
  const double flops_per_call =
      (double_precision ? fma_flops_per_call<double>() : fma_flops_per_call<float>()) * threads;
  using Clock = std::chrono::steady_clock;
  double best = 0;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  // The best of several calls: other processes on a shared machine only ever slow a call down.
  int calls = 0;
  do {
    ++calls;
    const auto start = Clock::now();
    if (double_precision) benchmark::DoNotOptimize(fma_call_on_threads<double>(threads));
    else benchmark::DoNotOptimize(fma_call_on_threads<float>(threads));
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed > 0 && flops_per_call / elapsed > best) best = flops_per_call / elapsed;
  } while (Clock::now() < deadline || calls < 5);
  return best;
}

std::string fma_kernel_arch() { return xsimd::default_arch::name(); }
int fma_kernel_float_lanes() { return int(xsimd::batch<float>::size); }

void register_peak_benchmarks(bool quick) {
  if (quick) bandwidth_buffer_bytes = std::size_t(128) << 20;
  for (int threads : {1, 2}) {
    const std::string suffix = "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("peak/fma/float" + suffix).c_str(), fma_benchmark<float>, threads)->UseRealTime();
    benchmark::RegisterBenchmark(("peak/fma/double" + suffix).c_str(), fma_benchmark<double>, threads)
        ->UseRealTime();
  }
  for (int threads : {1, 2}) {
    const std::string suffix = "/threads:" + std::to_string(threads);
    const std::pair<const char*, MemoryKernel> kernels[] = {
        {"read", MemoryKernel::read}, {"write", MemoryKernel::write}, {"copy", MemoryKernel::copy}};
    for (const auto& [name, kernel] : kernels)
      benchmark::RegisterBenchmark(("peak/memory/" + std::string(name) + suffix).c_str(), memory_benchmark, kernel,
                                   threads)
          ->UseRealTime();
  }
}

}  // namespace convlab::bench
