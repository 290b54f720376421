// The channel-blocked kernels of blocked_kernels.hpp, written once for any xsimd arch. Included ONLY by
// the per-arch translation units (blocked_kernels_<arch>.cpp), each compiled with that arch's flags
// alone; everything has internal linkage so no function built for one arch can stand in for another.
#pragma once

#include <algorithm>
#include <immintrin.h>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "impls/simd/blocked_kernels.hpp"

namespace convlab::simd {
namespace {

template <class Arch, typename T>
struct Blocked {
  using Vec = xsimd::batch<T, Arch>;
  static constexpr Index kLanes = Index(Vec::size);
  static constexpr bool kWide = std::is_same_v<Arch, xsimd::avx512f>;

  // One rounding per term, as naive's contracted loop does (see simd_kernels_impl.hpp: xsimd 8.1 leaves
  // AVX-512 fma to compiler contraction, which the sanitizer build does not do).
  static Vec fma(const Vec& a, const Vec& b, const Vec& c) {
    if constexpr (kWide && std::is_same_v<T, float>) {
      return Vec(_mm512_fmadd_ps(a, b, c));
    } else if constexpr (kWide) {
      return Vec(_mm512_fmadd_pd(a, b, c));
    } else {
      return xsimd::fma(a, b, c);
    }
  }

  // Pixels per tile for V channel vectors: V*P accumulators, P source pointers kept in general registers.
  static constexpr int pixels_for(int vectors) {
    if constexpr (kWide) return vectors == 4 ? 6 : 8;
    return vectors == 1 ? 8 : vectors == 2 ? 6 : vectors == 3 ? 4 : 3;
  }
  // Taps per weight-gradient tile for V out-channel vectors.
  static constexpr int taps_for(int vectors) {
    if constexpr (kWide) return vectors <= 2 ? 8 : 6;
    return vectors == 1 ? 8 : vectors == 2 ? 6 : vectors == 3 ? 4 : 3;
  }

  template <int V>
  static void tiles(const TileJob<T>& job, Index begin, Index end) {
    constexpr int P = pixels_for(V);
    constexpr Index kGroup = V * kLanes;
    for (Index p0 = begin; p0 < end; p0 += P) {
      const Index valid = std::min<Index>(P, end - p0);
      const T* source[P];
      // A short last tile repeats its last pixel: computed, never stored.
#pragma GCC unroll 8
      for (int j = 0; j < P; ++j) source[j] = job.source + job.pixel_source[p0 + std::min<Index>(j, valid - 1)];
      Vec acc[P][V];
      T* partial = job.partial_sums ? job.partial_sums + (p0 - begin) * kGroup : nullptr;
      const bool resume = partial && !job.first_block;
#pragma GCC unroll 8
      for (int j = 0; j < P; ++j)
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v)
          acc[j][v] = resume && j < valid ? Vec::load_unaligned(partial + j * kGroup + v * kLanes) : Vec(T(0));
      const T* w = job.packed_weights;
      for (Index t = 0; t < job.taps; ++t, w += kGroup) {
        const Index offset = job.tap_offsets[t];
        Vec weight[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) weight[v] = Vec::load_unaligned(w + v * kLanes);
#pragma GCC unroll 8
        for (int j = 0; j < P; ++j) {
          const Vec x(source[j][offset]);
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[j][v] = fma(weight[v], x, acc[j][v]);
        }
      }
      if (partial && !job.last_block) {
#pragma GCC unroll 8
        for (int j = 0; j < P; ++j) {
          if (j >= valid) break;
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[j][v].store_unaligned(partial + j * kGroup + v * kLanes);
        }
        continue;
      }
      if (job.bias) {
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          const Vec bias = Vec::load_unaligned(job.bias + v * kLanes);
#pragma GCC unroll 8
          for (int j = 0; j < P; ++j) acc[j][v] = acc[j][v] + bias;
        }
      }
      alignas(64) T tile[P][kGroup];
#pragma GCC unroll 8
      for (int j = 0; j < P; ++j)
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[j][v].store_aligned(&tile[j][v * kLanes]);
      const Index* dest_offsets = job.pixel_dest + p0;
      for (Index c = 0; c < job.channels; ++c) {
        T* dest = job.dest + c * job.dest_channel_stride;
        for (Index j = 0; j < valid; ++j) dest[dest_offsets[j]] = tile[j][c];
      }
    }
  }

  template <int V>
  static void weight_tiles(const WeightTileJob<T>& job) {
    constexpr int K = taps_for(V);
    constexpr Index kGroup = V * kLanes;
    for (Index t0 = 0; t0 < job.taps; t0 += K) {
      const Index valid = std::min<Index>(K, job.taps - t0);
      Index offset[K];
#pragma GCC unroll 8
      for (int k = 0; k < K; ++k) offset[k] = job.tap_offsets[t0 + std::min<Index>(k, valid - 1)];
      Vec acc[K][V];
      T* partial = job.partial + t0 * kGroup;
#pragma GCC unroll 8
      for (int k = 0; k < K; ++k)
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v)
          acc[k][v] = k < valid ? Vec::load_unaligned(partial + k * kGroup + v * kLanes) : Vec(T(0));
      const T* grad = job.output_grad;
      for (Index p = 0; p < job.pixels; ++p, grad += kLanes) {
        const T* source = job.source + job.pixel_source[p];
        Vec g[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) g[v] = Vec::load_unaligned(grad + v * job.vector_stride);
#pragma GCC unroll 8
        for (int k = 0; k < K; ++k) {
          const Vec x(source[offset[k]]);
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[k][v] = fma(g[v], x, acc[k][v]);
        }
      }
#pragma GCC unroll 8
      for (int k = 0; k < K; ++k) {
        if (k >= valid) break;
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[k][v].store_unaligned(partial + k * kGroup + v * kLanes);
      }
    }
  }

  static constexpr BlockedKernels<T> table() {
    return {{&tiles<1>, &tiles<2>, &tiles<3>, &tiles<4>},
            {pixels_for(1), pixels_for(2), pixels_for(3), pixels_for(4)},
            {&weight_tiles<1>, &weight_tiles<2>, &weight_tiles<3>, &weight_tiles<4>},
            {taps_for(1), taps_for(2), taps_for(3), taps_for(4)},
            kLanes,
            kMaxTileVectors};
  }
};

template <class Arch>
constexpr BlockedTable make_blocked_table() {
  return {Blocked<Arch, float>::table(), Blocked<Arch, double>::table()};
}

}  // namespace
}  // namespace convlab::simd
