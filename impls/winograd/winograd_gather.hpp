// Gathers of tile taps out of one image row, for the Winograd transforms:
//
//   rows[b][j] = in[j * M + b]      for b < B, j < count     (rows[b] = dst + b * row_stride)
//
// The input transform takes B = M + 2 taps per tile (neighbouring tiles overlap by two columns), the output
// gradient's transform B = M. Scalar, that is B loads and B stores per tile. With AVX-512 floats a group of
// tiles whose taps span at most 32 floats (7 tiles of F(4x4), 14 of F(2x2) for the input; 8 and 16 for the
// output gradient) is two masked loads, then per b one two-source permute and one masked store of the
// group's tiles. Only data moves: the values, and so every later rounding, are the same either way.
#pragma once

#include <cstdint>

#include "common/tensor/strided_view.hpp"  // Index

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace convlab::winograd_gather {

template <int M, int B, typename T>
inline void gather_scalar(const T* __restrict in, T* __restrict dst, Index row_stride, Index count) {
#pragma GCC ivdep
  for (Index j = 0; j < count; ++j) {
#pragma GCC unroll 8
    for (int b = 0; b < B; ++b) dst[b * row_stride + j] = in[j * M + b];
  }
}

#if defined(__AVX512F__)
// Tiles per group: the largest count whose taps, (count - 1) * M + B floats, fit two vectors.
template <int M, int B>
constexpr Index group_tiles() {
  return (32 - B) / M + 1;
}

template <int M, int B>
inline void gather_group(const float* in, float* dst, Index row_stride, Index count) {
  const Index span = (count - 1) * M + B;  // floats read, <= 32
  const auto low_mask = __mmask16(span >= 16 ? 0xFFFFu : (1u << span) - 1u);
  const auto high_mask = __mmask16(span <= 16 ? 0u : span >= 32 ? 0xFFFFu : (1u << (span - 16)) - 1u);
  // Masked loads read nothing (and cannot fault) outside the mask: the group never reads past its taps.
  const __m512 low = _mm512_maskz_loadu_ps(low_mask, in);
  const __m512 high = _mm512_maskz_loadu_ps(high_mask, in + 16);
  const auto store_mask = __mmask16((1u << count) - 1u);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i first = _mm512_mullo_epi32(lane, _mm512_set1_epi32(M));  // lane j: tap 0 of tile j
#pragma GCC unroll 8
  for (int b = 0; b < B; ++b) {
    // Index bits above the fifth are ignored: lanes past `count` pick something, and are not stored.
    const __m512i index = _mm512_add_epi32(first, _mm512_set1_epi32(b));
    _mm512_mask_storeu_ps(dst + b * row_stride, store_mask, _mm512_permutex2var_ps(low, index, high));
  }
}
#endif

template <int M, int B, typename T>
inline void gather(const T* __restrict in, T* __restrict dst, Index row_stride, Index count) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == sizeof(float)) {
    constexpr Index kGroup = group_tiles<M, B>();
    for (Index j = 0; j < count; j += kGroup) {
      const Index n = count - j < kGroup ? count - j : kGroup;
      gather_group<M, B>(in + j * M, dst + j, row_stride, n);
    }
    return;
  }
#endif
  gather_scalar<M, B>(in, dst, row_stride, count);
}

}  // namespace convlab::winograd_gather
