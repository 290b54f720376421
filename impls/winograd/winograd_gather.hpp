// Tile taps out of one image row, for the Winograd transforms:
//
//   rows[b][j] = in[j * M + b]      for b < B, j < count     (rows[b] = dst + b * row_stride)
//
// The input transform takes B = M + 2 taps per tile (neighbouring tiles overlap by two columns), the output
// gradient's transform B = M. With AVX-512 floats the transforms do not gather into memory at all: a group of
// tiles whose taps span at most 32 floats (7 tiles of F(4x4), 15 of F(2x2) for the input; 8 and 16 for the
// output gradient) is loaded as two vectors by load_span, with zeros for the padding, and each tap b of the
// group's tiles is picked out of them by one two-source permute (tap) and transformed in registers. Other
// types gather with `gather`, B loads and B stores per tile. The output transform's join is the reverse,
// out[j * M + s] = rows[s][j] (+ bias): M masked loads, interleaved by permutes into whole vectors of output.
// Only data moves (and the bias is the same one addition): the values, and so every rounding, are the same
// either way.
#pragma once

#include <cstdint>

#include "common/tensor/strided_view.hpp"  // Index

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace convlab::winograd_gather {

template <int M, int B, typename T>
inline void gather(const T* __restrict in, T* __restrict dst, Index row_stride, Index count) {
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

// The `span` (<= 32) floats from column x of a row of `width` floats, as two vectors, where x may be negative
// and x + span may pass the row's end: the lanes outside the row are zero (the padding). Masked loads read
// nothing and cannot fault outside their mask; the addresses are computed as integers, so no pointer outside
// the row is ever formed.
inline void load_span(const float* row, Index width, Index x, Index span, __m512& low, __m512& high) {
  const Index first = x < 0 ? (-x < span ? -x : span) : 0;      // first lane inside the row
  const Index last = width - x < span ? (width - x > first ? width - x : first) : span;  // one past the last
  const std::uint64_t lanes = ((std::uint64_t(1) << last) - 1u) & ~((std::uint64_t(1) << first) - 1u);
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(row) + std::uintptr_t(x) * sizeof(float);
  low = _mm512_maskz_loadu_ps(__mmask16(lanes & 0xFFFFu), reinterpret_cast<const float*>(base));
  high = _mm512_maskz_loadu_ps(__mmask16((lanes >> 16) & 0xFFFFu), reinterpret_cast<const float*>(base + 64));
}

// Tap b of each tile of a group loaded by load_span: lane j = the span's float j * M + b.
template <int M>
inline __m512 tap(__m512 low, __m512 high, int b) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i index = _mm512_add_epi32(_mm512_mullo_epi32(lane, _mm512_set1_epi32(M)), _mm512_set1_epi32(b));
  return _mm512_permutex2var_ps(low, index, high);
}
#endif

// out[j * M + s] = rows[s][j] + bias (no addition when bias is null) for s < M, j < count; rows[s] = y + s *
// row_stride.
template <int M, typename T>
inline void join_scalar(const T* __restrict y, Index row_stride, T* __restrict out, Index count, const T* bias) {
  if (bias) {
    const T add = *bias;
#pragma GCC ivdep
    for (Index j = 0; j < count; ++j) {
#pragma GCC unroll 4
      for (int s = 0; s < M; ++s) out[j * M + s] = y[s * row_stride + j] + add;
    }
  } else {
#pragma GCC ivdep
    for (Index j = 0; j < count; ++j) {
#pragma GCC unroll 4
      for (int s = 0; s < M; ++s) out[j * M + s] = y[s * row_stride + j];
    }
  }
}

#if defined(__AVX512F__)
// One group of up to 32 / M tiles (M = 2 or 4): 32 floats of output at most.
template <int M>
inline void join_group(const float* y, Index row_stride, float* out, Index count, const float* bias) {
  static_assert(M == 2 || M == 4, "F(2x2) and F(4x4) only");
  const auto load_mask = __mmask16(count >= 16 ? 0xFFFFu : (1u << count) - 1u);
  // Lanes 2k, 2k + 1 from lane k of a and of b (the first 8 lanes of each); +8: their last 8 lanes.
  const __m512i pairs = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  __m512 lines[2];
  if constexpr (M == 2) {
    const __m512 r0 = _mm512_maskz_loadu_ps(load_mask, y), r1 = _mm512_maskz_loadu_ps(load_mask, y + row_stride);
    lines[0] = _mm512_permutex2var_ps(r0, pairs, r1);
    lines[1] = _mm512_permutex2var_ps(r0, _mm512_add_epi32(pairs, _mm512_set1_epi32(8)), r1);
  } else {
    const __m512 r0 = _mm512_maskz_loadu_ps(load_mask, y), r1 = _mm512_maskz_loadu_ps(load_mask, y + row_stride);
    const __m512 r2 = _mm512_maskz_loadu_ps(load_mask, y + 2 * row_stride);
    const __m512 r3 = _mm512_maskz_loadu_ps(load_mask, y + 3 * row_stride);
    const __m512 r01 = _mm512_permutex2var_ps(r0, pairs, r1), r23 = _mm512_permutex2var_ps(r2, pairs, r3);
    // Lanes 4k..4k+3: pair k of r01 then pair k of r23 (tile k's four columns); +8: tiles 4..7.
    const __m512i quads = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    lines[0] = _mm512_permutex2var_ps(r01, quads, r23);
    lines[1] = _mm512_permutex2var_ps(r01, _mm512_add_epi32(quads, _mm512_set1_epi32(8)), r23);
  }
  const Index values = count * M;
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const Index in_line = values - 16 * h;
    if (in_line <= 0) break;
    const auto store_mask = __mmask16(in_line >= 16 ? 0xFFFFu : (1u << in_line) - 1u);
    const __m512 line = bias ? _mm512_add_ps(lines[h], _mm512_set1_ps(*bias)) : lines[h];
    _mm512_mask_storeu_ps(out + 16 * h, store_mask, line);
  }
}
#endif

template <int M, typename T>
inline void join(const T* __restrict y, Index row_stride, T* __restrict out, Index count, const T* bias) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == sizeof(float)) {
    constexpr Index kGroup = 32 / M;
    for (Index j = 0; j < count; j += kGroup) {
      const Index n = count - j < kGroup ? count - j : kGroup;
      join_group<M>(y + j, row_stride, out + j * M, n, bias);
    }
    return;
  }
#endif
  join_scalar<M>(y, row_stride, out, count, bias);
}

}  // namespace convlab::winograd_gather
