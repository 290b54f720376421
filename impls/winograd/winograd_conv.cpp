// Winograd F(2x2, 3x3) and F(4x4, 3x3) (see winograd_conv.hpp).
//
// Layouts (P = tiles per chunk, A = m + 2, xi = i * A + j a transform position):
//   U  [xi][f/8][c][f%8]  the transformed weights (alpha^2 matrices F x C, the products' left operand, packed
//                      in panels of 8 filters for gemm_packed_a; with few tiles, panels of 48 filters each
//                      [c][f], the right operand: see products_transposed)
//   V  [xi][c][t]      one chunk's transformed input patches (alpha^2 matrices C x P)
//   M  [xi][f][t]      their products U[xi] V[xi] (alpha^2 matrices F x P; with few tiles [xi][t][f])
// The transforms run over a vector of tiles (or of (f, c) pairs for the weights) at a time: each 1-D step
// below is a loop over that innermost index, which the compiler vectorises.
//
// Roundings (the error bound in tests/test_winograd.cpp counts them from the formulas below): every term
// of a 1-D transform's output passes through at most
//   F(2,3): B^T 1, G 2, A^T 2;   F(4,3): B^T 2, G 4 (two additions, the inexact constant 1/6 or 1/24 and the
//   product by it), A^T 3
// roundings; multiplications by 2, 4, 8, 1/2 and 1/4 are exact.
#include "impls/winograd/winograd_conv.hpp"
#include "impls/winograd/winograd_bound.hpp"
#include "impls/winograd/winograd_gather.hpp"
#include "impls/winograd/winograd_gradient_block.hpp"

#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "common/conv/conv_registry.hpp"
#include "common/kernels/bias_gradient.hpp"
#include "common/kernels/gemm.hpp"
#include "common/machine/parallel_for.hpp"

namespace convlab {

namespace {

// V and M of one chunk are sized to stay within about this many bytes (wider chunks amortise the reading of
// all of U, alpha^2 x F x C, once per chunk); but a call with enough tiles is cut into at least kMinChunks
// chunks of at least kMinSplitTiles tiles, so that both cores get work. The chunk size is a function of the
// shape alone (never of the thread count), so 1 and 2 threads give bitwise-identical results.
constexpr std::size_t kChunkBytes = std::size_t(8) << 20;
// Chunks are whole multiples of the gemm's 48-float (24-double) panels of columns: a narrower last panel
// runs a one-vector kernel at a fraction of the speed.
constexpr Index chunk_quantum(std::size_t element_size) { return Index(192 / element_size); }
constexpr Index kMaxChunkTiles = 240;
constexpr Index kMinChunks = 4, kMinSplitTiles = 48;
// Calls with fewer multiply-adds than this (in the products) run on the calling thread.
constexpr double kParallelMinFmas = double(1 << 20);
// Weight pairs (f, c) transformed per vectorised block.
constexpr Index kWeightBlock = 64;

// ---- The 1-D transforms: out[k * os + t] = sum_l X[k][l] in[l * is + t] for t < n. ----

template <int M>
struct Transforms;

template <>
struct Transforms<2> {
  // B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]: one rounding per term. X: one value or a vector of
  // tiles (the gather's fused path); the same operations either way.
  template <typename X>
  static inline __attribute__((always_inline)) void input_terms(const X (&d)[4], X (&o)[4]) {
    o[0] = d[0] - d[2];
    o[1] = d[1] + d[2];
    o[2] = d[2] - d[1];
    o[3] = d[1] - d[3];
  }
  template <typename T>
  static void input(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[4];
    T* o[4];
    for (int k = 0; k < 4; ++k) i[k] = in + k * is;
    for (int k = 0; k < 4; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T d[4] = {i[0][t], i[1][t], i[2][t], i[3][t]};
      T r[4];
      input_terms(d, r);
      for (int k = 0; k < 4; ++k) o[k][t] = r[k];
    }
  }
  // G = [[1,0,0],[.5,.5,.5],[.5,-.5,.5],[0,0,1]]: two roundings (the additions; halving is exact).
  template <typename T>
  static void weight(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[3];
    T* o[4];
    for (int k = 0; k < 3; ++k) i[k] = in + k * is;
    for (int k = 0; k < 4; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T g0 = i[0][t], g1 = i[1][t], g2 = i[2][t];
      const T s = g0 + g2;
      o[0][t] = g0;
      o[1][t] = (s + g1) * T(0.5);
      o[2][t] = (s - g1) * T(0.5);
      o[3][t] = g2;
    }
  }
  // A^T = [[1,1,1,0],[0,1,-1,-1]]: two roundings.
  template <typename T>
  static void output(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[4];
    T* o[2];
    for (int k = 0; k < 4; ++k) i[k] = in + k * is;
    for (int k = 0; k < 2; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T m0 = i[0][t], m1 = i[1][t], m2 = i[2][t], m3 = i[3][t];
      o[0][t] = (m0 + m1) + m2;
      o[1][t] = (m1 - m2) - m3;
    }
  }
  // The weight gradient's transforms are the transposes. A (alpha x m) = [[1,0],[1,1],[1,-1],[0,-1]]: one
  // rounding per term. X: one value or a vector of tiles (the gather's fused path).
  template <typename X>
  static inline __attribute__((always_inline)) void output_transposed_terms(const X (&y)[2], X (&o)[4]) {
    o[0] = y[0];
    o[1] = y[0] + y[1];
    o[2] = y[0] - y[1];
    o[3] = -y[1];
  }
  template <typename T>
  static void output_transposed(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[2];
    T* o[4];
    for (int k = 0; k < 2; ++k) i[k] = in + k * is;
    for (int k = 0; k < 4; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T y[2] = {i[0][t], i[1][t]};
      T r[4];
      output_transposed_terms(y, r);
      for (int k = 0; k < 4; ++k) o[k][t] = r[k];
    }
  }
  // G^T (3 x alpha) = [[1,.5,.5,0],[0,.5,-.5,0],[0,.5,.5,1]]: two roundings (halving is exact).
  template <typename T>
  static void weight_transposed(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[4];
    T* o[3];
    for (int k = 0; k < 4; ++k) i[k] = in + k * is;
    for (int k = 0; k < 3; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T u0 = i[0][t], u1 = i[1][t], u2 = i[2][t], u3 = i[3][t];
      const T h = (u1 + u2) * T(0.5);
      o[0][t] = u0 + h;
      o[1][t] = (u1 - u2) * T(0.5);
      o[2][t] = h + u3;
    }
  }
};

template <>
struct Transforms<4> {
  // B^T (interpolation points 0, 1, -1, 2, -2, infinity; Lavin & Gray):
  //   [[4, 0,-5, 0, 1, 0], [0,-4,-4, 1, 1, 0], [0, 4,-4,-1, 1, 0],
  //    [0,-2,-1, 2, 1, 0], [0, 2,-1,-2, 1, 0], [0, 4, 0,-5, 0, 1]]
  // each row as (a +- b) + k (c +- d), k = 2 or 4: two roundings per term (the factors 2 and 4 are exact; a -5
  // is split into -1 and -4, terms of one sign). X: one value or a vector of tiles (the gather's fused path);
  // the same operations either way.
  template <typename X>
  static inline __attribute__((always_inline)) void input_terms(const X (&d)[6], X (&o)[6]) {
    const X d42 = d[4] - d[2], d31 = d[3] - d[1];
    o[0] = d42 + 4.0f * (d[0] - d[2]);
    o[1] = (d[3] + d[4]) - 4.0f * (d[1] + d[2]);
    o[2] = (d[4] - d[3]) + 4.0f * (d[1] - d[2]);
    o[3] = d42 + 2.0f * d31;
    o[4] = d42 - 2.0f * d31;
    o[5] = (d[5] - d[3]) + 4.0f * (d[1] - d[3]);
  }
  template <typename T>
  static void input(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[6];
    T* o[6];
    for (int k = 0; k < 6; ++k) i[k] = in + k * is;
    for (int k = 0; k < 6; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T d[6] = {i[0][t], i[1][t], i[2][t], i[3][t], i[4][t], i[5][t]};
      T r[6];
      input_terms(d, r);
      for (int k = 0; k < 6; ++k) o[k][t] = r[k];
    }
  }
  // G = [[1/4, 0, 0], [-1/6,-1/6,-1/6], [-1/6, 1/6,-1/6], [1/24, 1/12, 1/6], [1/24,-1/12, 1/6], [0, 0, 1]]:
  // rows 1-4 as (two additions) * constant: four roundings (two additions, the constant's own rounding to
  // the type, the product).
  template <typename T>
  static void weight(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T sixth = T(-1) / T(6), twentyfourth = T(1) / T(24);
    const T* i[3];
    T* o[6];
    for (int k = 0; k < 3; ++k) i[k] = in + k * is;
    for (int k = 0; k < 6; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T g0 = i[0][t], g1 = i[1][t], g2 = i[2][t];
      const T s = g0 + g2, q = g0 + T(4) * g2;
      o[0][t] = g0 * T(0.25);
      o[1][t] = (s + g1) * sixth;
      o[2][t] = (s - g1) * sixth;
      o[3][t] = (q + T(2) * g1) * twentyfourth;
      o[4][t] = (q - T(2) * g1) * twentyfourth;
      o[5][t] = g2;
    }
  }
  // A^T = [[1, 1, 1, 1, 1, 0], [0, 1,-1, 2,-2, 0], [0, 1, 1, 4, 4, 0], [0, 1,-1, 8,-8, 1]]: three roundings.
  template <typename T>
  static void output(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[6];
    T* o[4];
    for (int k = 0; k < 6; ++k) i[k] = in + k * is;
    for (int k = 0; k < 4; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T m0 = i[0][t], m1 = i[1][t], m2 = i[2][t], m3 = i[3][t], m4 = i[4][t],
              m5 = i[5][t];
      const T a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
      o[0][t] = (m0 + a) + c;
      o[1][t] = b + T(2) * d;
      o[2][t] = a + T(4) * c;
      o[3][t] = (b + T(8) * d) + m5;
    }
  }
  // A (alpha x m), columns 1, -1, 2, -2 raised to the powers 0..3, and the points 0 and infinity:
  // [[1,0,0,0],[1,1,1,1],[1,-1,1,-1],[1,2,4,8],[1,-2,4,-8],[0,0,0,1]]: two roundings per term (the factors 2
  // and 4 are exact). X: one value or a vector of tiles (the gather's fused path).
  template <typename X>
  static inline __attribute__((always_inline)) void output_transposed_terms(const X (&y)[4], X (&o)[6]) {
    const X even = y[0] + y[2], odd = y[1] + y[3], even4 = y[0] + 4.0f * y[2], odd4 = y[1] + 4.0f * y[3];
    o[0] = y[0];
    o[1] = even + odd;
    o[2] = even - odd;
    o[3] = even4 + 2.0f * odd4;
    o[4] = even4 - 2.0f * odd4;
    o[5] = y[3];
  }
  template <typename T>
  static void output_transposed(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T* i[4];
    T* o[6];
    for (int k = 0; k < 4; ++k) i[k] = in + k * is;
    for (int k = 0; k < 6; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T y[4] = {i[0][t], i[1][t], i[2][t], i[3][t]};
      T r[6];
      output_transposed_terms(y, r);
      for (int k = 0; k < 6; ++k) o[k][t] = r[k];
    }
  }
  // G^T (3 x alpha) = [[1/4,-1/6,-1/6,1/24,1/24,0],[0,-1/6,1/6,1/12,-1/12,0],[0,-1/6,-1/6,1/6,1/6,1]]: at most
  // five roundings per term (an addition, the constant's rounding, the product, two more additions).
  template <typename T>
  static void weight_transposed(const T* __restrict in, Index is, T* __restrict out, Index os, Index n) {
    const T sixth = T(1) / T(6), twelfth = T(1) / T(12), twentyfourth = T(1) / T(24);
    const T* i[6];
    T* o[3];
    for (int k = 0; k < 6; ++k) i[k] = in + k * is;
    for (int k = 0; k < 3; ++k) o[k] = out + k * os;
#pragma GCC ivdep
    for (Index t = 0; t < n; ++t) {
      const T u0 = i[0][t], u1 = i[1][t], u2 = i[2][t], u3 = i[3][t], u4 = i[4][t], u5 = i[5][t];
      const T s12 = u1 + u2, d12 = u1 - u2, s34 = u3 + u4, d34 = u3 - u4;
      o[0][t] = u0 * T(0.25) + (s34 * twentyfourth - s12 * sixth);
      o[1][t] = d34 * twelfth - d12 * sixth;
      o[2][t] = (s34 - s12) * sixth + u5;
    }
  }
};

// The busiest thread's tiles when `threads` threads take chunks of `width` tiles in order, each chunk going to
// the thread that is free first (a dynamic schedule, chunks of equal cost per tile). Counted for at most
// kMaxCountedThreads threads: more than this machine kind will have.
constexpr int kMaxCountedThreads = 64;
inline Index busiest_load(Index tiles, Index width, int threads) {
  Index load[kMaxCountedThreads] = {};
  const int counted = std::clamp(threads, 1, kMaxCountedThreads);
  for (Index first = 0; first < tiles; first += width) *std::min_element(load, load + counted) += std::min(width, tiles - first);
  return *std::max_element(load, load + counted);
}

// The tiling of one (forward-direction) call.
struct Geometry {
  Index batch, channels, filters, in_h, in_w, pad_h, pad_w, out_h, out_w;
  Index tiles_h, tiles_w, tiles;  // tiles over the whole batch
  Index chunk_tiles, chunks;

