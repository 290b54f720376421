// The xsimd kernels behind simd_kernels.hpp, written once for any xsimd arch. Included ONLY by the
// per-arch translation units (simd_kernels_<arch>.cpp), each compiled with exactly that arch's flags,
// so no other file instantiates arch code. Everything here has internal linkage for the same reason:
// no inline function compiled for one arch can be picked by the linker for another.
//
// Register blocking: the correlation keeps a block of Fb output channels x R output rows x J column
// vectors in accumulators (<= 24 on AVX-512's 32 registers, <= 12 on the 16 of AVX2/SSE2). Each
// input vector loaded for a tap feeds Fb FMAs and each broadcast weight feeds R*J, so loads stay well
// under the FMA rate (two 512-bit FMAs per cycle on Zen 5, one on Zen 4, whose two FMA pipes are 256
// bits wide). Every output keeps naive's tap order.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <immintrin.h>  // declares every x86 intrinsic; only the avx512f instantiation calls the AVX-512 ones
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "impls/simd/arch_fma.hpp"
#include "impls/simd/keep_in_register.hpp"
#include "impls/simd/simd_kernels.hpp"

namespace convlab::simd {
namespace {

template <class Arch, typename T>
struct Kernels {
  using Vec = xsimd::batch<T, Arch>;
  static constexpr Index kLanes = Index(Vec::size);
  static constexpr bool kWide = std::is_same_v<Arch, xsimd::avx512f>;
  static constexpr int kAccumulators = kWide ? 24 : 12;  // leaves registers for loads and broadcasts
  static constexpr int kMaxColumnVectors = 4;
  static constexpr int kMaxChannelBlock = int(kMaxCorrelateChannels);
  static constexpr int kGradChannels = kWide ? 4 : 2;    // weight gradient: out channels x taps block
  static constexpr int kGradTaps = kWide ? 5 : 4;

  // One rounding per term, as naive's contracted loop does (arch_fma.hpp).
  static Vec fma(const Vec& a, const Vec& b, const Vec& c) { return fused_multiply_add<Arch, T>(a, b, c); }

  static constexpr int max_channel_block(int vectors_per_channel) {
    return std::min(kMaxChannelBlock, kAccumulators / vectors_per_channel);
  }

  // ---------------------------------------------------------------- correlation (forward, dx)

  // Output rows [y, y+R), out channels [o0, o0+F), J column vectors: vector j starts at column + j*L, the last
  // at column + last (where a ragged row's last vector ends exactly at the edge). Each broadcast weight feeds
  // R*J FMAs and each loaded input vector F of them. One base pointer plus constant offsets addresses every
  // load and store: with a pointer per column vector the loop ran out of general registers and spilled. For the
  // same reason the weights come tap-major (block_weights), not as F rows a run-time stride apart, which took a
  // general register each.
  template <int R, int J, int F>
  static void correlate_block(const CorrelateJob<T>& job, const T* w, Index column, Index last, bool partial, Index o0,
                              Index y) {
    Vec acc[F][R][J];
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f)
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < J; ++j) acc[f][r][j] = Vec(T(0));
    const auto offset = [last](int j) __attribute__((always_inline)) { return j == J - 1 ? last : j * kLanes; };
    const Index channel_size = job.layout.channel_size();
    const Index row_step = job.row_stride * job.layout.pitch;
    const T* row = job.planes + y * row_step + column;
    const Index* tap_offsets = job.tap_offsets;
    const Index taps = job.kernel_taps;
    for (Index i = 0; i < job.layout.channels; ++i) {
      const T* channel = row + i * channel_size;
      for (Index t = 0; t < taps; ++t, w += F) {
        const T* tap = channel + tap_offsets[t];
        Vec x[R][J];
#pragma GCC unroll 2
        for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
          for (int j = 0; j < J; ++j) x[r][j] = Vec::load_unaligned(tap + r * row_step + offset(j));
#pragma GCC unroll 16
        for (int f = 0; f < F; ++f) {
          const Vec weight(w[f]);
#pragma GCC unroll 2
          for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
            for (int j = 0; j < J; ++j) acc[f][r][j] = fma(weight, x[r][j], acc[f][r][j]);
        }
      }
    }
    // Locals, not job's fields: the compiler cannot tell that the stores below leave `job` unchanged and
    // reloaded its fields after every store.
    const Index out_width = job.out_width;
    const Index out_plane = job.out_height * out_width;
    const T* const bias = job.bias;
    T* const output = job.output + o0 * out_plane + y * out_width + column;
    // One copy of the stores per kind, so that the usual one carries no per-vector test.
    const auto store_all = [&](auto kind) __attribute__((always_inline)) {
      constexpr int kStream = 0, kPartial = 1;
      T* plane = output;
#pragma GCC unroll 16
      for (int f = 0; f < F; ++f, plane += out_plane) {
        // Opaque to the optimiser: otherwise it computes all F*R*J store addresses before the first store
        // and spills them, a stack load per store.
        asm("" : "+r"(plane));
        const Vec bias_f(bias ? bias[o0 + f] : T(0));
#pragma GCC unroll 2
        for (int r = 0; r < R; ++r) {
          T* out = plane + r * out_width;
#pragma GCC unroll 4
          for (int j = 0; j < J; ++j) {
            const Vec value = bias ? acc[f][r][j] + bias_f : acc[f][r][j];
            T* const at = out + offset(j);
            if constexpr (decltype(kind)::value == kStream) {
              if (reinterpret_cast<std::uintptr_t>(at) % sizeof(Vec) == 0) stream_store(value, at);
              else value.store_unaligned(at);
            } else if constexpr (decltype(kind)::value == kPartial) {
              // A row narrower than one vector: only out_width lanes are ours to write.
              alignas(64) T lanes[kLanes];
              value.store_aligned(lanes);
              std::memcpy(at, lanes, std::size_t(out_width) * sizeof(T));
            } else {
              value.store_unaligned(at);
            }
          }
        }
      }
    };
    if constexpr (J == 1) {  // a partial row is one vector
      if (partial) return store_all(std::integral_constant<int, 1>{});
    }
    if (job.stream_stores) store_all(std::integral_constant<int, 0>{});
    else store_all(std::integral_constant<int, 2>{});
  }

