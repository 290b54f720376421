// The weight gradient's products one block of (filter, channel) pairs at a time, for every transform position:
//
//   dU[xi][r][l] = sum_t D[xi][f0 + r][t] * V[xi][c0 + l][t]      r < rows, l < 16 * Vecs, xi < positions
//
// so that the block's G^T dU G can follow while its dU is still in L1/L2. Run as alpha^2 plain products (the
// shared gemm), dU is alpha^2 x F x C (2.4 MB for 128 x 128 channels at F(4x4), 38 MB for 512 x 512): written to
// L3 or memory by the products and read back by the untransform (measured in docs/performance.md). The channels
// are the vector lanes: V is first packed per block as [xi][t][l] (pack_gradient_channels), D is broadcast where
// it lies ([xi][f][t]). Each dU value is the sum over t in order from zero, as the gemm sums it. Floats, AVX-512.
#pragma once

#include <algorithm>

#include "common/kernels/transpose_16x16.hpp"
#include "common/tensor/strided_view.hpp"  // Index

namespace convlab::winograd_gradient {
// Channels per vector; a block's most vectors of channels and, for each count of vectors, its filters (about 24
// accumulators: per tile, vecs loads and rows broadcasts feed rows x vecs multiply-adds).
constexpr int kLanes = 16;
constexpr int kMaxVecs = 4, kMaxRows = 12;
constexpr int block_rows(int vecs) { return vecs <= 2 ? 12 : vecs == 3 ? 8 : 6; }
constexpr int kMaxBlockVectors = 24;  // the most rows x vecs
}  // namespace convlab::winograd_gradient

#if defined(__AVX512F__)
#include <immintrin.h>

namespace convlab::winograd_gradient {

// Vp[xi][t][l] = V[xi][c0 + l][t] for l < width (zeros up to `vecs` whole vectors), V [xi][c][t] with
// `channels` rows of `tile_stride` per position: 16 x 16 blocks loaded along t, transposed, stored along l.
inline void pack_gradient_channels(const float* V, Index channels, Index tile_stride, Index positions, Index nt,
                                   Index c0, Index width, int vecs, float* Vp) {
  const Index W = Index(vecs) * kLanes;
  for (Index xi = 0; xi < positions; ++xi) {
    float* dst = Vp + xi * nt * W;
    const float* src = V + (xi * channels + c0) * tile_stride;
    for (Index l0 = 0; l0 < W; l0 += kLanes) {
      for (Index t0 = 0; t0 < nt; t0 += kLanes) {
        const Index count = std::min<Index>(kLanes, nt - t0);
        const auto mask = __mmask16((1u << count) - 1u);
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
          r[i] = l0 + i < width ? _mm512_maskz_loadu_ps(mask, src + (l0 + i) * tile_stride + t0) : _mm512_setzero_ps();
        }
        transpose_16x16_floats(r);
        for (Index j = 0; j < count; ++j) _mm512_storeu_ps(dst + (t0 + j) * W + l0, r[j]);
      }
    }
  }
}

// dU[xi][r * 16 Vecs + l] for the block's Rows filters (rows of D `tile_stride` apart, positions `d_position`
// apart) and the packed channels Vp.
template <int Rows, int Vecs>
void gradient_block_products(const float* D, Index d_position, Index tile_stride, const float* Vp, Index nt,
                             Index positions, float* dU) {
  constexpr Index W = Vecs * kLanes;
  for (Index xi = 0; xi < positions; ++xi) {
    const float* d = D + xi * d_position;
    const float* v = Vp + xi * nt * W;
    __m512 acc[Rows][Vecs];
#pragma GCC unroll 12
    for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
      for (int k = 0; k < Vecs; ++k) acc[r][k] = _mm512_setzero_ps();
    for (Index t = 0; t < nt; ++t) {
      __m512 lanes[Vecs];
#pragma GCC unroll 4
      for (int k = 0; k < Vecs; ++k) lanes[k] = _mm512_loadu_ps(v + t * W + k * kLanes);
#pragma GCC unroll 12
      for (int r = 0; r < Rows; ++r) {
        const __m512 b = _mm512_set1_ps(d[r * tile_stride + t]);
#pragma GCC unroll 4
        for (int k = 0; k < Vecs; ++k) acc[r][k] = _mm512_fmadd_ps(b, lanes[k], acc[r][k]);
      }
    }
    float* out = dU + xi * Rows * W;
#pragma GCC unroll 12
    for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
      for (int k = 0; k < Vecs; ++k) _mm512_storeu_ps(out + r * W + k * kLanes, acc[r][k]);
  }
}

// The same for a run-time `vecs` <= kMaxVecs and `rows` <= block_rows(vecs): dU[xi][r * 16 vecs + l].
template <int Vecs, int Rows = block_rows(Vecs)>
void gradient_block_products_rows(int rows, const float* D, Index d_position, Index tile_stride, const float* Vp,
                                  Index nt, Index positions, float* dU) {
  if constexpr (Rows > 1) {
    if (rows < Rows) {
      return gradient_block_products_rows<Vecs, Rows - 1>(rows, D, d_position, tile_stride, Vp, nt, positions, dU);
    }
  }
  gradient_block_products<Rows, Vecs>(D, d_position, tile_stride, Vp, nt, positions, dU);
}
inline void gradient_block_products(int rows, int vecs, const float* D, Index d_position, Index tile_stride,
                                    const float* Vp, Index nt, Index positions, float* dU) {
  switch (vecs) {
    case 1: return gradient_block_products_rows<1>(rows, D, d_position, tile_stride, Vp, nt, positions, dU);
    case 2: return gradient_block_products_rows<2>(rows, D, d_position, tile_stride, Vp, nt, positions, dU);
    case 3: return gradient_block_products_rows<3>(rows, D, d_position, tile_stride, Vp, nt, positions, dU);
    default: return gradient_block_products_rows<4>(rows, D, d_position, tile_stride, Vp, nt, positions, dU);
  }
}

}  // namespace convlab::winograd_gradient
#endif