  // `split`: cut a call with enough tiles into at least kMinChunks chunks, for threads that run whole chunks
  // (the forward direction); the weight gradient shares each chunk's stages instead and wants its chunks wide.
  Geometry(const ConvShape& s, int m, std::size_t element_size, bool split = true) {
    batch = s.batch;
    channels = s.in_channels;
    filters = s.out_channels;
    in_h = s.in_height;
    in_w = s.in_width;
    pad_h = s.pad_height;
    pad_w = s.pad_width;
    out_h = s.out_height();
    out_w = s.out_width();
    tiles_h = (out_h + m - 1) / m;
    tiles_w = (out_w + m - 1) / m;
    tiles = batch * tiles_h * tiles_w;
    const Index alpha2 = Index(m + 2) * (m + 2);
    const Index fit = Index(kChunkBytes / (std::size_t(alpha2 * (channels + filters)) * element_size));
    const Index quantum = chunk_quantum(element_size);
    const Index widest = std::clamp<Index>(fit / quantum * quantum, quantum, kMaxChunkTiles);
    const Index wanted = std::max((tiles + widest - 1) / widest, split ? std::min(kMinChunks, tiles / kMinSplitTiles) : 0);
    const Index even = (tiles + std::max<Index>(wanted, 1) - 1) / std::max<Index>(wanted, 1);
    chunk_tiles = std::min(widest, (even + quantum - 1) / quantum * quantum);
    chunks = (tiles + chunk_tiles - 1) / chunk_tiles;
    // Rounding up to whole panels can leave chunks that two threads share badly (784 tiles in 240, 240, 240
    // and 64: one thread 480, the other 304). Where the call is already cut in several chunks, narrower
    // chunks (whole panels still) that give two threads a lower busiest load are taken, the widest of equals.
    // Two threads because this machine kind has two cores; the cut stays a function of the shape alone.
    if (split && chunks >= 2) {
      Index best = busiest_load(tiles, chunk_tiles, 2);
      for (Index width = chunk_tiles - quantum; width >= 2 * quantum; width -= quantum) {
        const Index load = busiest_load(tiles, width, 2);
        if (load < best) {
          best = load;
          chunk_tiles = width;
        }
      }
      chunks = (tiles + chunk_tiles - 1) / chunk_tiles;
    }
  }

