// Channel-blocked kernels: the second kernel family of impls/simd and impls/openmp (the first, in
// simd_kernels.hpp, vectorises along output columns). Here a vector holds L consecutive *channels* of one
// pixel, and a register tile is V channel vectors x P pixels:
//
//   acc[p][v] += w[tap][v] * broadcast(source[pixel_source[p] + tap_offsets[tap]])     for every tap
//
// Each pixel carries its own source offset, so neither the stride nor the end of a row costs anything:
// a tile may hold pixels 2 columns apart or span two rows, and every lane is a real channel whatever the
// image width. Each loaded weight vector feeds P FMAs and each broadcast V of them (V*P accumulators:
// 24 of AVX-512's 32 registers, 12 of AVX2's and SSE2's 16).
//
// The forward pass and the input gradient are one tile kernel over different tap lists (taps in naive's
// order: in channel, window row, window column for y; out channel, then the window taps of one stride
// phase for dx), so both sum every output exactly as naive does. The weight gradient is a second kernel
// whose tile is V out-channel vectors x T taps, summing over pixels.
#pragma once

#include "common/conv/conv_shape.hpp"
#include "impls/simd/simd_arch.hpp"

namespace convlab::simd {

inline constexpr int kMaxTileVectors = 4;

// One group of V channel vectors over pixels [begin, end) of a pixel list.
template <typename T>
struct TileJob {
  const T* source = nullptr;
  const Index* pixel_source = nullptr;  // per pixel: offset into source of its tap list's origin
  const Index* pixel_dest = nullptr;    // per pixel: offset into one dest channel
  const Index* tap_offsets = nullptr;   // added to a pixel's source offset, one per tap
  Index taps = 0;                       // 0 is allowed: the tile is zero (a stride phase no tap reaches)
  const T* packed_weights = nullptr;    // [tap][V*L], channels past `channels` zero
  const T* bias = nullptr;              // V*L values added after the taps, or null
  T* dest = nullptr;                    // channel c of pixel p: dest[c*dest_channel_stride + pixel_dest[p]]
  Index dest_channel_stride = 0;
  Index channels = 0;                   // channels of the group that exist (<= V*L); only those are stored
  // Reduction blocking: a long tap list runs as consecutive blocks whose weights stay in cache. Between
  // blocks the sums wait in `partial_sums` ([pixel - begin][V*L], exactly as held in registers, so the sum
  // of every output is the same chain of FMAs): a block that is not first starts from them, one that is not
  // last stores them there instead of to dest. Null: the whole tap list at once.
  T* partial_sums = nullptr;
  bool first_block = true, last_block = true;
  // Over a zero-bordered source (the forward pass's padded image; the input gradient's output gradient, phase
  // by phase): the taps come in runs of `window_taps` (one run per input channel, or per output channel, window
  // rows of `window_columns` taps each), and pixel p's window keeps rows [pixel_row_begin[p], pixel_row_end[p])
  // inside. A tile skips the window rows that read only the border for all of its pixels (the top and bottom
  // rows of the image), as naive's loops skip them. 0 / null: every tap.
  Index window_taps = 0, window_columns = 0;
  const Index* pixel_row_begin = nullptr;
  const Index* pixel_row_end = nullptr;
  // Likewise window columns [pixel_column_begin[p], pixel_column_end[p]) inside (null: none to leave out). A tile
  // within one row that reaches the left or right border leaves out, tap by tap, the pixels at that end whose
  // column reads the border (up to three of them), as naive skips those terms.
  const Index* pixel_column_begin = nullptr;
  const Index* pixel_column_end = nullptr;
  // The pixel list is row-major from row_origin, row_pixels to a row, and pixels next to each other in a row
  // read sources source_step apart: the kernel may run a row's pixels as wider tiles addressed from one base
  // (blocked_kernels_impl.hpp), and tells which tiles lie within one row. 0: pixels are taken P at a time.
  Index row_pixels = 0, source_step = 0;
  Index row_origin = 0;       // the pixel where the first row starts (a phase's first, in the input gradient)
  bool wide_row_runs = true;  // false: rows keep the ordinary tiles (the input gradient, where wider ones did not pay)
};

// Weight-gradient tile: partial[t][v*L + l] += sum over pixels p of
//   output_grad[v*vector_stride + p*L + l] * source[pixel_source[p] + tap_offsets[t]]
template <typename T>
struct WeightTileJob {
  const T* source = nullptr;
  const Index* pixel_source = nullptr;
  Index pixels = 0;
  const Index* tap_offsets = nullptr;
  Index taps = 0;                       // taps of this job; the kernel walks them T at a time
  const T* output_grad = nullptr;       // channel-blocked: [vector][pixel][L]
  Index vector_stride = 0;
  T* partial = nullptr;                 // [tap][V*L], accumulated into (or, with `start`, overwritten)
  bool start = false;                   // the sums start here: partial is not read (saves zeroing it first)
  // Prefetch each tap's image line a few pixels ahead: worth it where a tile's taps are that many separate
  // streams from beyond L2 (1x1 windows over a large image); elsewhere it only costs instructions.
  bool prefetch_source = false;
};

template <typename T>
struct BlockedKernels {
  // tiles[V - 1] runs V channel vectors; pixels_per_tile[V - 1] is its P.
  void (*tiles[kMaxTileVectors])(const TileJob<T>& job, Index begin, Index end);
  Index pixels_per_tile[kMaxTileVectors];
  // The same kernel with row_tile_pixels pixels per tile, for V <= row_tile_max_vectors (row_tiles[V - 1]);
  // row_tile_pixels 0: none. A plan takes them where tiles of that many pixels line up with the output rows
  // and so skip the padded window rows exactly (blocked_plan.cpp).
  void (*row_tiles[kMaxTileVectors - 1])(const TileJob<T>& job, Index begin, Index end);
  Index row_tile_pixels;
  int row_tile_max_vectors;
  void (*weight_tiles[kMaxTileVectors])(const WeightTileJob<T>& job);
  Index taps_per_tile[kMaxTileVectors];
  Index lanes;
  int max_vectors;  // the widest V worth using on this arch
  // dest[c * dest_stride + r] = source[r * source_stride + c] for r < rows, c < cols: packing weights into
  // channel vectors and unpacking the weight gradient (megabytes for a wide layer, every call).
  void (*transpose)(const T* source, Index source_stride, Index rows, Index cols, T* dest, Index dest_stride);
  // transpose with non-temporal stores of dest's whole aligned lines (where the arch has them; else the same).
  void (*transpose_streaming)(const T* source, Index source_stride, Index rows, Index cols, T* dest,
                              Index dest_stride);
};

struct BlockedTable {
  BlockedKernels<float> f32;
  BlockedKernels<double> f64;
  template <typename T>
  const BlockedKernels<T>& get() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32; else return f64;
  }
};

// Defined one per arch translation unit (blocked_kernels_<arch>.cpp).
const BlockedTable& blocked_table_sse2();
const BlockedTable& blocked_table_avx2();
const BlockedTable& blocked_table_avx512f();
const BlockedTable& blocked_table(Arch arch);

}  // namespace convlab::simd
