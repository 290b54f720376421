// A 16 x 16 block of floats transposed in AVX-512 registers: rows[i] lane j -> rows[j] lane i. The ladder: rows
// interleaved in pairs (unpack), columns gathered in fours per 128-bit block (shuffle), then 128-bit blocks
// gathered across the four-row groups, twice. 64 two-source shuffles for 256 floats, where an element-by-element
// transpose takes 256 loads and 256 stores. Used by the simd blocked kernels' transposes, im2col's W^T and
// Winograd's weight gradient to pack channels as vector lanes.
//
// The zero-masking forms with every lane on: the plain ones start from _mm512_undefined_ps(), which GCC 12
// reports as an uninitialised read inside its own headers. Declared for AVX-512F whatever the file's flags, so
// that a file built for another arch may name it in a branch it never takes.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace convlab {

// The ladder's first two stages for N rows (a multiple of 4): rows interleaved in pairs, then out[4k + q] holds,
// per 128-bit block b, lane 4b + q of rows 4k..4k+3 (a 4 x 4 transpose within each block of each four-row group).
// transpose_16x16_floats goes on across the blocks; the simd blocked kernels' stores of 8-pixel runs take these
// for 8 rows and finish with block permutes of their own.
template <int N>
__attribute__((target("avx512f"), always_inline)) inline void transpose_4x4_in_blocks(const __m512 (&rows)[N],
                                                                                      __m512 (&out)[N]) {
  static_assert(N % 4 == 0, "four-row groups");
  constexpr __mmask16 kAll = 0xFFFF;
  __m512 pairs[N];
  // pairs[2k], pairs[2k+1]: rows 2k and 2k+1 interleaved, per 128-bit block.
#pragma GCC unroll 8
  for (int k = 0; k < N / 2; ++k) {
    pairs[2 * k] = _mm512_maskz_unpacklo_ps(kAll, rows[2 * k], rows[2 * k + 1]);
    pairs[2 * k + 1] = _mm512_maskz_unpackhi_ps(kAll, rows[2 * k], rows[2 * k + 1]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < N / 4; ++k) {
    out[4 * k + 0] = _mm512_maskz_shuffle_ps(kAll, pairs[4 * k + 0], pairs[4 * k + 2], 0x44);
    out[4 * k + 1] = _mm512_maskz_shuffle_ps(kAll, pairs[4 * k + 0], pairs[4 * k + 2], 0xEE);
    out[4 * k + 2] = _mm512_maskz_shuffle_ps(kAll, pairs[4 * k + 1], pairs[4 * k + 3], 0x44);
    out[4 * k + 3] = _mm512_maskz_shuffle_ps(kAll, pairs[4 * k + 1], pairs[4 * k + 3], 0xEE);
  }
}

__attribute__((target("avx512f"), always_inline)) inline void transpose_16x16_floats(__m512 (&rows)[16]) {
  constexpr __mmask16 kAll = 0xFFFF;
  __m512 quads[16], t[16];
  transpose_4x4_in_blocks(rows, quads);
  // Then 128-bit blocks gathered across the four-row groups, twice.
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h)
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      t[8 * h + j] = _mm512_maskz_shuffle_f32x4(kAll, quads[8 * h + j], quads[8 * h + 4 + j], 0x88);
      t[8 * h + 4 + j] = _mm512_maskz_shuffle_f32x4(kAll, quads[8 * h + j], quads[8 * h + 4 + j], 0xDD);
    }
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    rows[j] = _mm512_maskz_shuffle_f32x4(kAll, t[j], t[8 + j], 0x88);
    rows[8 + j] = _mm512_maskz_shuffle_f32x4(kAll, t[j], t[8 + j], 0xDD);
  }
}

// dest[j * dest_stride + i] = source[i * source_stride + j] for i < height, j < width (both 1..16): one block of
// a larger transpose, its edges through masked loads and stores. kStream: a full-height line that starts a cache
// line goes out with a non-temporal store (the caller fences before other threads read dest). kPrefetch > 0:
// each row prefetched that many floats ahead, because 16 rows far apart are 16 streams that the hardware
// prefetchers do not all follow (the address formed as an integer: past a row's end it may point beyond source).
template <bool kStream = false, std::ptrdiff_t kPrefetch = 0>
__attribute__((target("avx512f"), always_inline)) inline void transpose_float_block(
    const float* source, std::ptrdiff_t source_stride, std::ptrdiff_t height, std::ptrdiff_t width, float* dest,
    std::ptrdiff_t dest_stride) {
  const auto columns = __mmask16((1u << width) - 1u);
  __m512 a[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    if (i >= height) {
      a[i] = _mm512_setzero_ps();
      continue;
    }
    const float* row = source + i * source_stride;
    if constexpr (kPrefetch > 0)
      __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(row) +
                                                       kPrefetch * sizeof(float)));
    a[i] = _mm512_maskz_loadu_ps(columns, row);
  }
  transpose_16x16_floats(a);
  const auto lanes = __mmask16((1u << height) - 1u);
  for (std::ptrdiff_t j = 0; j < width; ++j) {
    float* line = dest + j * dest_stride;
    if (kStream && height == 16 && reinterpret_cast<std::uintptr_t>(line) % 64 == 0)
      _mm512_stream_ps(line, a[j]);
    else
      _mm512_mask_storeu_ps(line, lanes, a[j]);
  }
}

}  // namespace convlab