  Index scratch_elements(int m) const {
    const Index alpha2 = Index(m + 2) * (m + 2);
    return alpha2 * chunk_tiles * (2 + channels + filters);
  }
  double fmas(int m) const {
    return double(tiles) * double((m + 2) * (m + 2)) * double(channels) * double(filters);
  }
};

// Products with the tiles of a whole call in one vector (a 7x7 or 14x14 image at small batches) are run
// transposed, M^T[xi] (P x F) = V[xi]^T U[xi]^T, vectors along the filters: the gemm's one-vector kernel would
// feed 8 multiply-adds with 8 broadcasts of U and one load of V, and U (alpha^2 x F x C, megabytes) is read once
// per call either way. Transposed, 3 vector loads of U and 8 broadcasts of V feed 24 multiply-adds; U is stored in
// panels of product_panel filters (the gemm's 3-vector panel), each [c][f], so that every panel is read as one
// contiguous stream (rows F apart would start a new page every few rows, out of the prefetchers' reach).
// A function of the shape alone: 1 and 2 threads take the same path. Each product is summed over c in the same
// order as the plain orientation's (gemm_packed_a): one chain of multiply-adds per element and depth block.
template <typename T>
constexpr Index product_panel() { return chunk_quantum(sizeof(T)); }
template <typename T>
bool products_transposed(const Geometry& g) {
  constexpr Index lanes = 64 / Index(sizeof(T));
  return g.tiles <= lanes && g.filters >= lanes;
}

// The threads a call of `g` at `tile` uses out of `available`: one below kParallelMinFmas.
int threads_for(const Geometry& g, int tile, int available) { return g.fmas(tile) < kParallelMinFmas ? 1 : available; }

// Chunks that share out badly among the threads (a 28x28 image at batch 1 is one chunk) are run by all threads
// together, each over its part of the filters; otherwise each thread runs whole chunks. "Badly": handed out in
// order to whichever thread is free first, the busiest thread would get over half as many tiles again as an
// exact share. Sharing a chunk costs an input transform per thread (and, when the chunks were shared stage by
// stage, three synchronisations and half of V and of the products moved between the cores): it measured slower
// than whole chunks where the busiest thread had a fifth more than its share, and no faster at a tenth more
// (docs/performance.md).
bool chunks_shared(const Geometry& g, int threads) {
  if (threads <= 1) return false;
  return 2 * busiest_load(g.tiles, g.chunk_tiles, threads) > 3 * ((g.tiles + threads - 1) / threads);
}

// U[xi] at (fo, co) = (G g G^T)[xi] for the outputs' filters fo < Fo and channels co < Co, g the 3x3 window
//   forward:        w[fo][co][ky][kx]
//   input gradient: w[co][fo][2-ky][2-kx]   (w is then Co x Fo x 3 x 3: in/out channels swapped, flipped)
// With `transposed`, each U[xi] is instead cut into panels of product_panel filters, each panel stored [co][fo]
// (the layout of products_transposed's calls); its blocks are then a vector of filters by a few channels.
// Otherwise U[xi] is packed for gemm_packed_a (gemm_packed_a_offset; the last panel's rows past Fo are never
// read). A U
// larger than kStreamedWeightBytes (floats, AVX-512) is written a whole line at a time past the caches: it
// would not stay in L3 for the products anyway, and each line would first be read for ownership (the transform
// wrote at a fraction of the machine's write bandwidth; docs/performance.md). A smaller U is written the plain
// way and the products find it in the caches.
// Elements from one U[xi] to the next: F x C (F rounded up to whole packed panels) rounded up to whole 64-byte
// lines (keeps those lines aligned).
constexpr std::size_t kStreamedWeightBytes = std::size_t(12) << 20;
inline Index u_plane(Index F, Index C) { return (gemm_packed_a_elements(F, C) + 15) / 16 * 16; }

template <typename T, int M>
void transform_weights(const T* w, Index Fo, Index Co, bool flip, bool transposed, T* U) {
  constexpr Index A = M + 2, W = product_panel<T>(), S = std::max(kWeightBlock, W * 2);
  // Blocks of one panel of filters by a few channels, pair q = channel * panel + filter, so that each U[xi] gets
  // the block's panel rows in one run: panels of W filters by two channels (transposed), or of kGemmPackedRows
  // filters by kWeightBlock / kGemmPackedRows channels (packed).
  const Index panel = transposed ? W : kGemmPackedRows;
  const Index block_channels = transposed ? 2 : kWeightBlock / kGemmPackedRows;
  const Index pairs = Fo * Co, plane = u_plane(Fo, Co);
  const Index channel_blocks = (Co + block_channels - 1) / block_channels;
  const Index blocks = (Fo + panel - 1) / panel * channel_blocks;
  const int threads = pairs >= 4096 ? available_threads() : 1;
  const bool stream = transposed && std::size_t(A * A * plane) * sizeof(T) > kStreamedWeightBytes;
  const auto transform_block = [&](Index block) {
    T g[9 * S];        // [k][q]
    T half[A * 3 * S];  // [i][kx][q]
    T out[A * A * S];   // [i][j][q]
    // Filters [f0, f0 + fn) and channels [c0, c0 + cn); pairs outside the layer are zeros (so a packed panel's
    // rows past Fo are too).
    const Index f0 = block / channel_blocks * panel, c0 = block % channel_blocks * block_channels;
    const Index fn = std::min(panel, Fo - f0), cn = std::min(block_channels, Co - c0);
    const Index n = panel * block_channels;
    for (Index c = 0; c < block_channels; ++c) {
      for (Index f = 0; f < panel; ++f) {
        const Index fo = f0 + f, co = c0 + c, q = c * panel + f;
        const bool inside = fo < Fo && co < Co;
        for (Index k = 0; k < 9; ++k) {
          g[k * S + q] = !inside ? T(0) : flip ? w[(co * Fo + fo) * 9 + (8 - k)] : w[(fo * Co + co) * 9 + k];
        }
      }
    }
    // Columns: G applied to g[.][kx]; then rows: G applied to half[i][.].
    for (Index kx = 0; kx < 3; ++kx) Transforms<M>::weight(g + kx * S, 3 * S, half + kx * S, 3 * S, n);
    for (Index i = 0; i < A; ++i) Transforms<M>::weight(half + i * 3 * S, S, out + i * A * S, S, n);
    // The panel's rows c0 .. c0 + cn - 1 follow each other in U[xi], each `width` long: a transposed panel's
    // filters (the last panel narrower), a packed panel's kGemmPackedRows always.
    const Index width = transposed ? fn : panel;
    T* first = U + f0 * Co + c0 * width;
    for (Index xi = 0; xi < A * A; ++xi) {
      T* to = first + xi * plane;
      const T* from = out + xi * S;
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        if (stream && fn == W && (reinterpret_cast<std::uintptr_t>(to) & 63) == 0) {
          for (Index v = 0; v < cn * W; v += 16) _mm512_stream_ps(to + v, _mm512_loadu_ps(from + v));
          continue;
        }
      }
#endif
      if (width == panel) {
        std::copy_n(from, cn * panel, to);  // whole rows: one run
      } else {
        for (Index c = 0; c < cn; ++c) std::copy_n(from + c * panel, width, to + c * width);
      }
    }
  };
  // Each thread a contiguous share of the blocks; its streaming stores fenced before any thread reads U.
  parallel_for(threads, threads, Schedule::even, [&](Index part, Index) {
    for (Index block = blocks * part / threads; block < blocks * (part + 1) / threads; ++block) transform_block(block);
#if defined(__AVX512F__)
    if (stream) _mm_sfence();
#endif
  });
}

// Asks for `count` floats from `row` into L2, a line at a time. The transforms read one image plane (a channel of
// the input, a filter of the output gradient) after another, a few rows per run of tiles: streams too short and
// too scattered for the hardware prefetchers, so the gathers' loads waited on memory (docs/performance.md has
// the profile). Each row read prefetches the same row of the next plane: it is needed one
// plane's transform later, a few microseconds. A prefetch never faults, past the last plane included (the
// address is computed as an integer, not as a pointer beyond its array).
template <typename T>
inline void prefetch_next_plane_row(const T* row, Index plane, Index count) {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(row) + std::uintptr_t(plane) * sizeof(T);
  const std::uintptr_t bytes = std::uintptr_t(count) * sizeof(T);
  for (std::uintptr_t b = 0; b < bytes; b += 64) __builtin_prefetch(reinterpret_cast<const void*>(first + b), 0, 2);
  __builtin_prefetch(reinterpret_cast<const void*>(first + bytes - 1), 0, 2);
}

// prefetch_next_plane_row for at most 32 floats, without a loop: their first, middle and last bytes' lines. The
// fused gathers ask per group of tiles for the columns that group reads: whole rows asked for before a run's
// first group queued ahead of the loads that needed their lines at once (docs/performance.md).
inline void prefetch_next_plane_span(const float* row, Index plane, Index count) {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(row) + std::uintptr_t(plane) * sizeof(float);
  const std::uintptr_t last = first + std::uintptr_t(count) * sizeof(float) - 1;
  __builtin_prefetch(reinterpret_cast<const void*>(first), 0, 2);
  __builtin_prefetch(reinterpret_cast<const void*>((first + last) / 2), 0, 2);
  __builtin_prefetch(reinterpret_cast<const void*>(last), 0, 2);
}

// The tiles of a chunk as runs along one row of tiles of one image: tiles [t, t + count) of the chunk start at
// output row oy and columns ox, ox + M, ... of image n.
struct Run {
  Index t, count, n, oy, ox;
};

// Fills runs (room for kMaxChunkTiles) for the chunk's nt tiles from tile t0; returns how many.
inline Index chunk_runs(const Geometry& g, int M, Index t0, Index nt, Run* runs) {
  Index run_count = 0;
  const Index per_image = g.tiles_h * g.tiles_w;
  for (Index t = 0; t < nt;) {
    const Index tile = t0 + t, rest = tile % per_image, tx = rest % g.tiles_w;
    const Index count = std::min(nt - t, g.tiles_w - tx);
    runs[run_count++] = {t, count, tile / per_image, (rest / g.tiles_w) * M, tx * M};
    t += count;
  }
  return run_count;
}

#if defined(__AVX512F__)
// temp[i][b][t] = sum_a B^T[i][a] d[a][b] for channel c of the chunk's tiles t, the patches d transformed along
// their columns as they are gathered (floats, AVX-512): a group of tiles' A rows of taps are loaded once (zeros
// for the padding, by the loads' masks), and each column b is picked out of them by a permute and transformed
// in registers. The patches never pass through memory, and edge tiles need no tap-by-tap path. The same terms
// in the same order as gather_then_transform_columns (the other types' path): the same bits.
template <int M>
void gather_transform_columns(const Geometry& g, const Run* runs, Index run_count, Index c, const float* input,
                              float* temp) {
  constexpr int A = M + 2;
  constexpr Index kGroup = winograd_gather::group_tiles<M, A>();
  const Index P = g.chunk_tiles, plane = g.in_h * g.in_w;
  for (Index k = 0; k < run_count; ++k) {
    const Run& run = runs[k];
    const float* src = input + (run.n * g.channels + c) * plane;
    for (Index j0 = 0; j0 < run.count; j0 += kGroup) {
      const Index n = std::min(kGroup, run.count - j0), x = run.ox - g.pad_w + j0 * M, span = (n - 1) * M + A;
      // The columns of the span inside the row: the same ones of the next plane are prefetched.
      const Index inside_first = std::max<Index>(x, 0), inside_last = std::min(x + span, g.in_w);
      __m512 low[A], high[A];
#pragma GCC unroll 6
      for (int a = 0; a < A; ++a) {
        const Index iy = run.oy - g.pad_h + a;
        if (iy < 0 || iy >= g.in_h) {
          low[a] = high[a] = _mm512_setzero_ps();
        } else {
          const float* row = src + iy * g.in_w;
          if (inside_last > inside_first) prefetch_next_plane_span(row + inside_first, plane, inside_last - inside_first);
          winograd_gather::load_span(row, g.in_w, x, span, low[a], high[a]);
        }
      }
      const auto store = __mmask16((1u << n) - 1u);
      float* dst = temp + run.t + j0;
#pragma GCC unroll 6
      for (int b = 0; b < A; ++b) {
        __m512 d[A], o[A];
#pragma GCC unroll 6
        for (int a = 0; a < A; ++a) d[a] = winograd_gather::tap<M>(low[a], high[a], b);
        Transforms<M>::input_terms(d, o);
#pragma GCC unroll 6
        for (int i = 0; i < A; ++i) _mm512_mask_storeu_ps(dst + (i * A + b) * P, store, o[i]);
      }
    }
  }
}
#endif

// temp[i][b][t] = sum_a B^T[i][a] d[a][b] for channel c of the chunk's tiles t: the patches d gathered into
// `patches` (alpha^2 x P scratch), then transformed along their columns.
template <typename T, int M>
void gather_then_transform_columns(const Geometry& g, const Run* runs, Index run_count, Index c, const T* input,
                                   T* patches, T* temp, Index nt) {
  constexpr Index A = M + 2;
  const Index P = g.chunk_tiles, C = g.channels;
  const Index plane = g.in_h * g.in_w;
  // The patches d[a][b][t]: zeros beyond the image (the padding, and past a partial edge tile). Along a run,
  // d[a][b] of consecutive tiles are M columns apart in one input row.
  for (Index k = 0; k < run_count; ++k) {
    const Run& run = runs[k];
    const T* src = input + (run.n * C + c) * plane;
    for (Index a = 0; a < A; ++a) {
      const Index iy = run.oy - g.pad_h + a;
      T* dst = patches + a * A * P + run.t;
      if (iy < 0 || iy >= g.in_h) {
        for (Index b = 0; b < A; ++b) std::fill_n(dst + b * P, run.count, T(0));
        continue;
      }
      const T* row = src + iy * g.in_w;
      prefetch_next_plane_row(row, plane, g.in_w);
      // Tiles [inner_first, inner_last) have all A taps inside the row.
      const Index x0 = run.ox - g.pad_w;
      const Index inner_first = x0 >= 0 ? 0 : std::min(run.count, (-x0 + M - 1) / M);
      const Index inner_last =
          g.in_w - A - x0 < 0 ? inner_first : std::clamp<Index>((g.in_w - A - x0) / M + 1, inner_first, run.count);
      if (inner_last > inner_first) {
        // Tiles whose A taps all lie inside the row (taps of neighbouring tiles overlap by A - M columns).
        winograd_gather::gather<M, M + 2>(row + x0 + inner_first * M, dst + inner_first, P, inner_last - inner_first);
      }
      // The edge tiles (reaching into the padding or past the row's end), tap by tap.
      const auto edge = [&](Index j) {
        for (Index b = 0; b < A; ++b) {
          const Index ix = x0 + j * M + b;
          dst[b * P + j] = ix >= 0 && ix < g.in_w ? row[ix] : T(0);
        }
      };
      for (Index j = 0; j < inner_first; ++j) edge(j);
      for (Index j = inner_last; j < run.count; ++j) edge(j);
    }
  }
  for (Index b = 0; b < A; ++b) Transforms<M>::input(patches + b * P, A * P, temp + b * P, A * P, nt);
}

// V[xi][c][t] = (B^T d B)[xi] for channel c of the chunk's tiles (patches, temp: alpha^2 x P scratch each):
// along the patches' columns, then along their rows.
template <typename T, int M>
void transform_input_channel(const Geometry& g, const Run* runs, Index run_count, Index c, const T* input,
                             T* patches, T* temp, T* V, Index nt) {
  constexpr Index A = M + 2;
  const Index P = g.chunk_tiles, C = g.channels;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    gather_transform_columns<M>(g, runs, run_count, c, input, temp);
  } else
#endif
  {
    gather_then_transform_columns<T, M>(g, runs, run_count, c, input, patches, temp, nt);
  }
  for (Index i = 0; i < A; ++i) Transforms<M>::input(temp + i * A * P, P, V + (i * A * C + c) * P, C * P, nt);
}

