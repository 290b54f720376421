// The channel-blocked kernels of blocked_kernels.hpp, written once for any xsimd arch. Included ONLY by
// the per-arch translation units (blocked_kernels_<arch>.cpp), each compiled with that arch's flags
// alone; everything has internal linkage so no function built for one arch can stand in for another.
#pragma once

#include <algorithm>
#include <cstdint>
#include <immintrin.h>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "common/kernels/transpose_16x16.hpp"
#include "impls/simd/arch_fma.hpp"
#include "impls/simd/blocked_kernels.hpp"

namespace convlab::simd {
namespace {

template <class Arch, typename T>
struct Blocked {
  using Vec = xsimd::batch<T, Arch>;
  static constexpr Index kLanes = Index(Vec::size);
  static constexpr bool kWide = std::is_same_v<Arch, xsimd::avx512f>;

  // One rounding per term, as naive's contracted loop does (arch_fma.hpp).
  static Vec fma(const Vec& a, const Vec& b, const Vec& c) { return fused_multiply_add<Arch, T>(a, b, c); }

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

  // AVX-512 floats: a tile's pixels x 16 channels transposed in registers (unpack, shuffle, then 128-bit
  // block permutes) into 16 channel runs of up to 8 pixels, each stored with a masked store.
  static constexpr bool kTransposeStores = kWide && std::is_same_v<T, float>;

  // pixels[j] holds channels first + 0..15 of pixel j (j < 8; the ones past `valid` are ignored). Writes
  // channel first + i's run to dest + (first + i) * stride, for the channels below `channels`: pixel j at
  // dest[j] (kPixelStep 1) or dest[2 * j] (kPixelStep 2: a stride-2 phase of the input gradient, whose run
  // is spread over every other lane and written with those lanes' mask, the lanes between left alone).
  template <int kPixelStep = 1>
  static void store_channel_runs(const __m512 (&pixels)[8], T* dest, Index stride, Index first, Index channels,
                                 Index valid) {
    if constexpr (kTransposeStores) {
      // The zero-masking forms with every lane on: the plain ones start from _mm512_undefined_ps(), which
      // GCC 12 reports as an uninitialised read inside its own headers.
      constexpr __mmask16 kAll = 0xFFFF;
      // quads[4h + q] per block b: pixels 4h..4h+3 of channel 4b + q.
      __m512 quads[8];
      transpose_4x4_in_blocks(pixels, quads);
      const __mmask16 run = kPixelStep == 1 ? __mmask16((1u << valid) - 1u)
                                            : __mmask16(0x5555u & ((1u << (2 * valid - 1)) - 1u));
      const auto spread = [](__m512 values) __attribute__((always_inline)) {
        if constexpr (kPixelStep == 1)
          return values;
        else
          return _mm512_maskz_expand_ps(__mmask16(0x5555u), values);
      };
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        // Blocks (b0 of quads[q], b0 of quads[4+q], b1, b1): channel q's 8 pixels, then channel 4+q's.
        const __m512 low = _mm512_maskz_shuffle_f32x4(kAll, quads[q], quads[4 + q], 0x44);
        const __m512 high = _mm512_maskz_shuffle_f32x4(kAll, quads[q], quads[4 + q], 0xEE);
        const __m512 runs[2] = {_mm512_maskz_shuffle_f32x4(kAll, low, low, 0xD8), _mm512_maskz_shuffle_f32x4(kAll, high, high, 0xD8)};
#pragma GCC unroll 2
        for (int r = 0; r < 2; ++r) {
          // runs[r]: channel 8r + q in the low half, channel 8r + 4 + q in the high half.
          const Index c = first + 8 * r + q, c_high = c + 4;
          if (c < channels) _mm512_mask_storeu_ps(dest + c * stride, run, spread(runs[r]));
          if (c_high < channels)
            _mm512_mask_storeu_ps(dest + c_high * stride, run,
                                  spread(_mm512_maskz_shuffle_f32x4(kAll, runs[r], runs[r], 0xEE)));
        }
      }
    }
  }

  // A row-run tile of more than 8 pixels: pixels[j] holds channels first + 0..15 of pixel j (j < 16; the ones
  // past `valid` are ignored), one 16 x 16 transpose then one masked store per channel run of `valid` pixels,
  // against two transposes of 8 and twice the stores through the 8-pixel path above.
  static void store_channel_runs_16(__m512 (&pixels)[16], T* dest, Index stride, Index first, Index channels,
                                    Index valid) {
    if constexpr (kTransposeStores) {
      transpose_16x16_floats(pixels);
      const auto run = __mmask16((1u << valid) - 1u);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        if (first + i < channels) _mm512_mask_storeu_ps(dest + (first + i) * stride, run, pixels[i]);
    }
  }