  // A non-temporal store of one aligned vector (no read for ownership of a line that is only written).
  static void stream_store(const Vec& value, T* out) {
    if constexpr (kWide && std::is_same_v<T, float>) _mm512_stream_ps(out, value);
    else if constexpr (kWide) _mm512_stream_pd(out, value);
    else if constexpr (sizeof(Vec) == 32 && std::is_same_v<T, float>) _mm256_stream_ps(out, value);
    else if constexpr (sizeof(Vec) == 32) _mm256_stream_pd(out, value);
    else if constexpr (std::is_same_v<T, float>) _mm_stream_ps(out, value);
    else _mm_stream_pd(out, value);
  }

  // ---- AVX-512 "paired tails": a row whose width leaves a remainder of at most half a vector (the
  // lecture's 24 = 16 + 8) would waste the rest of its last vector. Instead the remainders of two rows
  // share one register, [row y's last L/2 columns | row y+1's], loaded and stored as two half vectors:
  // 24-wide rows then cost 3 FMAs per row pair and tap instead of 4 (no lane wasted).
  static constexpr bool kPairTails = std::is_same_v<Arch, xsimd::avx512f>;
  static constexpr Index kHalf = kLanes / 2;

  // Masked loads and stores (the high half is addressed L/2 elements early, which stays inside the row
  // since the tail starts at least L/2 columns in). Casts between 256- and 512-bit registers would do
  // too, but GCC 12 warns about undefined upper halves inside its own headers for those.
  static Vec load_pair(const T* low, const T* high) {
    if constexpr (std::is_same_v<T, float>) {
      return Vec(_mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(__mmask16(0x00FF), low), __mmask16(0xFF00), high - kHalf));
    } else {
      return Vec(_mm512_mask_loadu_pd(_mm512_maskz_loadu_pd(__mmask8(0x0F), low), __mmask8(0xF0), high - kHalf));
    }
  }
  static void store_pair(const Vec& value, T* low, T* high) {
    if constexpr (std::is_same_v<T, float>) {
      _mm512_mask_storeu_ps(low, __mmask16(0x00FF), value);
      _mm512_mask_storeu_ps(high - kHalf, __mmask16(0xFF00), value);
    } else {
      _mm512_mask_storeu_pd(low, __mmask8(0x0F), value);
      _mm512_mask_storeu_pd(high - kHalf, __mmask8(0xF0), value);
    }
  }

  // Writes a row pair that fills whole, aligned cache lines with non-temporal stores (no read for
  // ownership of lines that are only written: the output is the big memory stream of a forward pass).
  // In memory the pair is the half-vector sequence row y: full[0..J) halves, tail low; row y+1: full
  // halves, tail high; each 64-byte line is two consecutive halves, gathered with one two-source permute.
  template <int J>
  static void stream_row_pair(const Vec (&full)[2][J], const Vec& tail, T* out) {
    constexpr int kHalves = 2 * (2 * J + 1);
    __m512 registers[kHalves];
    int half[kHalves];
    int k = 0;
#pragma GCC unroll 2
    for (int r = 0; r < 2; ++r) {
#pragma GCC unroll 4
      for (int j = 0; j < J; ++j) {
        registers[k] = as_bits(full[r][j]), half[k++] = 0;
        registers[k] = as_bits(full[r][j]), half[k++] = 1;
      }
      registers[k] = as_bits(tail), half[k++] = r;
    }
#pragma GCC unroll 8
    for (int m = 0; m < kHalves / 2; ++m) {
      const __m512 a = registers[2 * m], b = registers[2 * m + 1];
      // Lanes 0..7 from half p of a, lanes 8..15 from half q of b (b's lanes are numbered 16..31).
      const int p = half[2 * m], q = half[2 * m + 1];
      const __m512i index = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                                             _mm512_setr_epi32(8 * p, 8 * p, 8 * p, 8 * p, 8 * p, 8 * p, 8 * p, 8 * p,
                                                               8 * q, 8 * q, 8 * q, 8 * q, 8 * q, 8 * q, 8 * q, 8 * q));
      const __m512 line = _mm512_permutex2var_ps(a, index, b);
      _mm512_stream_ps(reinterpret_cast<float*>(out + m * kLanes), line);
    }
  }
  static __m512 as_bits(const Vec& value) {
    if constexpr (std::is_same_v<T, float>) return value; else return _mm512_castpd_ps(value);
  }

  // Rows y and y+1, out channels [o0, o0+F): J full column vectors per row plus the paired tail
  // (columns [tail, tail + L/2) of both rows).
  template <int J, int F>
  static void correlate_pair_block(const CorrelateJob<T>& job, const T* w, const Index* columns, Index tail, Index o0,
                                   Index y) {
    Vec acc[F][2][J], tails[F];
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f) {
      tails[f] = Vec(T(0));
#pragma GCC unroll 2
      for (int r = 0; r < 2; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < J; ++j) acc[f][r][j] = Vec(T(0));
    }
    const Index channel_size = job.layout.channel_size();
    const Index row_step = job.row_stride * job.layout.pitch;
    const T* row = job.planes + y * row_step;
    for (Index i = 0; i < job.layout.channels; ++i) {
      const T* channel = row + i * channel_size;
      for (Index t = 0; t < job.kernel_taps; ++t, w += F) {
        const T* tap = channel + job.tap_offsets[t];
        Vec x[2][J];
#pragma GCC unroll 2
        for (int r = 0; r < 2; ++r)
#pragma GCC unroll 4
          for (int j = 0; j < J; ++j) x[r][j] = Vec::load_unaligned(tap + r * row_step + columns[j]);
        const Vec x_tail = load_pair(tap + tail, tap + row_step + tail);
#pragma GCC unroll 16
        for (int f = 0; f < F; ++f) {
          const Vec weight(w[f]);
#pragma GCC unroll 2
          for (int r = 0; r < 2; ++r)
#pragma GCC unroll 4
            for (int j = 0; j < J; ++j) acc[f][r][j] = fma(weight, x[r][j], acc[f][r][j]);
          tails[f] = fma(weight, x_tail, tails[f]);
        }
      }
    }
    const Index out_plane = job.out_height * job.out_width;
    const bool has_bias = job.bias != nullptr;
