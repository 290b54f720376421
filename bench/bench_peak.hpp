// This machine's peak, measured in the same run as everything it is compared with: FMA throughput (float
// and double, per thread count) and memory bandwidth (read, write, copy on buffers far larger than L3).
#pragma once

#include <string>

namespace convlab::bench {

// Floating-point operations per second (multiply and add counted separately) that `threads` threads reach
// running independent FMA chains in the widest vector registers this file was compiled for, measured for
// about `seconds`.
double measure_fma_flops(bool double_precision, int threads, double seconds);

// The vector instruction set the FMA kernel was compiled for ("avx512f", ...) and its width in floats.
std::string fma_kernel_arch();
int fma_kernel_float_lanes();

// Registers peak/fma/<dtype>/threads:<T> and peak/memory/<read|write|copy>/threads:<T>.
// quick: a smaller (still 4x L3) bandwidth buffer.
void register_peak_benchmarks(bool quick);

}  // namespace convlab::bench