  // Row tiles: 7 pixels (an output row of 7, or half of 14) for up to 3 vectors, offered where AVX-512's 32
  // registers hold 3 x 7 accumulators; 0 where not offered.
  static constexpr Index kRowTilePixels = kWide ? 7 : 0;
  static constexpr int kRowTileMaxVectors = 3;

  // Row-run tiles: W pixels of one output row, consecutive in dest and source_step apart in source, so every
  // pixel's source is one base plus a constant and W is not held back by general registers (one pointer per
  // pixel above). Offered for V <= 2 where AVX-512's 32 registers hold W x V accumulators; 0: none.
  static constexpr int wide_pixels_for(int vectors) {
    if constexpr (kWide) return vectors == 1 ? 24 : vectors == 2 ? 12 : 0;
    return 0;
  }

  template <int V, int P = pixels_for(V)>
  static void tiles(const TileJob<T>& job, Index begin, Index end) {
    constexpr int W = wide_pixels_for(V);
    if constexpr (W > 0 && P == pixels_for(V)) {
      if (job.wide_row_runs && job.row_pixels > 0 && (job.source_step == 1 || job.source_step == 2)) {
        for (Index p0 = begin; p0 < end;) {
          const Index row_left = job.row_pixels - (p0 - job.row_origin) % job.row_pixels;
          if (row_left >= W && end - p0 >= W) {
            if (column_edge(job, p0, W)) {
              tile<V, W, 1, kColumnSkip>(job, begin, p0, W, end);
            } else if (job.source_step == 1) {
              tile<V, W, 1>(job, begin, p0, W, end);
            } else {
              tile<V, W, 2>(job, begin, p0, W, end);
            }
            p0 += W;
          } else {
            // The row's last pixels (and the next row's first, as ordinary tiles run).
            const Index count = std::min<Index>(P, end - p0);
            ordinary_tile<V, P>(job, begin, p0, count, end);
            p0 += count;
          }
        }
        return;
      }
    }
    for (Index p0 = begin; p0 < end; p0 += P) ordinary_tile<V, P>(job, begin, p0, std::min<Index>(P, end - p0), end);
  }

  // Border columns are left out (TileJob::pixel_column_begin) by AVX-512 float tiles at stride 1, where layers pad
  // most (inception's 5x5 branches); window rows of up to kMaxSkipColumns columns. Each variant is one more copy
  // of a tile kernel to compile, so the other archs, doubles and strides keep to the plain tiles.
  static constexpr bool kColumnSkip = kWide && std::is_same_v<T, float>;
  static constexpr Index kMaxSkipColumns = 32;
  // Whether pixels [p0, p0 + count) lie in one output row and reach a border column.
  static bool column_edge(const TileJob<T>& job, Index p0, Index count) {
    if (!kColumnSkip || !job.pixel_column_begin || job.window_columns > kMaxSkipColumns || job.row_pixels <= 0 ||
        job.source_step != 1)
      return false;
    const Index last = p0 + count - 1;
    if ((p0 - job.row_origin) / job.row_pixels != (last - job.row_origin) / job.row_pixels) return false;
    return job.pixel_column_begin[p0] > 0 || job.pixel_column_end[p0] < job.window_columns ||
           job.pixel_column_begin[last] > 0 || job.pixel_column_end[last] < job.window_columns;
  }
  // A whole edge tile within a row is addressed from one base (one general register for its sources, where the
  // per-column choice needs a few of its own).
  template <int V, int P>
  static void ordinary_tile(const TileJob<T>& job, Index begin, Index p0, Index count, Index end) {
    if constexpr (kColumnSkip) {
      if (count == P && column_edge(job, p0, count)) {
        tile<V, P, 1, true>(job, begin, p0, count, end);
        return;
      }
    }
    tile<V, P, 0>(job, begin, p0, count, end);
  }

