// The vector type of the ladder's kernels and the partial loads and stores of step 2 onwards.
// xsimd picks the widest registers the build targets (16 floats with AVX-512, 8 with AVX2, 4 with SSE2).
// xsimd 8 has no masked loads, so they come from the instruction set's own intrinsics where it has them
// (AVX-512: a mask register; AVX2: a lane mask in a vector), and from a copy through a small buffer
// otherwise. A kernel computes its masks once per block and uses them for every load: a test of "is this
// vector whole?" at each load would put a branch between every two FMAs, and gcc then keeps the sums in
// memory instead of registers. For the same reason the loops over a block's registers (steps 3-5) carry
// `#pragma GCC unroll`: unrolled early, the block's sums become registers; unrolled late, gcc keeps a copy of
// the array in memory and stores every sum after every FMA.
#pragma once

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

namespace convlab::ladder {

using Vec = xsimd::batch<float>;
inline constexpr int kLanes = int(Vec::size);

// Which lanes of a vector hold real columns: the first `count` of them.
struct Lanes {
#if defined(__AVX512F__)
  static_assert(kLanes == 16, "the masked loads below assume xsimd's AVX-512 batch");
  __mmask16 mask = 0;
  explicit Lanes(int count) : mask(__mmask16((1u << count) - 1)) {}
#elif defined(__AVX2__)
  static_assert(kLanes == 8, "the masked loads below assume xsimd's AVX2 batch");
  __m256i mask;
  explicit Lanes(int count)
      : mask(_mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))) {}
#else
  int count = 0;
  explicit Lanes(int lanes) : count(lanes) {}
#endif
};

// The lanes of `lanes` from `address`, zeros in the others; nothing outside them is read.
inline Vec load(const float* address, const Lanes& lanes) {
#if defined(__AVX512F__)
  return Vec(_mm512_maskz_loadu_ps(lanes.mask, address));
#elif defined(__AVX2__)
  return Vec(_mm256_maskload_ps(address, lanes.mask));
#else
  alignas(64) float buffer[kLanes] = {};
  for (int i = 0; i < lanes.count; ++i) buffer[i] = address[i];
  return Vec::load_aligned(buffer);
#endif
}

// a * b + c rounded once, as step 0's contracted `sum += w * x` is. xsimd 8 has no AVX-512 fma of its own: it
// computes a * b + c and leaves the fusing to the compiler, which a sanitizer build does not always do.
inline Vec multiply_add(const Vec& a, const Vec& b, const Vec& c) {
#if defined(__AVX512F__)
  return Vec(_mm512_fmadd_ps(a, b, c));
#else
  return xsimd::fma(a, b, c);
#endif
}

// Stores the lanes of `lanes` of `value` at `address`; nothing outside them is written.
inline void store(float* address, const Vec& value, const Lanes& lanes) {
#if defined(__AVX512F__)
  _mm512_mask_storeu_ps(address, lanes.mask, value);
#elif defined(__AVX2__)
  _mm256_maskstore_ps(address, lanes.mask, value);
#else
  alignas(64) float buffer[kLanes];
  value.store_aligned(buffer);
  for (int i = 0; i < lanes.count; ++i) address[i] = buffer[i];
#endif
}

}  // namespace convlab::ladder