#pragma GCC unroll 16
    for (int f = 0; f < F; ++f) {
      const Vec bias(has_bias ? job.bias[o0 + f] : T(0));
      T* out = job.output + (o0 + f) * out_plane + y * job.out_width;
      if (job.stream_stores && reinterpret_cast<std::uintptr_t>(out) % 64 == 0 &&
          (2 * job.out_width) % kLanes == 0) {
        if (has_bias) {
          tails[f] += bias;
#pragma GCC unroll 2
          for (int r = 0; r < 2; ++r)
#pragma GCC unroll 4
            for (int j = 0; j < J; ++j) acc[f][r][j] += bias;
        }
        stream_row_pair<J>(acc[f], tails[f], out);
        continue;
      }
#pragma GCC unroll 2
      for (int r = 0; r < 2; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < J; ++j) {
          (has_bias ? acc[f][r][j] + bias : acc[f][r][j]).store_unaligned(out + r * job.out_width + columns[j]);
        }
      store_pair(has_bias ? tails[f] + bias : tails[f], out + tail, out + job.out_width + tail);
    }
  }

  static constexpr int kMaxPairColumns = 2;
  static constexpr int max_pair_channel_block(int full_vectors) {
    return std::min(kMaxChannelBlock, kAccumulators / (2 * full_vectors + 1));
  }
  using PairBlockFn = void (*)(const CorrelateJob<T>&, const T*, const Index*, Index, Index, Index);
  template <int J, int F>
  static constexpr PairBlockFn pair_entry() {
    if constexpr (kPairTails && F <= max_pair_channel_block(J)) return &correlate_pair_block<J, F>;
    else return nullptr;
  }
  template <int J, int... F>
  static constexpr std::array<PairBlockFn, sizeof...(F)> pair_row(std::integer_sequence<int, F...>) {
    return {pair_entry<J, F + 1>()...};
  }
  // kPairBlocks[J-1][F-1]
  static constexpr std::array<std::array<PairBlockFn, kMaxChannelBlock>, kMaxPairColumns> kPairBlocks = {
      pair_row<1>(std::make_integer_sequence<int, kMaxChannelBlock>()),
      pair_row<2>(std::make_integer_sequence<int, kMaxChannelBlock>())};

  // Two rows per block when a row block alone would leave each broadcast weight feeding <= 2 FMAs
  // (broadcasts, not FMAs, then limit AVX-512 on the lecture's 24-wide rows).
  static constexpr int rows_for(int column_vectors) { return column_vectors <= 2 ? 2 : 1; }

  using CorrelateBlockFn = void (*)(const CorrelateJob<T>&, const T*, Index, Index, bool, Index, Index);

  template <int R, int J, int F>
  static constexpr CorrelateBlockFn correlate_entry() {
    if constexpr (R * J * F <= kAccumulators) return &correlate_block<R, J, F>;
    else return nullptr;
  }
  template <int R, int J, int... F>
  static constexpr std::array<CorrelateBlockFn, sizeof...(F)> correlate_row(std::integer_sequence<int, F...>) {
    return {correlate_entry<R, J, F + 1>()...};
  }
  template <int R, int... J>
  static constexpr auto correlate_plane(std::integer_sequence<int, J...>) {
    return std::array<std::array<CorrelateBlockFn, kMaxChannelBlock>, sizeof...(J)>{
        correlate_row<R, J + 1>(std::make_integer_sequence<int, kMaxChannelBlock>())...};
  }
  // kCorrelateBlocks[R-1][J-1][F-1]
  static constexpr std::array<std::array<std::array<CorrelateBlockFn, kMaxChannelBlock>, kMaxColumnVectors>, 2>
      kCorrelateBlocks = {correlate_plane<1>(std::make_integer_sequence<int, kMaxColumnVectors>()),
                          correlate_plane<2>(std::make_integer_sequence<int, kMaxColumnVectors>())};

  // ---- Sliding rows (the input gradient of a layer with few input channels, e.g. the lecture's 1). With
  // one output channel per block, correlate_block loads a vector for every FMA. Here a block of R output
  // rows walks the plane rows it reads once each: a vector loaded from plane row p feeds every output row
  // r of the block whose tap row p - r exists, up to KH of them (5 on a 5x5 kernel instead of 1).
  // Order: plane rows bottom-up. Tap row p - r belongs to ky = KH-1-(p - r), so for every output the
  // rows arrive in increasing ky, and within a row kx increases: naive's order, as everywhere here.
  //
  // Unpadded (AVX-512 only): the plane is the output gradient itself, read with masked loads that zero
  // the padding lanes, and rows that fall in the padding are skipped. Preparing padded planes cost as
  // much as a third of the pass (it writes twice the output gradient's bytes per image). The skipped
  // terms are w * 0, which naive skips too (and whose +-0 cannot change a sum that starts at +0).
  static constexpr int kMaxSlideColumns = 2;
  static constexpr int kMaxSlideChannels = 2;  // more output channels: correlate_block reuses loads across them
  static constexpr int kMaxSlideKernel = 5;
  using Mask = std::conditional_t<std::is_same_v<T, float>, __mmask16, __mmask8>;

  static Vec load_masked(const T* address, Mask mask) {
    if constexpr (std::is_same_v<T, float>) return Vec(_mm512_maskz_loadu_ps(mask, address));
    else return Vec(_mm512_maskz_loadu_pd(mask, address));
  }

  // The block's J column vectors start at column 0 and (J = 2) at `last`; can_slide has checked that tap (ky, kx)
  // of the flipped kernel shifts by KH-1-kx columns. With both as compile-time offsets from one row address (and
  // the job's fields and masks read once into locals), the loop keeps no per-load address arithmetic: it had
  // reloaded the column starts, the shifts and the job's fields from memory inside the loop.
  template <int KH, int R, int J, bool Unpadded>
  static void slide_block(const CorrelateJob<T>& job, Index last, bool partial, Index o, Index y,
                          const Mask (&masks)[kMaxSlideColumns][kMaxSlideKernel]) {
    Vec acc[R][J];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int j = 0; j < J; ++j) acc[r][j] = Vec(T(0));
    constexpr int kw = KH;  // square kernels only (try_slide checks)
    const Index pitch = job.layout.pitch;
    const Index rows = job.layout.rows, channels = job.layout.channels, channel_size = job.layout.channel_size();
    const Index pad_top = Unpadded ? job.pad_top : 0, pad_left = Unpadded ? job.pad_left : 0;
    const Index weight_in_stride = job.weight_in_stride;
    Mask mask[J][KH];