  // One tile: pixels [p0, p0 + valid) of the band [begin, end). kStep 0: each pixel its own source pointer;
  // kStep 1 or 2: a row run (valid == P), pixel j's source at the first one's + j * kStep. kSkipColumns: the tile
  // lies in one output row and reaches a border column (column_edge), whose terms it leaves out.
  template <int V, int P, int kStep, bool kSkipColumns = false>
  static void tile(const TileJob<T>& job, Index begin, Index p0, Index valid, Index end) {
    constexpr Index kGroup = V * kLanes;
    constexpr int kSourcePointers = kStep == 0 ? P : 1;
    const T* source[kSourcePointers];
    // A short last tile repeats its last pixel: computed, never stored.
    if constexpr (kStep == 0) {
#pragma GCC unroll 8
      for (int j = 0; j < P; ++j) source[j] = job.source + job.pixel_source[p0 + std::min<Index>(j, valid - 1)];
    } else {
      source[0] = job.source + job.pixel_source[p0];
    }
    // Each tap also prefetches its line for the tile after next: a tile's taps read one line per channel and
    // window row, far apart, which the hardware prefetchers do not follow when an image streams from memory.
    const T* ahead = job.source + job.pixel_source[std::min<Index>(p0 + 2 * P, end - 1)];
    Vec acc[P][V];
    T* partial = job.partial_sums ? job.partial_sums + (p0 - begin) * kGroup : nullptr;
    const bool resume = partial && !job.first_block;
#pragma GCC unroll 24
    for (int j = 0; j < P; ++j)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v)
        acc[j][v] = resume && j < valid ? Vec::load_unaligned(partial + j * kGroup + v * kLanes) : Vec(T(0));
    // Pixels [J0, J1) of one tap: each broadcast feeds V FMAs.
    const auto multiply = [&]<int J0, int J1>(const Vec (&weight)[V], Index offset) __attribute__((always_inline)) {
#pragma GCC unroll 24
      for (int j = J0; j < J1; ++j) {
        const Vec x(kStep == 0 ? source[j][offset] : source[0][offset + j * kStep]);
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[j][v] = fma(weight[v], x, acc[j][v]);
      }
    };
    // With kSkipColumns, per window column: 0 every pixel; 1..3 the first that many left out (they read the left
    // border); 4..6 the last 1..3. Up to kMaxEnd at either end; pixels past `valid` repeat the last one and count
    // as it.
    constexpr int kMaxEnd = P > 3 ? 3 : P - 1;
    unsigned char column_mode[kSkipColumns ? kMaxSkipColumns : 1] = {};
    if constexpr (kSkipColumns) {
      // Whether pixel j's window column kx reads the border (the forward pass: the first pixels' first columns
      // and the last pixels' last ones; the input gradient, whose window runs backwards: the other way round).
      const auto outside = [&](Index j, Index kx) {
        const Index p = p0 + std::min<Index>(j, valid - 1);
        return kx < job.pixel_column_begin[p] || kx >= job.pixel_column_end[p];
      };
      for (Index kx = 0; kx < job.window_columns; ++kx) {
        int lead = 0, trail = 0;
        while (lead < kMaxEnd && outside(lead, kx)) ++lead;
        while (trail < kMaxEnd && outside(P - 1 - trail, kx)) ++trail;
        column_mode[kx] = (lead > 0) == (trail > 0) ? 0 : lead > 0 ? lead : 3 + trail;
      }
    }
    // Taps [first, last) of the list (with kSkipColumns, first at a window row's first column): each loaded weight
    // vector feeds P FMAs.
    const auto run_taps = [&](Index first, Index last) __attribute__((always_inline)) {
      const T* w = job.packed_weights + first * kGroup;
      Index kx = 0;
      for (Index t = first; t < last; ++t, w += kGroup) {
        const Index offset = job.tap_offsets[t];
        __builtin_prefetch(ahead + offset);
        Vec weight[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) weight[v] = Vec::load_unaligned(w + v * kLanes);
        if constexpr (kSkipColumns) {
          const unsigned char mode = column_mode[kx];
          if (++kx == job.window_columns) kx = 0;
          if (mode == 0) {
            multiply.template operator()<0, P>(weight, offset);
            continue;
          }
          switch (mode) {
            case 1: multiply.template operator()<1, P>(weight, offset); break;
            case 2: if constexpr (kMaxEnd >= 2) multiply.template operator()<2, P>(weight, offset); break;
            case 3: if constexpr (kMaxEnd >= 3) multiply.template operator()<3, P>(weight, offset); break;
            case 4: multiply.template operator()<0, P - 1>(weight, offset); break;
            case 5: if constexpr (kMaxEnd >= 2) multiply.template operator()<0, P - 2>(weight, offset); break;
            case 6: if constexpr (kMaxEnd >= 3) multiply.template operator()<0, P - 3>(weight, offset); break;
          }
        } else {
          multiply.template operator()<0, P>(weight, offset);
        }
      }
    };
    Index row_begin = 0, row_end = 0;
    if (job.pixel_row_begin) {
      row_begin = job.pixel_row_begin[p0], row_end = job.pixel_row_end[p0];
      for (Index j = 1; j < valid; ++j) {
        row_begin = std::min(row_begin, job.pixel_row_begin[p0 + j]);
        row_end = std::max(row_end, job.pixel_row_end[p0 + j]);
      }
    }
    if (job.pixel_row_begin && (row_begin > 0 || row_end * job.window_columns < job.window_taps)) {
      const Index first = row_begin * job.window_columns, last = row_end * job.window_columns;
      for (Index run = 0; run < job.taps; run += job.window_taps) run_taps(run + first, run + last);
    } else {
      run_taps(0, job.taps);
    }
    if (partial && !job.last_block) {
#pragma GCC unroll 24
      for (int j = 0; j < P; ++j) {
        if (j >= valid) break;
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) acc[j][v].store_unaligned(partial + j * kGroup + v * kLanes);
      }
      return;
    }
    if (job.bias) {
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const Vec bias = Vec::load_unaligned(job.bias + v * kLanes);
#pragma GCC unroll 24
        for (int j = 0; j < P; ++j) acc[j][v] = acc[j][v] + bias;
      }
    }
    const Index* dest_offsets = job.pixel_dest + p0;
    if constexpr (kTransposeStores) {
      // Consecutive destination pixels (every forward tile, and the input gradient at stride 1): each
      // channel's pixels are short runs of up to 8, written from registers after an in-register transpose.
      // Pixels two apart (a tile within one row of a stride-2 phase of the input gradient): the same, spread.
      const Index span = dest_offsets[valid - 1] - dest_offsets[0];
      const bool consecutive = span == valid - 1;
      bool step_two = P <= 8 && !consecutive && span == 2 * (valid - 1);
      for (Index j = 1; step_two && j < valid; ++j) step_two = dest_offsets[j] - dest_offsets[j - 1] == 2;
      if (consecutive || step_two) {
        // Tiles of more than 8 pixels (consecutive ones: step_two needs P <= 8) store their first 16 pixels
        // through one 16 x 16 transpose.
        constexpr int kFirstSixteen = P > 8 ? 16 : 0;
        if constexpr (kFirstSixteen > 0) {
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) {
            __m512 pixels[16];
#pragma GCC unroll 16
            for (int j = 0; j < 16; ++j) pixels[j] = j < P ? __m512(acc[j][v]) : _mm512_setzero_ps();
            store_channel_runs_16(pixels, job.dest + dest_offsets[0], job.dest_channel_stride, v * kLanes,
                                  job.channels, std::min<Index>(16, valid));
          }
        }
#pragma GCC unroll 3
        for (int h = kFirstSixteen; h < P; h += 8) {
          if (h >= valid) break;
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) {
            __m512 pixels[8];
#pragma GCC unroll 8
            for (int j = 0; j < 8; ++j) pixels[j] = h + j < P ? __m512(acc[h + j][v]) : _mm512_setzero_ps();
            const Index run = std::min<Index>(8, valid - h);
            if (consecutive)
              store_channel_runs(pixels, job.dest + dest_offsets[0] + h, job.dest_channel_stride, v * kLanes,
                                 job.channels, run);
            else
              store_channel_runs<2>(pixels, job.dest + dest_offsets[0], job.dest_channel_stride, v * kLanes,
                                    job.channels, run);
          }
        }
        return;
      }
    }
    alignas(64) T tile[P][kGroup];