// One chunk of tiles [t0, t0 + nt) in three stages: input transform per channel, alpha^2 products, output
// transform (and bias) per filter. V and Mx hold the chunk's transformed inputs and products; each stage's
// items are independent, so a chunk can be run by one thread (run_chunk) or by all of them, each over its part
// of the filters (run_chunk_by_filter_parts), with the same arithmetic on every value: the same bits either way
// (the gemm computes each row of a product the same way whichever rows it is given).
template <typename T, int M>
struct ChunkStages {
  static constexpr Index A = M + 2, A2 = A * A;
  const Geometry& g;
  const T* input;
  const T* U;
  const T* bias;
  T* output;
  T* V;   // [xi][c][t]
  T* Mx;  // [xi][f][t], or [xi][t][f] with transposed products
  bool transposed = false;
  Index nt = 0, run_count = 0;
  Run runs[kMaxChunkTiles];

  ChunkStages(const Geometry& geometry, Index chunk, const T* in, const T* u, const T* b, T* out, T* v, T* mx)
      : g(geometry), input(in), U(u), bias(b), output(out), V(v), Mx(mx) {
    const Index t0 = chunk * g.chunk_tiles;
    nt = std::min(g.chunk_tiles, g.tiles - t0);
    run_count = chunk_runs(g, M, t0, nt, runs);
    transposed = products_transposed<T>(g);
  }
  // work: 2 x alpha^2 x P scratch of the calling thread.
  void input_channel(Index c, T* work) const {
    const Index P = g.chunk_tiles;
    transform_input_channel<T, M>(g, runs, run_count, c, input, work, work + A2 * P, V, nt);
  }
  // Filters [f0, f1) of transform position xi.
  void product(Index xi, Index f0, Index f1) const {
    const Index P = g.chunk_tiles, C = g.channels, F = g.filters;
    if (transposed) {
      constexpr Index W = product_panel<T>();
      for (Index p0 = f0; p0 < f1; p0 += W) {
        const Index width = std::min(W, F - p0);
        gemm(Transpose::Yes, Transpose::No, nt, width, C, T(1), V + xi * C * P, P, U + xi * u_plane(F, C) + p0 * C, width,
             T(0), Mx + xi * P * F + p0, F, 1);
      }
      return;
    }
    assert(f0 % kGemmPackedRows == 0);
    gemm_packed_a(f1 - f0, nt, C, U + xi * u_plane(F, C) + f0 * C, V + xi * C * P, P, Mx + (xi * F + f0) * P, P);
  }
  // Filters [f0, f1) of every tile from transposed products (Mx[xi][t][f]): Y = A^T M A over a block of P filters
  // at a time, the same operations as output_filter with the vectors along the filters instead of the tiles.
  void output_filters_transposed(Index f0, Index f1, T* work) const {
    const Index P = g.chunk_tiles, F = g.filters, out_plane = g.out_h * g.out_w;
    for (Index fb = f0; fb < f1; fb += P) {
      const Index nf = std::min(P, f1 - fb);
      T* temp = work;          // [r][j][f]
      T* y = work + M * A * P;  // [r][s][f]
      for (Index k = 0; k < run_count; ++k) {
        const Run& run = runs[k];
        const Index rows = std::min<Index>(M, g.out_h - run.oy);
        for (Index j = 0; j < run.count; ++j) {
          const T* m = Mx + (run.t + j) * F + fb;  // m[xi * P * F + f]
          for (Index c = 0; c < A; ++c) Transforms<M>::output(m + c * P * F, A * P * F, temp + c * nf, A * nf, nf);
          for (Index r = 0; r < M; ++r) Transforms<M>::output(temp + r * A * nf, nf, y + r * M * nf, nf, nf);
          const Index ox = run.ox + j * M, cols = std::min<Index>(M, g.out_w - ox);
          T* dst = output + (run.n * F + fb) * out_plane + run.oy * g.out_w + ox;
          for (Index r = 0; r < rows; ++r) {
            for (Index s = 0; s < cols; ++s) {
              const T* value = y + (r * M + s) * nf;
              T* out = dst + r * g.out_w + s;
              if (bias) {
                for (Index f = 0; f < nf; ++f) out[f * out_plane] = value[f] + bias[fb + f];
              } else {
                for (Index f = 0; f < nf; ++f) out[f * out_plane] = value[f];
              }
            }
          }
        }
      }
    }
  }
  void output_filter(Index f, T* work) const {
    const Index P = g.chunk_tiles, F = g.filters;
    T* y = work;             // Y [r][s][t]
    T* temp = work + A2 * P;  // [r][j][t]
    // Y = A^T M A: columns, then rows.
    for (Index j = 0; j < A; ++j) Transforms<M>::output(Mx + (j * F + f) * P, A * F * P, temp + j * P, A * P, nt);
    for (Index r = 0; r < M; ++r) Transforms<M>::output(temp + r * A * P, P, y + r * M * P, P, nt);
    // Only the valid outputs of a run: rows below out_h, columns below out_w.
    const Index out_plane = g.out_h * g.out_w;
    for (Index k = 0; k < run_count; ++k) {
      const Run& run = runs[k];
      T* dst = output + (run.n * F + f) * out_plane;
      const Index rows = std::min<Index>(M, g.out_h - run.oy);
      const Index width = std::min(run.count * M, g.out_w - run.ox);  // outputs along the run
      for (Index r = 0; r < rows; ++r) {
        T* out = dst + (run.oy + r) * g.out_w + run.ox;
        const T* row = y + r * M * P + run.t;  // row[s * P + j]: tile j, column s
        const Index whole = width / M;
        winograd_gather::join<M>(row, P, out, whole, bias ? bias + f : nullptr);  // whole output tiles
        for (Index x = whole * M; x < width; ++x) {
          const T value = row[(x % M) * P + x / M];
          out[x] = bias ? value + bias[f] : value;
        }
      }
    }
  }
};

// Where a thread's scratch (Geometry::scratch_elements) keeps its stage work space, V and Mx.
template <typename T>
struct ChunkScratch {
  T *work, *V, *Mx;
  ChunkScratch(const Geometry& g, int m, T* scratch) {
    const Index A2 = Index(m + 2) * (m + 2), P = g.chunk_tiles;
    work = scratch;
    V = work + 2 * A2 * P;
    Mx = V + A2 * g.channels * P;
  }
};

// Filters [f0, f1) of one chunk on the calling thread: the chunk's whole input transformed into the thread's own
// V, then those filters' products and output transforms.
template <typename T, int M>
void run_chunk_filters(const Geometry& g, Index chunk, const T* input, const T* U, const T* bias, T* output,
                       T* scratch, Index f0, Index f1) {
  const ChunkScratch<T> own(g, M, scratch);
  const ChunkStages<T, M> stages(g, chunk, input, U, bias, output, own.V, own.Mx);
  for (Index c = 0; c < g.channels; ++c) stages.input_channel(c, own.work);
  for (Index xi = 0; xi < stages.A2; ++xi) stages.product(xi, f0, f1);
  if (stages.transposed) {
    stages.output_filters_transposed(f0, f1, own.work);
    return;
  }
  for (Index f = f0; f < f1; ++f) stages.output_filter(f, own.work);
}

template <typename T, int M>
void run_chunk(const Geometry& g, Index chunk, const T* input, const T* U, const T* bias, T* output, T* scratch) {
  run_chunk_filters<T, M>(g, chunk, input, U, bias, output, scratch, 0, g.filters);
}

// A chunk run by `threads` threads together, each over its own part of the filters: every thread transforms the
// chunk's whole input into a V of its own, then multiplies and untransforms its filters only. No thread waits
// for another or reads what another wrote, at the price of the input transform done once per thread.
template <typename T, int M>
void run_chunk_by_filter_parts(const Geometry& g, Index chunk, const T* input, const T* U, const T* bias, T* output,
                               std::vector<AlignedBuffer<T>>& scratch, int threads) {
  // Products take whole panels of filters (packed U: kGemmPackedRows; transposed: product_panel).
  const Index unit = products_transposed<T>(g) ? product_panel<T>() : kGemmPackedRows;
  const Index units = (g.filters + unit - 1) / unit;
  parallel_for(threads, threads, Schedule::even, [&](Index part, Index thread) {
    run_chunk_filters<T, M>(g, chunk, input, U, bias, output, scratch[std::size_t(thread)].data(),
                            std::min(g.filters, unit * (units * part / threads)),
                            std::min(g.filters, unit * (units * (part + 1) / threads)));
  });
}

// The weight gradient. The forward pass is y_tile = A^T [U . V] A with U = G g G^T and V = B^T d B; so
// dL/dU = (A dy_tile A^T) . V per tile, summed over every tile of the batch, and dL/dg = G^T (dL/dU) G:
//   dU[xi] (F x C) = sum over chunks of  D[xi] (F x P) * V[xi]^T (P x C),   D = A dy A^T per tile and filter,
// one product per transform position xi, accumulated chunk after chunk in chunk order (whichever thread runs
// a position, its sums are the same: 1 and 2 threads give the same bits); then G^T dU G per (f, c). With enough
// tiles, dU is the sum of two parts' dU, each accumulated over its own half of the tiles (see
// gradient_tile_parts).