#pragma GCC unroll 2
    for (int j = 0; j < J; ++j)
#pragma GCC unroll 8
      for (int kx = 0; kx < kw; ++kx) mask[j][kx] = masks[j][kx];
    const auto column = [last](int j) __attribute__((always_inline)) { return j == 0 ? Index(0) : last; };
    const T* weights = job.weights + o * job.weight_out_stride;
    for (Index i = 0; i < channels; ++i) {
      const T* channel = job.planes + i * channel_size;
      const T* w = weights + i * weight_in_stride;
#pragma GCC unroll 16
      for (int p = R + KH - 2; p >= 0; --p) {
        const Index row = y + p - pad_top;
        if (Unpadded && (row < 0 || row >= rows)) continue;
        // Unpadded, the first vector of a row may start left of it: the address is formed as an integer
        // (it can precede the buffer; the mask keeps every lane outside the row unread).
        const std::uintptr_t row_address =
            reinterpret_cast<std::uintptr_t>(channel) + std::uintptr_t(row * pitch - pad_left) * sizeof(T);
#pragma GCC unroll 8
        for (int kx = 0; kx < kw; ++kx) {
          Vec x[J];
#pragma GCC unroll 2
          for (int j = 0; j < J; ++j) {
            const T* address =
                reinterpret_cast<const T*>(row_address + std::uintptr_t(KH - 1 - kx + column(j)) * sizeof(T));
            if constexpr (Unpadded) x[j] = load_masked(address, mask[j][kx]);
            else x[j] = Vec::load_unaligned(address);
          }
#pragma GCC unroll 8
          for (int r = 0; r < R; ++r) {
            const int tap_row = p - r;
            if (tap_row < 0 || tap_row >= KH) continue;
            const Vec weight(w[(KH - 1 - tap_row) * kw + kx]);
#pragma GCC unroll 2
            for (int j = 0; j < J; ++j) acc[r][j] = fma(weight, x[j], acc[r][j]);
          }
        }
      }
    }
    const T bias = job.bias ? job.bias[o] : T(0);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      T* out = job.output + o * job.out_height * job.out_width + (y + r) * job.out_width;