#pragma GCC unroll 24
    for (int j = 0; j < P; ++j)
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[j][v].store_aligned(&tile[j][v * kLanes]);
    for (Index c = 0; c < job.channels; ++c) {
      T* dest = job.dest + c * job.dest_channel_stride;
      for (Index j = 0; j < valid; ++j) dest[dest_offsets[j]] = tile[j][c];
    }
  }

  static constexpr Index kWeightGradPrefetchPixels = 32;
  template <int V>
  static void weight_tiles(const WeightTileJob<T>& job) {
    if (job.prefetch_source)
      weight_tiles_with<V, true>(job);
    else
      weight_tiles_with<V, false>(job);
  }
  template <int V, bool kPrefetch>
  static void weight_tiles_with(const WeightTileJob<T>& job) {
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
          acc[k][v] = k < valid && !job.start ? Vec::load_unaligned(partial + k * kGroup + v * kLanes) : Vec(T(0));
      const T* grad = job.output_grad;
      // With kPrefetch each pixel also prefetches one tap's line kWeightGradPrefetchPixels pixels ahead, the taps
      // in turn (a line serves several pixels, so every tap's stream stays covered).
      int prefetch_tap = 0;
      for (Index p = 0; p < job.pixels; ++p, grad += kLanes) {
        const T* source = job.source + job.pixel_source[p];
        if constexpr (kPrefetch) {
          __builtin_prefetch(job.source + job.pixel_source[std::min(p + kWeightGradPrefetchPixels, job.pixels - 1)] +
                             offset[prefetch_tap]);
          if (++prefetch_tap == K) prefetch_tap = 0;
        }
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

  // AVX-512 floats: 16 x 16 blocks transposed in registers (common/kernels/transpose_16x16.hpp), each row
  // prefetched kTransposePrefetch ahead (packed weights' rows lie megabytes apart), a block of 16 rows read to
  // its end before the next: 16 streams at a time, where taking all rows' next 16 columns together kept a whole
  // channel group's rows (48 or 64 for the weights) going at once, more streams than the prefetchers follow
  // (docs/runs/ab-20261207-zen4-transpose-row-blocks-outer); other archs and doubles: 16 x 16 blocks element by
  // element, both sides in L1.
  static void transpose(const T* source, Index source_stride, Index rows, Index cols, T* dest, Index dest_stride) {
    transpose_with<false>(source, source_stride, rows, cols, dest, dest_stride);
  }
  // The same, each whole aligned line of dest written with a non-temporal store (no read for ownership); the
  // caller fences (_mm_sfence) before other threads read dest.
  static void transpose_streaming(const T* source, Index source_stride, Index rows, Index cols, T* dest,
                                  Index dest_stride) {
    transpose_with<true>(source, source_stride, rows, cols, dest, dest_stride);
  }
  static constexpr Index kTransposePrefetch = 64;  // elements: four lines of floats
  template <bool kStream>
  static void transpose_with(const T* source, Index source_stride, Index rows, Index cols, T* dest,
                             Index dest_stride) {
    if constexpr (kTransposeStores) {
      for (Index r0 = 0; r0 < rows; r0 += 16)
        for (Index c0 = 0; c0 < cols; c0 += 16)
          transpose_float_block<kStream, kTransposePrefetch>(
              source + r0 * source_stride + c0, source_stride, std::min<Index>(16, rows - r0),
              std::min<Index>(16, cols - c0), dest + c0 * dest_stride + r0, dest_stride);
    } else {
      constexpr Index kTile = 16;
      for (Index r0 = 0; r0 < rows; r0 += kTile)
        for (Index c0 = 0; c0 < cols; c0 += kTile) {
          const Index r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
          for (Index c = c0; c < c1; ++c)
            for (Index r = r0; r < r1; ++r) dest[c * dest_stride + r] = source[r * source_stride + c];
        }
    }
  }

  using TileFn = void (*)(const TileJob<T>&, Index, Index);
  template <int V>
  static constexpr TileFn row_tile() {
    if constexpr (kRowTilePixels > 0) return &tiles<V, kRowTilePixels>; else return &tiles<V>;
  }

  static constexpr BlockedKernels<T> table() {
    return {{&tiles<1>, &tiles<2>, &tiles<3>, &tiles<4>},
            {pixels_for(1), pixels_for(2), pixels_for(3), pixels_for(4)},
            {row_tile<1>(), row_tile<2>(), row_tile<3>()},
            kRowTilePixels,
            kRowTileMaxVectors,
            {&weight_tiles<1>, &weight_tiles<2>, &weight_tiles<3>, &weight_tiles<4>},
            {taps_for(1), taps_for(2), taps_for(3), taps_for(4)},
            kLanes,
            kMaxTileVectors,
            &transpose,
            &transpose_streaming};
  }
};

template <class Arch>
constexpr BlockedTable make_blocked_table() {
  return {Blocked<Arch, float>::table(), Blocked<Arch, double>::table()};
}

}  // namespace
}  // namespace convlab::simd