#if defined(__AVX512F__)
// temp[r][k][t] = sum_q dy[r][q] A^T[q][k] for filter f of the chunk's tiles t, each tile's rows of dy
// transformed as they are gathered (floats, AVX-512): a group of tiles' row r is loaded once (zeros past the
// output's edge, by the loads' masks), its M columns picked out by permutes and transformed in registers. The
// same terms in the same order as gather_then_transform_gradient_rows (the other types' path): the same bits.
template <int M>
void gather_transform_gradient_rows(const Geometry& g, const Run* runs, Index run_count, Index f,
                                    const float* output_grad, float* temp) {
  constexpr int A = M + 2;
  constexpr Index kGroup = winograd_gather::group_tiles<M, M>();
  const Index P = g.chunk_tiles, out_plane = g.out_h * g.out_w;
  for (Index k = 0; k < run_count; ++k) {
    const Run& run = runs[k];
    const float* src = output_grad + (run.n * g.filters + f) * out_plane;
    for (Index j0 = 0; j0 < run.count; j0 += kGroup) {
      const Index n = std::min(kGroup, run.count - j0), x = run.ox + j0 * M, span = n * M;
      const Index inside = std::min(x + span, g.out_w) - x;  // columns of the span inside the row (x < out_w)
      const auto store = __mmask16((1u << n) - 1u);
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r) {
        const Index oy = run.oy + r;
        __m512 low = _mm512_setzero_ps(), high = _mm512_setzero_ps();
        if (oy < g.out_h) {
          const float* row = src + oy * g.out_w;
          prefetch_next_plane_span(row + x, out_plane, inside);
          winograd_gather::load_span(row, g.out_w, x, span, low, high);
        }
        __m512 d[M], o[A];
#pragma GCC unroll 4
        for (int q = 0; q < M; ++q) d[q] = winograd_gather::tap<M>(low, high, q);
        Transforms<M>::output_transposed_terms(d, o);
        float* dst = temp + r * A * P + run.t + j0;
#pragma GCC unroll 6
        for (int i = 0; i < A; ++i) _mm512_mask_storeu_ps(dst + i * P, store, o[i]);
      }
    }
  }
}
#endif

// temp[r][k][t] = sum_q dy[r][q] A^T[q][k] for filter f of the chunk's tiles t: the tiles of dy gathered into
// `tiles` (m x m x P scratch; zeros beyond the output), then transformed along their rows.
template <typename T, int M>
void gather_then_transform_gradient_rows(const Geometry& g, const Run* runs, Index run_count, Index f,
                                         const T* output_grad, T* tiles, T* temp, Index nt) {
  constexpr Index A = M + 2;
  const Index P = g.chunk_tiles, F = g.filters;
  const Index out_plane = g.out_h * g.out_w;
  for (Index k = 0; k < run_count; ++k) {
    const Run& run = runs[k];
    const T* src = output_grad + (run.n * F + f) * out_plane;
    for (Index r = 0; r < M; ++r) {
      const Index oy = run.oy + r;
      T* dst = tiles + r * M * P + run.t;  // [r][q][t]
      if (oy >= g.out_h) {
        for (Index q = 0; q < M; ++q) std::fill_n(dst + q * P, run.count, T(0));
        continue;
      }
      const T* row = src + oy * g.out_w;
      prefetch_next_plane_row(row, out_plane, g.out_w);
      // Tiles [0, whole) lie inside the row; the last may reach past its end.
      const Index whole = std::min(run.count, (g.out_w - run.ox) / M);
      winograd_gather::gather<M, M>(row + run.ox, dst, P, whole);
      for (Index q = 0; q < M; ++q) {
        for (Index j = whole; j < run.count; ++j) {
          const Index ox = run.ox + j * M + q;
          dst[q * P + j] = ox < g.out_w ? row[ox] : T(0);
        }
      }
    }
  }
  for (Index r = 0; r < M; ++r) Transforms<M>::output_transposed(tiles + r * M * P, P, temp + r * A * P, P, nt);
}

// D[xi][row][t] = (A dy A^T)[xi] for filter f of the chunk's tiles, D of `rows` rows per position (the
// filters, or a block of them); dy beyond the output counts as zero. Along the columns q for each row r, then
// along the rows.
template <typename T, int M>
void transform_output_gradient(const Geometry& g, const Run* runs, Index run_count, Index f, const T* output_grad,
                               T* tiles, T* temp, T* D, Index row, Index rows, Index nt) {
  constexpr Index A = M + 2;
  const Index P = g.chunk_tiles;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    gather_transform_gradient_rows<M>(g, runs, run_count, f, output_grad, temp);
  } else
#endif
  {
    gather_then_transform_gradient_rows<T, M>(g, runs, run_count, f, output_grad, tiles, temp, nt);
  }
  for (Index k = 0; k < A; ++k) {
    Transforms<M>::output_transposed(temp + k * P, A * P, D + (k * rows + row) * P, A * rows * P, nt);
  }
}

// out[k * kWeightBlock + q] = (G^T dU G)[k] for n <= kWeightBlock pairs q, dU[xi] of pair q at
// rows[xi * row_stride + q]. G^T along i for each j (into half [ky][j][q]), then along j for each ky.
template <typename T, int M>
void untransform_pairs(const T* rows, Index row_stride, Index n, T* half, T* out) {
  constexpr Index A = M + 2;
  for (Index j = 0; j < A; ++j) {
    Transforms<M>::weight_transposed(rows + j * row_stride, A * row_stride, half + j * kWeightBlock,
                                     A * kWeightBlock, n);
  }
  for (Index ky = 0; ky < 3; ++ky) {
    Transforms<M>::weight_transposed(half + ky * A * kWeightBlock, kWeightBlock, out + ky * 3 * kWeightBlock,
                                     kWeightBlock, n);
  }
}

// dw[q][ky][kx] = out[(3 ky + kx) * kWeightBlock + q] for n consecutive pairs q (untransform_pairs' layout).
template <typename T>
void store_pairs(const T* out, Index n, T* dw) {
  for (Index q = 0; q < n; ++q)
    for (Index k = 0; k < 9; ++k) dw[q * 9 + k] = out[k * kWeightBlock + q];
}

// dw[f][c] = G^T dU[f][c] G for every (f, c) pair, dU the sum of `parts` partial sums `part_stride` apart
// (added in part order).
template <typename T, int M>
void untransform_weight_gradient(const T* dU, Index parts, Index part_stride, Index F, Index C, T* weight_grad,
                                 int threads) {
  constexpr Index A = M + 2;
  const Index pairs = F * C;
  const Index blocks = (pairs + kWeightBlock - 1) / kWeightBlock;
  parallel_for(blocks, pairs >= 4096 ? threads : 1, Schedule::even, [&](Index block, Index) {
    T u[A * A * kWeightBlock];     // [i][j][q]
    T half[3 * A * kWeightBlock];  // [ky][j][q]
    T out[9 * kWeightBlock];       // [ky][kx][q]
    const Index q0 = block * kWeightBlock, n = std::min(kWeightBlock, pairs - q0);
    // The block's dU[xi][q] (the parts' sum, in part order): read in place where there is one part.
    const T* rows = dU + q0;
    Index row_stride = pairs;
    if (parts > 1) {
      for (Index xi = 0; xi < A * A; ++xi) {
        T* sum = u + xi * kWeightBlock;
        std::copy_n(dU + xi * pairs + q0, n, sum);
        for (Index part = 1; part < parts; ++part) {
          const T* more = dU + part * part_stride + xi * pairs + q0;
          for (Index q = 0; q < n; ++q) sum[q] += more[q];
        }
      }
      rows = u;
      row_stride = kWeightBlock;
    }
    untransform_pairs<T, M>(rows, row_stride, n, half, out);
    store_pairs(out, n, weight_grad + q0 * 9);
  });
}

// The fused products (winograd_gradient_block.hpp): where a chunk's tiles fit one pass, the weight gradient goes
// from D and V straight to dw one block of filters x channels at a time, each block's dU in L1/L2 instead of one
// alpha^2 x F x C dU in L3. A block's packed channels (alpha^2 x tiles x its lanes) are kept within
// kPackedChannelBytes, so that they stay in L2 while every filter block of the channels reads them. Where D is
// made block by block (fused_weight_gradient_making_d), every channel block is packed at once, within
// kPackedGroupBytes (this pair measured best against 512 KiB or 1 MiB for both: docs/performance.md).
constexpr Index kPackedChannelBytes = Index(512) << 10, kPackedGroupBytes = Index(1024) << 10;
#if defined(__AVX512F__)
constexpr Index kLanes = winograd_gradient::kLanes;

// Vectors of channels per block for `width` channels over nt tiles at alpha^2 = A2 (0: no block fits): the
// channels in equal blocks of at most kMaxVecs vectors.
inline int fused_block_vecs(Index A2, Index nt, Index width) {
  const Index vectors = (width + kLanes - 1) / kLanes;
  const Index blocks = (vectors + winograd_gradient::kMaxVecs - 1) / winograd_gradient::kMaxVecs;
  Index vecs = (vectors + blocks - 1) / blocks;
  while (vecs > 0 && A2 * nt * vecs * kLanes * Index(sizeof(float)) > kPackedChannelBytes) --vecs;
  return int(vecs);
}

// Packed elements of every channel block of `width` channels at once (fused_block_vecs(A2, nt, width) > 0).
inline Index packed_elements(Index A2, Index nt, Index width) {
  const Index W = Index(fused_block_vecs(A2, nt, width)) * kLanes;
  return A2 * nt * ((width + W - 1) / W) * W;
}

// Rows per block of `filters` filters in blocks of at most `most` rows, as even as they go (64 by 12 in five
// blocks of 11 and one of 9, rather than five of 12 and one of 4 at a fraction of the speed).
inline Index balanced_rows(Index filters, Index most) {
  if (filters <= 0) return most;  // an empty range (one thread's half of a single filter)
  const Index blocks = (filters + most - 1) / most;
  return (filters + blocks - 1) / blocks;
}