#pragma GCC unroll 2
      for (int j = 0; j < J; ++j) {
        const Vec value = job.bias ? acc[r][j] + Vec(bias) : acc[r][j];
        if (partial) {
          alignas(64) T lanes[kLanes];
          value.store_aligned(lanes);
          std::memcpy(out + column(j), lanes, std::size_t(job.out_width) * sizeof(T));
        } else {
          value.store_unaligned(out + column(j));
        }
      }
    }
  }

  using SlideBlockFn = void (*)(const CorrelateJob<T>&, Index, bool, Index, Index,
                                const Mask (&)[kMaxSlideColumns][kMaxSlideKernel]);
  static constexpr int kSlideHeights = int(kSlideBlockHeights.size());
  static constexpr std::array<int, kSlideHeights> kSlideHeight = kSlideBlockHeights;
  template <int KH, int J, bool Unpadded, int... B>
  static constexpr std::array<SlideBlockFn, sizeof...(B)> slide_row(std::integer_sequence<int, B...>) {
    return {&slide_block<KH, kSlideHeight[B], J, Unpadded>...};
  }
  template <int KH, bool Unpadded, int... J>
  static constexpr auto slide_plane(std::integer_sequence<int, J...>) {
    return std::array<std::array<SlideBlockFn, kSlideHeights>, sizeof...(J)>{
        slide_row<KH, J + 1, Unpadded>(std::make_integer_sequence<int, kSlideHeights>())...};
  }
  // [3x3 / 5x5][J-1][log2 R]; the unpadded kernels exist only where masked loads do (AVX-512).
  template <bool Unpadded>
  static constexpr std::array<std::array<std::array<SlideBlockFn, kSlideHeights>, kMaxSlideColumns>, 2> slide_table() {
    return {slide_plane<3, Unpadded>(std::make_integer_sequence<int, kMaxSlideColumns>()),
            slide_plane<5, Unpadded>(std::make_integer_sequence<int, kMaxSlideColumns>())};
  }
  static constexpr auto kSlideBlocks = slide_table<false>();
  static constexpr auto kUnpaddedSlideBlocks = [] {
    if constexpr (kWide) return slide_table<true>();
    else return decltype(slide_table<false>()){};
  }();

  static bool can_slide(const CorrelateJob<T>& job, Index o_begin, Index o_end) {
    const Index kh = job.flipped_kernel_height;
    const Index width = job.out_width;
    const Index vectors = width < kLanes ? 1 : (width + kLanes - 1) / kLanes;
    if (!((kh == 3 || kh == 5) && job.kernel_taps == kh * kh && job.row_stride == 1 && job.layout.phases == 1 &&
          o_end - o_begin <= kMaxSlideChannels && vectors <= kMaxSlideColumns))
      return false;
    // slide_block's column shifts are compile-time: the flipped kernel's, tap (ky, kx) at kh-1-kx.
    for (Index kx = 0; kx < kh; ++kx)
      if (job.tap_offsets[(kh - 1) * kh + kx] != kh - 1 - kx) return false;
    return true;
  }

  static void slide(const CorrelateJob<T>& job, Index o_begin, Index o_end, Index y_begin, Index y_end) {
    const Index kh = job.flipped_kernel_height;
    const Index width = job.out_width;
    const bool partial = width < kLanes;
    const Index vectors = partial ? 1 : (width + kLanes - 1) / kLanes;
    Index columns[kMaxSlideColumns] = {};
    Mask masks[kMaxSlideColumns][kMaxSlideKernel] = {};
    for (Index j = 0; j < vectors; ++j) {
      columns[j] = partial ? 0 : std::min(j * kLanes, width - kLanes);
      if (!job.unpadded) continue;
      for (Index kx = 0; kx < kh; ++kx)
        for (Index l = 0; l < kLanes; ++l) {
          const Index column = columns[j] + job.tap_offsets[(kh - 1) * kh + kx] + l - job.pad_left;
          if (column >= 0 && column < job.layout.pitch) masks[j][kx] = Mask(masks[j][kx] | (Mask(1) << l));
        }
    }
    const auto& table = (job.unpadded ? kUnpaddedSlideBlocks : kSlideBlocks)[kh == 3 ? 0 : 1][vectors - 1];
    for (Index o = o_begin; o < o_end; ++o)
      for (Index y = y_begin; y < y_end;) {
        int height = kSlideHeights - 1;
        while (kSlideHeight[height] > y_end - y) --height;
        table[std::size_t(height)](job, columns[1], partial, o, y, masks);
        y += kSlideHeight[height];
      }
  }

  // The input gradient straight from the output gradient, no planes; false when this arch or shape
  // cannot (the caller then prepares planes and calls correlate).
  static bool correlate_unpadded(const CorrelateJob<T>& job, Index o_begin, Index o_end, Index y_begin, Index y_end) {
    if (!kWide || !can_slide(job, o_begin, o_end)) return false;
    slide(job, o_begin, o_end, y_begin, y_end);
    return true;
  }

  // Out channels [o0, o0 + F)'s weights tap-major, weight(o0 + f, i, t) at [(i*taps + t)*F + f]: in place where the
  // job's already are (one channel whose input channels follow each other), else copied to the workspace.
  static const T* block_weights(const CorrelateJob<T>& job, Index o0, Index channels) {
    const Index taps = job.kernel_taps;
    const T* first = job.weights + o0 * job.weight_out_stride;
    if (channels == 1 && job.weight_in_stride == taps) return first;
    for (Index i = 0; i < job.layout.channels; ++i) {
      T* out = job.weight_workspace + i * taps * channels;
      for (Index f = 0; f < channels; ++f) {  // reads each filter's taps in order
        const T* from = first + f * job.weight_out_stride + i * job.weight_in_stride;
        for (Index t = 0; t < taps; ++t) out[t * channels + f] = from[t];
      }
    }
    return job.weight_workspace;
  }

  static void correlate(const CorrelateJob<T>& job, Index o_begin, Index o_end, Index y_begin, Index y_end) {
    if (can_slide(job, o_begin, o_end)) return slide(job, o_begin, o_end, y_begin, y_end);
    const Index width = job.out_width;
    // Column vectors: full ones from the left; a ragged right edge is covered by one more vector ending
    // exactly at the edge (overlapping its neighbour, which gets the same values rewritten); a row
    // narrower than a vector is computed whole and stored partially.
    const bool partial = width < kLanes;
    const Index vectors = partial ? 1 : (width + kLanes - 1) / kLanes;
    const Index last_start = partial ? 0 : width - kLanes;
    const Index full_vectors = width / kLanes, remainder = width % kLanes;
    const bool pair_tails = kPairTails && full_vectors >= 1 && full_vectors <= kMaxPairColumns && remainder > 0 &&
                            remainder <= kHalf && y_end - y_begin >= 2;
    const Index groups = (vectors + kMaxColumnVectors - 1) / kMaxColumnVectors;
    const Index group_size = (vectors + groups - 1) / groups;
    const Index rows = pair_tails ? 2 : rows_for(int(group_size));
    const Index channel_limit =
        pair_tails ? max_pair_channel_block(int(full_vectors)) : max_channel_block(int(rows * group_size));
    const Index channel_count = o_end - o_begin;
    const Index channel_blocks = (channel_count + channel_limit - 1) / channel_limit;
    const Index channel_block = (channel_count + channel_blocks - 1) / channel_blocks;
    for (Index o0 = o_begin; o0 < o_end; o0 += channel_block) {
      const Index block_channels = std::min(channel_block, o_end - o0);
      const T* weights = block_weights(job, o0, block_channels);
      for (Index y = y_begin; y < y_end; y += rows) {
        const Index block_rows = std::min(rows, y_end - y);
        if (pair_tails && block_rows == 2) {
          Index columns[kMaxPairColumns];
          for (Index j = 0; j < full_vectors; ++j) columns[j] = j * kLanes;
          kPairBlocks[full_vectors - 1][block_channels - 1](job, weights, columns, width - kHalf, o0, y);
          continue;
        }
        for (Index v0 = 0; v0 < vectors; v0 += group_size) {
          const Index count = std::min(group_size, vectors - v0);
          const Index column = v0 * kLanes;
          const Index last = std::min((v0 + count - 1) * kLanes, last_start) - column;
          kCorrelateBlocks[block_rows - 1][count - 1][block_channels - 1](job, weights, column, last, partial, o0, y);
        }
      }
    }
    if (job.stream_stores) _mm_sfence();  // streaming stores visible before anyone reads
  }

  // ---------------------------------------------------------------- weight gradient

  // The (row, column vector) pairs of dy, row-major, are walked in bands [k0, k1): every block runs over one
  // band before the next band starts, so the band's dy (all out channels) and its input rows are read from
  // L1/L2 by each block instead of the whole image streaming from L3 once per (tap block, channel block).
  // Each accumulator still sums its pairs in increasing order: the same bits as one sweep per block.
  static constexpr Index kGradBandBytes = Index(32) << 10;

  // Out channels [o0, o0+A) x taps [t0, t0+B) of in channel i, accumulated over pairs [k0, k1). With Bias,
  // also those channels' bias sums (job.bias_lanes), from the dy vectors the block loads anyway: each lane adds
  // the pairs in the same increasing order as a pass of its own would.
  template <int A, int B, bool Bias>
  static void weight_grad_block(const WeightGradJob<T>& job, Index i, Index o0, Index t0, Index k0, Index k1) {
    const Index taps = job.kernel_taps;
    const Index in_channels = job.layout.channels;
    Vec acc[A][B], bias[A];
    auto lane_slot = [&](int a, int b) { return job.lanes + (((o0 + a) * in_channels + i) * taps + t0 + b) * kLanes; };
#pragma GCC unroll 4
    for (int a = 0; a < A; ++a) {
#pragma GCC unroll 8
      for (int b = 0; b < B; ++b) acc[a][b] = Vec::load_unaligned(lane_slot(a, b));
      if constexpr (Bias) bias[a] = Vec::load_unaligned(job.bias_lanes + (o0 + a) * kLanes);
    }
    const Index dy_plane = job.out_height * job.dy_pitch;
    const Index vectors = job.dy_pitch / kLanes;
    Index offsets[B];
#pragma GCC unroll 8
    for (int b = 0; b < B; ++b) offsets[b] = job.tap_offsets[t0 + b];
    const T* channel = job.planes + i * job.layout.channel_size();
    const Index y_last = (k1 - 1) / vectors;
    for (Index y = k0 / vectors; y <= y_last; ++y) {
      const T* x_row = channel + y * job.row_stride * job.layout.pitch;
      const T* dy_row = job.output_grad + o0 * dy_plane + y * job.dy_pitch;
      const Index v_end = std::min(vectors, k1 - y * vectors);
      for (Index v = std::max<Index>(0, k0 - y * vectors); v < v_end; ++v) {
        Vec dy[A], x[B];
#pragma GCC unroll 4
        for (int a = 0; a < A; ++a) {
          dy[a] = Vec::load_unaligned(dy_row + a * dy_plane + v * kLanes);
          if constexpr (Bias) bias[a] += dy[a];
        }
        // Each x vector is loaded once into a register: left to itself GCC folds the loads into the FMAs
        // for some block shapes (3 x 5), one load per FMA, and runs at about half speed (measured on Zen 4).
#pragma GCC unroll 8
        for (int b = 0; b < B; ++b) {
          x[b] = Vec::load_unaligned(x_row + offsets[b] + v * kLanes);
          if constexpr (A == 3) keep_in_register(x[b]);
        }
#pragma GCC unroll 4
        for (int a = 0; a < A; ++a)
#pragma GCC unroll 8
          for (int b = 0; b < B; ++b) acc[a][b] = fma(dy[a], x[b], acc[a][b]);
      }
    }
#pragma GCC unroll 4
    for (int a = 0; a < A; ++a) {
#pragma GCC unroll 8
      for (int b = 0; b < B; ++b) acc[a][b].store_unaligned(lane_slot(a, b));
      if constexpr (Bias) bias[a].store_unaligned(job.bias_lanes + (o0 + a) * kLanes);
    }
  }

  using WeightGradBlockFn = void (*)(const WeightGradJob<T>&, Index, Index, Index, Index, Index);
  template <bool Bias, int A, int... B>
  static constexpr std::array<WeightGradBlockFn, sizeof...(B)> weight_grad_row(std::integer_sequence<int, B...>) {
    return {&weight_grad_block<A, B + 1, Bias>...};
  }
  template <bool Bias, int... A>
  static constexpr auto weight_grad_table(std::integer_sequence<int, A...>) {
    return std::array<std::array<WeightGradBlockFn, kGradTaps>, sizeof...(A)>{
        weight_grad_row<Bias, A + 1>(std::make_integer_sequence<int, kGradTaps>())...};
  }
  // [with the bias sums][out channels - 1][taps - 1]
  static constexpr std::array<std::array<std::array<WeightGradBlockFn, kGradTaps>, kGradChannels>, 2> kWeightGradBlocks{
      weight_grad_table<false>(std::make_integer_sequence<int, kGradChannels>()),
      weight_grad_table<true>(std::make_integer_sequence<int, kGradChannels>())};

  static Index balanced_block(Index count, Index limit) {
    const Index blocks = (count + limit - 1) / limit;
    return (count + blocks - 1) / blocks;
  }

  static void weight_grad(const WeightGradJob<T>& job) {
    const Index tap_block = balanced_block(job.kernel_taps, kGradTaps);
    const Index channel_block = balanced_block(job.out_channels, kGradChannels);
    const Index pairs = job.out_height * (job.dy_pitch / kLanes);
    const Index band = std::max<Index>(1, kGradBandBytes / (job.out_channels * kLanes * Index(sizeof(T))));
    for (Index k0 = 0; k0 < pairs; k0 += band) {
      const Index k1 = std::min(pairs, k0 + band);
      for (Index i = 0; i < job.layout.channels; ++i)
        for (Index t0 = 0; t0 < job.kernel_taps; t0 += tap_block)
          for (Index o0 = 0; o0 < job.out_channels; o0 += channel_block) {
            const Index taps = std::min(tap_block, job.kernel_taps - t0);
            const Index channels = std::min(channel_block, job.out_channels - o0);
            // The bias sums ride along with the first tap block of the first in channel.
            const bool bias = job.bias_lanes != nullptr && i == 0 && t0 == 0;
            kWeightGradBlocks[bias][channels - 1][taps - 1](job, i, o0, t0, k0, k1);
          }
    }
  }

  // Lane 0 first, then 1, 2, ...: a fixed order (xsimd::hadd's tree is arch-specific, and GCC 12 warns
  // about the undefined upper halves inside its AVX-512 double version). Runs once per chunk: not hot.
  static void reduce_lanes(const T* lanes, Index count, T* out) {
    for (Index e = 0; e < count; ++e) {
      T sum = lanes[e * kLanes];
      for (Index l = 1; l < kLanes; ++l) sum += lanes[e * kLanes + l];
      out[e] = sum;
    }
  }

  static constexpr ArchKernels<T> table() {
    return {&correlate, &correlate_unpadded, &weight_grad, &reduce_lanes, kLanes};
  }
};

template <class Arch>
constexpr KernelTable make_kernel_table(simd::Arch arch, const char* build_flags) {
#ifdef __FMA__
  constexpr bool fused = true;
#else
  constexpr bool fused = false;
#endif
  return {arch, build_flags, fused, Kernels<Arch, float>::table(), Kernels<Arch, double>::table()};
}

}  // namespace
}  // namespace convlab::simd