// One block of `rows` filters from fb by the channels [cb, cb + width) (packed): dU by the products from D (the
// block's first row; rows P apart, positions `d_position` apart), then G^T dU G of each pair into dw[fb + r][cb + l].
template <int M>
void fused_block(const Geometry& g, const float* D, Index d_position, const float* packed, Index nt, Index fb,
                 Index rows, Index cb, Index width, float* dw, float* dU) {
  constexpr Index A = M + 2, A2 = A * A;
  const int vecs = int((width + kLanes - 1) / kLanes);
  const Index W = vecs * kLanes, C = g.channels;
  float half[3 * A * kWeightBlock], out[9 * kWeightBlock];
  winograd_gradient::gradient_block_products(int(rows), vecs, D, d_position, g.chunk_tiles, packed, nt, A2, dU);
  for (Index r = 0; r < rows; ++r) {
    untransform_pairs<float, M>(dU + r * W, rows * W, width, half, out);
    store_pairs(out, width, dw + ((fb + r) * C + cb) * 9);
  }
}

// dw[f][c] (F x C x 9) for f in [f0, f1), c in [c0, c1), from one chunk's D [xi][f][t] and V [xi][c][t] (nt
// tiles of P): each channel block packed, then every block of filters by it. `work`: fused_scratch_elements.
template <int M>
void fused_weight_gradient(const Geometry& g, const float* D, const float* V, Index nt, Index f0, Index f1, Index c0,
                           Index c1, float* dw, float* work) {
  constexpr Index A = M + 2, A2 = A * A;
  const Index P = g.chunk_tiles, C = g.channels, F = g.filters;
  const int vecs = fused_block_vecs(A2, nt, c1 - c0);
  float* packed = work;
  float* dU = work + kPackedGroupBytes / Index(sizeof(float));
  for (Index cb = c0; cb < c1; cb += vecs * kLanes) {
    const Index width = std::min<Index>(vecs * kLanes, c1 - cb);
    const int block_vecs = int((width + kLanes - 1) / kLanes);
    const Index block_rows = balanced_rows(f1 - f0, winograd_gradient::block_rows(block_vecs));
    winograd_gradient::pack_gradient_channels(V, C, P, A2, nt, cb, width, block_vecs, packed);
    for (Index fb = f0; fb < f1; fb += block_rows) {
      fused_block<M>(g, D + fb * P, F * P, packed, nt, fb, std::min(block_rows, f1 - fb), cb, width, dw, dU);
    }
  }
}

// The same for every filter where all of the channels' blocks fit the packed area at once, D made block of
// filters by block of filters from dy as the products need it (into `work` past dU): no D of every filter
// through L2 and L3 (A2 x F x nt floats), one block's D in L1 instead. `tiles`, `temp`: the transform's scratch.
template <int M>
void fused_weight_gradient_making_d(const Geometry& g, const Run* runs, Index run_count, const float* output_grad,
                                    const float* V, Index nt, Index c0, Index c1, float* dw, float* tiles,
                                    float* temp, float* work) {
  constexpr Index A = M + 2, A2 = A * A;
  const Index P = g.chunk_tiles, C = g.channels, F = g.filters;
  const int vecs = fused_block_vecs(A2, nt, c1 - c0);
  const Index block_rows = balanced_rows(F, winograd_gradient::block_rows(vecs));
  float* packed = work;
  float* dU = work + kPackedGroupBytes / Index(sizeof(float));
  float* D = dU + A2 * winograd_gradient::kMaxBlockVectors * kLanes;  // [xi][r][t], block_rows rows
  // Channel block cb's packed lanes start at packed + A2 nt (cb - c0): every block but the last is whole vectors.
  for (Index cb = c0; cb < c1; cb += vecs * kLanes) {
    const Index width = std::min<Index>(vecs * kLanes, c1 - cb);
    const int block_vecs = int((width + kLanes - 1) / kLanes);
    winograd_gradient::pack_gradient_channels(V, C, P, A2, nt, cb, width, block_vecs, packed + A2 * nt * (cb - c0));
  }
  for (Index fb = 0; fb < F; fb += block_rows) {
    const Index rows = std::min(block_rows, F - fb);
    for (Index r = 0; r < rows; ++r) transform_output_gradient<float, M>(g, runs, run_count, fb + r, output_grad, tiles, temp, D, r, rows, nt);
    for (Index cb = c0; cb < c1; cb += vecs * kLanes) {
      const Index width = std::min<Index>(vecs * kLanes, c1 - cb);
      fused_block<M>(g, D, rows * P, packed + A2 * nt * (cb - c0), nt, fb, rows, cb, width, dw, dU);
    }
  }
}
#endif

// The weight gradient's input channels are cut into a fixed number of groups (a function of the shape alone),
// each group's V transformed and multiplied by the thread that owns it: a thread reads only what it wrote, where
// sharing every stage (V of all channels read by both threads) slowed the transforms on two cores. Each group
// transforms all of D for itself; on one thread D is transformed once and used by every group (the same values).
constexpr Index kGradientGroupChannels = 32;  // at least this many channels per group, in whole 16-lane lines
inline Index gradient_groups(const Geometry& g) {
  return g.channels >= 2 * kGradientGroupChannels ? 2 : 1;
}
inline Index group_first_channel(const Geometry& g, Index groups, Index group) {
  const Index per_group = (g.channels + groups - 1) / groups;
  return std::min(g.channels, group * ((per_group + 15) / 16 * 16));
}
// With enough tiles, the weight gradient's tiles are cut instead into kGradientTileParts consecutive parts of
// the batch's tile range, each summed into a dU of its own (its chunks in order) by the thread that owns it:
// every transform is done once, by one thread, and each thread's products read only what it transformed; the
// parts' sums are added in part order as dU is untransformed. The cut depends on the shape alone, so one thread
// (running the parts one after the other) gives the same bits. Parts of fewer than kMinPartTiles tiles are too
// shallow for the extra dU each to pay (a few multiply-adds per element of a dU of megabytes: res5a_branch2b at
// F(2x2), batch 4, lost; docs/performance.md), and a call too small for two threads gains nothing from them.
constexpr Index kGradientTileParts = 2;  // this machine kind's two cores
constexpr Index kMinPartTiles = 48;
inline Index gradient_tile_parts(const Geometry& g, int m) {
  const bool pays = g.tiles >= kGradientTileParts * kMinPartTiles && g.fmas(m) >= kParallelMinFmas;
  return pays ? kGradientTileParts : 1;
}
// One tile part's V, D (a chunk each) and dU, in that order.
inline Index tile_part_elements(const Geometry& g, int m) {
  return Index(m + 2) * (m + 2) * ((g.channels + g.filters) * g.chunk_tiles + g.filters * g.channels);
}
// Elements of the `gradient` buffer: with tile parts, one tile part's worth per part; else V of a chunk, D of
// a chunk per group, and dU but on the fused path (`fused`).
inline Index gradient_elements(const Geometry& g, int m, bool fused) {
  const Index A2 = Index(m + 2) * (m + 2);
  const Index parts = gradient_tile_parts(g, m);
  if (parts > 1) return parts * tile_part_elements(g, m);
  return A2 * ((g.channels + gradient_groups(g) * g.filters) * g.chunk_tiles + (fused ? 0 : g.filters * g.channels));
}

// Whether `g`'s weight gradient takes the fused path (floats with AVX-512): each tile part's tiles (all the
// tiles with one part) in one chunk, and a block of one vector of channels within kPackedChannelBytes.
template <typename T, int M>
bool fused_gradient(const Geometry& g) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const Index parts = gradient_tile_parts(g, M), part_tiles = (g.tiles + parts - 1) / parts;
    return part_tiles <= g.chunk_tiles && fused_block_vecs(Index(M + 2) * (M + 2), part_tiles, 1) > 0;
  }
#endif
  return false;
}
// The fused path's elements per thread beyond the stages' 2 alpha^2 P: packed channels and one block's dU.
template <typename T, int M>
Index fused_scratch_elements(const Geometry& g) {
  if (!fused_gradient<T, M>(g)) return 0;
  const Index A2 = Index(M + 2) * (M + 2);
  return kPackedGroupBytes / Index(sizeof(T)) + A2 * winograd_gradient::kMaxBlockVectors * winograd_gradient::kLanes +
         A2 * winograd_gradient::kMaxRows * g.chunk_tiles;
}
// fused_weight_gradient for the T that fused_gradient admits (the call is not reached for the others).
template <typename T, int M>
void fused_weight_gradient_of([[maybe_unused]] const Geometry& g, [[maybe_unused]] const T* D,
                              [[maybe_unused]] const T* V, [[maybe_unused]] Index nt, [[maybe_unused]] Index f0,
                              [[maybe_unused]] Index f1, [[maybe_unused]] Index c0, [[maybe_unused]] Index c1,
                              [[maybe_unused]] T* dw, [[maybe_unused]] T* work) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) fused_weight_gradient<M>(g, D, V, nt, f0, f1, c0, c1, dw, work);
#endif
}
// Whether the fused path makes D as it goes for the channels [c0, c1) (all their blocks packed at once).
template <typename T, int M>
bool fused_making_d([[maybe_unused]] const Geometry& g, [[maybe_unused]] Index nt, [[maybe_unused]] Index c0,
                    [[maybe_unused]] Index c1) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const Index A2 = Index(M + 2) * (M + 2);
    return c1 > c0 && fused_gradient<T, M>(g) &&
           packed_elements(A2, nt, c1 - c0) * Index(sizeof(float)) <= kPackedGroupBytes;
  }
#endif
  return false;
}
// fused_weight_gradient_making_d where fused_making_d holds (not reached otherwise).
template <typename T, int M>
void fused_weight_gradient_making_d_of([[maybe_unused]] const Geometry& g, [[maybe_unused]] const Run* runs,
                                       [[maybe_unused]] Index run_count, [[maybe_unused]] const T* output_grad,
                                       [[maybe_unused]] const T* V, [[maybe_unused]] Index nt, [[maybe_unused]] Index c0,
                                       [[maybe_unused]] Index c1, [[maybe_unused]] T* dw, [[maybe_unused]] T* tiles,
                                       [[maybe_unused]] T* temp, [[maybe_unused]] T* work) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    fused_weight_gradient_making_d<M>(g, runs, run_count, output_grad, V, nt, c0, c1, dw, tiles, temp, work);
  }
#endif
}

// The tile parts' weight gradient (gradient_tile_parts > 1) into dU per part; `gradient` holds V, D and dU per
// part. On the fused path, each part's dw instead: part 0's in weight_grad, the others' in place of their dU.
template <typename T, int M>
void weight_gradient_by_tile_parts(const Geometry& g, const T* input, const T* output_grad, T* gradient,
                                   T* weight_grad, std::vector<AlignedBuffer<T>>& scratch, int threads) {
  constexpr Index A = M + 2, A2 = A * A;
  const Index P = g.chunk_tiles, C = g.channels, F = g.filters, parts = gradient_tile_parts(g, M);
  const Index part_elements = tile_part_elements(g, M);
  const bool fused = fused_gradient<T, M>(g);
  const auto run_part = [&](Index part, Index thread) {
    T* V = gradient + part * part_elements;  // [xi][c][t]
    T* D = V + A2 * C * P;                   // [xi][f][t]
    T* dU = D + A2 * F * P;                  // [xi][f][c]
    T* tiles = scratch[std::size_t(thread)].data();
    T* temp = tiles + A2 * P;
    Run runs[kMaxChunkTiles];
    const Index first = g.tiles * part / parts, last = g.tiles * (part + 1) / parts;
    for (Index t0 = first; t0 < last; t0 += P) {
      const Index nt = std::min(P, last - t0);
      const Index run_count = chunk_runs(g, M, t0, nt, runs);
      for (Index c = 0; c < C; ++c) transform_input_channel<T, M>(g, runs, run_count, c, input, tiles, temp, V, nt);
      for (Index f = 0; f < F; ++f) transform_output_gradient<T, M>(g, runs, run_count, f, output_grad, tiles, temp, D, f, F, nt);
      if (fused) {  // the part's one chunk
        fused_weight_gradient_of<T, M>(g, D, V, nt, 0, F, 0, C, part == 0 ? weight_grad : dU, temp + A2 * P);
        continue;
      }
      for (Index xi = 0; xi < A2; ++xi) {
        gemm(Transpose::No, Transpose::Yes, F, C, nt, T(1), D + xi * F * P, P, V + xi * C * P, P,
             t0 == first ? T(0) : T(1), dU + xi * F * C, C, 1);
      }
    }
  };
  parallel_for(parts, threads, Schedule::even, run_part);
}

// The whole weight gradient of `g`'s layer into dw (F x C x 3 x 3); `gradient` holds V, D per group and dU.
template <typename T, int M>
void weight_gradient(const Geometry& g, const T* input, const T* output_grad, T* weight_grad, T* gradient,
                     std::vector<AlignedBuffer<T>>& scratch, int threads) {
  constexpr Index A = M + 2, A2 = A * A;
  const Index P = g.chunk_tiles, C = g.channels, F = g.filters;
  const bool fused = fused_gradient<T, M>(g);
  if (const Index parts = gradient_tile_parts(g, M); parts > 1) {
    weight_gradient_by_tile_parts<T, M>(g, input, output_grad, gradient, weight_grad, scratch, threads);
    const T* first_dU = gradient + A2 * (C + F) * P;  // after part 0's V and D
    const Index part_stride = tile_part_elements(g, M);
    if (fused) {  // the parts' dw added in part order, by blocks of weights
      constexpr Index kBlock = 4096;
      const Index elements = F * C * 9, blocks = (elements + kBlock - 1) / kBlock;
      parallel_for(blocks, threads, Schedule::even, [&](Index block, Index) {
        const Index e0 = block * kBlock, e1 = std::min(elements, e0 + kBlock);
        for (Index part = 1; part < parts; ++part) {
          const T* more = first_dU + part * part_stride;
          for (Index e = e0; e < e1; ++e) weight_grad[e] += more[e];
        }
      });
      return;
    }
    untransform_weight_gradient<T, M>(first_dU, parts, part_stride, F, C, weight_grad, threads);
    return;
  }
  // One thread on the fused path takes every channel as one group: its D is made once (as in the groups'
  // shared D), and each value is computed the same in any group.
  const Index groups = gradient_groups(g);
  T* V = gradient;                         // [xi][c][t]
  T* D = V + A2 * C * P;                   // per group: [xi][f][t]
  T* dU = D + groups * A2 * F * P;         // [xi][f][c]
  Run runs[kMaxChunkTiles];
  for (Index chunk = 0; chunk < g.chunks; ++chunk) {
    const Index t0 = chunk * P, nt = std::min(P, g.tiles - t0);
    const Index run_count = chunk_runs(g, M, t0, nt, runs);
    // dU[xi] (F x channels [c0, c1)) += D[xi] V[xi]^T over the chunk's tiles, D read from d.
    const auto products = [&](const T* d, Index c0, Index c1, Index xi) {
      gemm(Transpose::No, Transpose::Yes, F, c1 - c0, nt, T(1), d + xi * F * P, P, V + (xi * C + c0) * P, P,
           chunk == 0 ? T(0) : T(1), dU + xi * F * C + c0, C, 1);
    };
    const auto run_group = [&](Index group, Index thread) {
      T* tiles = scratch[std::size_t(thread)].data();
      T* temp = tiles + A2 * P;
      const Index c0 = group_first_channel(g, groups, group), c1 = group_first_channel(g, groups, group + 1);
      for (Index c = c0; c < c1; ++c) transform_input_channel<T, M>(g, runs, run_count, c, input, tiles, temp, V, nt);
      if (fused_making_d<T, M>(g, nt, c0, c1)) {  // the call's one chunk, D made block by block
        fused_weight_gradient_making_d_of<T, M>(g, runs, run_count, output_grad, V, nt, c0, c1, weight_grad, tiles, temp,
                                                temp + A2 * P);
        return;
      }
      const bool own_d = threads > 1 || group == 0;
      T* d = D + (own_d ? group : 0) * A2 * F * P;
      if (own_d) {
        for (Index f = 0; f < F; ++f) transform_output_gradient<T, M>(g, runs, run_count, f, output_grad, tiles, temp, d, f, F, nt);
      }
      if (c1 == c0) return;
      if (fused) {  // the call's one chunk
        fused_weight_gradient_of<T, M>(g, d, V, nt, 0, F, c0, c1, weight_grad, temp + A2 * P);
        return;
      }
      for (Index xi = 0; xi < A2; ++xi) products(d, c0, c1, xi);
    };
    if (groups > 1 && threads > 1) {
      parallel_for(groups, threads, Schedule::even, run_group);
    } else if (groups > 1) {
      for (Index group = 0; group < groups; ++group) run_group(group, 0);
    } else {
      // One group: the stages shared by the threads, as before (few channels).
      parallel_for(C + F, threads, Schedule::dynamic, [&](Index item, Index thread) {
        T* tiles = scratch[std::size_t(thread)].data();
        T* temp = tiles + A2 * P;
        if (item < C) transform_input_channel<T, M>(g, runs, run_count, item, input, tiles, temp, V, nt);
        else transform_output_gradient<T, M>(g, runs, run_count, item - C, output_grad, tiles, temp, D, item - C, F, nt);
      });
      if (fused) {  // the filters in two halves (each value is computed alike in any block)
        parallel_for(2, threads, Schedule::even, [&](Index part, Index thread) {
          T* work = scratch[std::size_t(thread)].data() + 2 * A2 * P;
          fused_weight_gradient_of<T, M>(g, D, V, nt, F * part / 2, F * (part + 1) / 2, 0, C, weight_grad, work);
        });
      } else {
        parallel_for(A2, threads, Schedule::dynamic, [&](Index xi, Index) { products(D, 0, C, xi); });
      }
    }
  }
  if (!fused) untransform_weight_gradient<T, M>(dU, 1, 0, F, C, weight_grad, threads);
}

std::string window_and_stride(const ConvShape& s) {
  std::ostringstream text;
  text << s.kernel_height << "x" << s.kernel_width << " window at stride " << s.stride_height;
  if (s.stride_width != s.stride_height) text << "x" << s.stride_width;
  return text.str();
}

// The transposed layer whose forward pass is the input gradient of `s` (stride 1, 3x3).
ConvShape input_gradient_shape(const ConvShape& s) { return winograd_transposed_layer(s); }

}  // namespace

std::string winograd_unsupported(const ConvShape& s, int tile) {
  const std::string name = tile == 2   ? "Winograd F(2x2, 3x3)"
                           : tile == 4 ? "Winograd F(4x4, 3x3)"
                                       : "Winograd F(2x2, 3x3) / F(4x4, 3x3)";
  std::ostringstream text;
  if (s.kernel_height != 3 || s.kernel_width != 3 || s.stride_height != 1 || s.stride_width != 1) {
    text << name << " needs a 3x3 window at stride 1; this layer (" << s.describe() << ") has a "
         << window_and_stride(s);
  }
  return text.str();
}

WinogradChunking winograd_chunking(const ConvShape& s, int tile, std::size_t element_size, int threads) {
  const Geometry g(s, tile, element_size), weights(s, tile, element_size, false);
  const int used = threads_for(g, tile, threads);
  const bool floats = element_size == sizeof(float);
  return {g.tiles, g.chunk_tiles, g.chunks, used, chunks_shared(g, used),
          gradient_groups(weights),
          gradient_tile_parts(weights, tile),
          floats ? products_transposed<float>(g) : products_transposed<double>(g),
          floats && (tile == 2 ? fused_gradient<float, 2>(weights) : fused_gradient<float, 4>(weights))};
}

WinogradConv::WinogradConv(int tile) : m_(tile) {
  if (tile != 2 && tile != 4) throw std::invalid_argument("WinogradConv: the tile must be 2 or 4");
}

template <typename T>
WinogradConv::Workspace<T>& WinogradConv::workspace() {
  if constexpr (sizeof(T) == sizeof(float)) return float_workspace_; else return double_workspace_;
}

void WinogradConv::require_supported(const ConvShape& s) const {
  const std::string reason = winograd_unsupported(s, m_);
  if (!reason.empty()) throw ConvShapeError(reason);
}

// Forward pass of `s` (supported, stride 1, 3x3) with its weights already transformed.
template <typename T>
void WinogradConv::run(const ConvShape& s, const T* input, const T* U, const T* bias, T* output) {
  const Geometry g(s, m_, sizeof(T));
  Workspace<T>& work = workspace<T>();
  const int threads = threads_for(g, m_, available_threads());
  if (work.scratch.size() < std::size_t(threads)) work.scratch.resize(std::size_t(threads));
  for (int t = 0; t < threads; ++t) work.scratch[std::size_t(t)].resize(std::size_t(g.scratch_elements(m_)));
  if (chunks_shared(g, threads)) {
    for (Index chunk = 0; chunk < g.chunks; ++chunk) {
      if (m_ == 2) run_chunk_by_filter_parts<T, 2>(g, chunk, input, U, bias, output, work.scratch, threads);
      else run_chunk_by_filter_parts<T, 4>(g, chunk, input, U, bias, output, work.scratch, threads);
    }
    return;
  }
  // Many chunks (a large batch of small images): each thread its own share first, the same chunks as in the last
  // call, whose output lines are still in its core's cache, not the other's (docs/runs/ab-20261206-winograd-chunk-
  // shares). A few: whichever thread is free first, as before (a short last chunk, res2a_branch2b's 96, 96 and 4
  // tiles at batch 1, may balance better so; shares there measured no faster: docs/performance.md).
  const Schedule schedule = g.chunks >= 3 * Index(threads) ? Schedule::shares : Schedule::dynamic;
  parallel_for(g.chunks, threads, schedule, [&](Index chunk, Index thread) {
    T* scratch = work.scratch[std::size_t(thread)].data();
    if (m_ == 2) run_chunk<T, 2>(g, chunk, input, U, bias, output, scratch);
    else run_chunk<T, 4>(g, chunk, input, U, bias, output, scratch);
  });
}

namespace {
// Whether the forward-direction call of layer `run` (the layer itself, or its input gradient's) takes U in the
// transposed layout.
template <typename T>
bool transposed_layout(int m, const ConvShape& run) {
  return products_transposed<T>(Geometry(run, m, sizeof(T)));
}

// U for the forward-direction call of layer `run`, in the layout its products take.
template <typename T>
void transform(int m, const T* w, const ConvShape& run, bool flip, AlignedBuffer<T>& U) {
  const Index Fo = run.out_channels, Co = run.in_channels;
  const bool transposed = transposed_layout<T>(m, run);
  U.resize(std::size_t((m + 2) * (m + 2) * u_plane(Fo, Co)));
  if (m == 2) transform_weights<T, 2>(w, Fo, Co, flip, transposed, U.data());
  else transform_weights<T, 4>(w, Fo, Co, flip, transposed, U.data());
}
}  // namespace

template <typename T>
void WinogradConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  require_supported(s);
  Workspace<T>& work = workspace<T>();
  transform(m_, weights, s, false, work.transformed);
  run(s, input, work.transformed.data(), bias, output);
}

template <typename T>
void WinogradConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  require_supported(s);
  const ConvShape t = input_gradient_shape(s);
  if (t.out_height() != s.in_height || t.out_width() != s.in_width) {
    throw std::logic_error("winograd: the input gradient's layer " + t.describe() + " does not give the input size");
  }
  Workspace<T>& work = workspace<T>();
  transform(m_, weights, t, true, work.transformed);
  run<T>(t, transposed_input(s, output_grad), work.transformed.data(), nullptr, input_grad);
}

template <typename T>
const T* WinogradConv::transposed_input(const ConvShape& s, const T* output_grad) {
  if (!winograd_crops_output_gradient(s)) return output_grad;
  AlignedBuffer<T>& cropped = workspace<T>().cropped;
  cropped.resize(std::size_t(input_gradient_shape(s).input_size()));
  winograd_crop_output_gradient(s, output_grad, cropped.data());
  return cropped.data();
}

template <typename T>
void WinogradConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                          T* bias_grad) {
  require_supported(s);
  const Geometry g(s, m_, sizeof(T), false);
  Workspace<T>& work = workspace<T>();
  const int threads = threads_for(g, m_, available_threads());
  if (work.scratch.size() < std::size_t(threads)) work.scratch.resize(std::size_t(threads));
  const Index alpha2 = Index(m_ + 2) * (m_ + 2);
  for (int t = 0; t < threads; ++t) {
    AlignedBuffer<T>& scratch = work.scratch[std::size_t(t)];
    const Index fused = m_ == 2 ? fused_scratch_elements<T, 2>(g) : fused_scratch_elements<T, 4>(g);
    const std::size_t wanted = std::size_t(2 * alpha2 * g.chunk_tiles + fused);
    if (scratch.size() < wanted) scratch.resize(wanted);
  }
  const bool fused = m_ == 2 ? fused_gradient<T, 2>(g) : fused_gradient<T, 4>(g);
  const std::size_t gradient = std::size_t(gradient_elements(g, m_, fused));
  if (work.gradient.size() < gradient) work.gradient.resize(gradient);
  if (m_ == 2) weight_gradient<T, 2>(g, input, output_grad, weight_grad, work.gradient.data(), work.scratch, threads);
  else weight_gradient<T, 4>(g, input, output_grad, weight_grad, work.gradient.data(), work.scratch, threads);
  if (bias_grad) bias_gradient_in_naive_order(s, output_grad, bias_grad, threads);
}

template <typename T>
const T* WinogradConv::held_transform(typename Workspace<T>::Held& held, const T* weights, const ConvShape& run,
                                      bool flip) {
  const int layout = transposed_layout<T>(m_, run) ? 1 : 0;
  if (!held.ready[layout]) {
    transform(m_, weights, run, flip, held.layouts[layout]);
    held.ready[layout] = true;
  }
  return held.layouts[layout].data();
}

template <typename T>
void WinogradConv::prepare_held_typed(const ConvShape& s, const T* weights, const T*) {
  Workspace<T>& work = workspace<T>();
  for (auto* held : {&work.held_forward, &work.held_backward}) held->ready[0] = held->ready[1] = false;
  if (!winograd_unsupported(s, m_).empty()) return;  // the held calls refuse the layer
  held_transform(work.held_forward, weights, s, false);
}

// The held U in the layout a call's batch takes is made at the first call that needs it (a frozen layer's input
// gradient may never be asked; a batch of other tiles than the layer's may take the other layout).
template <typename T>
void WinogradConv::forward_held_typed(const ConvShape& s, const T* input, const T* weights, const T* bias,
                                      T* output) {
  require_supported(s);
  run(s, input, held_transform(workspace<T>().held_forward, weights, s, false), bias, output);
}

template <typename T>
void WinogradConv::backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights,
                                             T* input_grad) {
  require_supported(s);
  const ConvShape t = input_gradient_shape(s);
  run<T>(t, transposed_input(s, output_grad), held_transform(workspace<T>().held_backward, weights, t, true), nullptr,
         input_grad);
}

ConvImpl::HeldPacking WinogradConv::held_packing(const ConvShape& s) const {
  if (!winograd_unsupported(s, m_).empty()) return {};
  return {true, true};
}

std::size_t WinogradConv::workspace_bytes(const ConvShape& s, std::size_t element_size) const {
  if (!winograd_unsupported(s, m_).empty()) return 0;
  const Index alpha2 = Index(m_ + 2) * (m_ + 2);
  const Geometry forward(s, m_, element_size), backward(input_gradient_shape(s), m_, element_size);
  const Geometry weights(s, m_, element_size, false);
  const bool floats = element_size == sizeof(float);
  const bool fused = floats && (m_ == 2 ? fused_gradient<float, 2>(weights) : fused_gradient<float, 4>(weights));
  const Index fused_scratch = !floats ? 0
                              : m_ == 2 ? fused_scratch_elements<float, 2>(weights)
                                        : fused_scratch_elements<float, 4>(weights);
  const Index per_thread = std::max({forward.scratch_elements(m_), backward.scratch_elements(m_),
                                     2 * alpha2 * weights.chunk_tiles + fused_scratch});
  const Index gradient = gradient_elements(weights, m_, fused);
  const Index cropped = winograd_crops_output_gradient(s) ? input_gradient_shape(s).input_size() : 0;
  return std::size_t(per_thread * available_threads() + alpha2 * u_plane(s.out_channels, s.in_channels) + gradient +
                     cropped) * element_size;
}

template void WinogradConv::forward_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void WinogradConv::forward_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                                  double*);
template void WinogradConv::backward_input_typed<float>(const ConvShape&, const float*, const float*, float*);
template void WinogradConv::backward_input_typed<double>(const ConvShape&, const double*, const double*, double*);
template void WinogradConv::backward_weights_typed<float>(const ConvShape&, const float*, const float*, float*,
                                                          float*);
template void WinogradConv::backward_weights_typed<double>(const ConvShape&, const double*, const double*, double*,
                                                           double*);
template void WinogradConv::prepare_held_typed<float>(const ConvShape&, const float*, const float*);
template void WinogradConv::prepare_held_typed<double>(const ConvShape&, const double*, const double*);
template void WinogradConv::forward_held_typed<float>(const ConvShape&, const float*, const float*, const float*,
                                                      float*);
template void WinogradConv::forward_held_typed<double>(const ConvShape&, const double*, const double*,
                                                       const double*, double*);
template void WinogradConv::backward_input_held_typed<float>(const ConvShape&, const float*, const float*, float*);
template void WinogradConv::backward_input_held_typed<double>(const ConvShape&, const double*, const double*,
                                                              double*);

ConvImplInfo winograd2_conv_info() {
  return {.name = "winograd2",
          .summary = "Winograd F(2x2,3x3): 16 products per 4 outputs instead of 36 (3x3 windows at stride 1 only)",
          .build_flags = CONVLAB_IMPL_BUILD_FLAGS,
          .uses_threads = true,
          .make = [] { return std::make_unique<WinogradConv>(2); },
          .reference_order = {.bias_gradient = true},
          .unsupported = [](const ConvShape& s, ConvPass) { return winograd_unsupported(s, 2); },
          .direct_sums = false,
          .error_bound = {.kind = ConvErrorBoundKind::winograd, .tile = 2}};
}

ConvImplInfo winograd4_conv_info() {
  return {.name = "winograd4",
          .summary = "Winograd F(4x4,3x3): 36 products per 16 outputs instead of 144 (3x3 windows at stride 1 only)",
          .build_flags = CONVLAB_IMPL_BUILD_FLAGS,
          .uses_threads = true,
          .make = [] { return std::make_unique<WinogradConv>(4); },
          .reference_order = {.bias_gradient = true},
          .unsupported = [](const ConvShape& s, ConvPass) { return winograd_unsupported(s, 4); },
          .direct_sums = false,
          .error_bound = {.kind = ConvErrorBoundKind::winograd, .tile = 4}};
}

}  // namespace convlab
