// Blocked, register-tiled matrix product (GotoBLAS/BLIS layering) shared by the dense layers and im2col.
//
// Two micro-kernels:
//
// * Outer product (every call except deep, narrow NT). The micro-kernel keeps an 8 x 48 float (8 x 24
//   double) tile of C in 24 vector registers (8 rows x 3 AVX-512 vectors) and per step p adds
//   a(i, p) * b(p, j..j+47): 3 vector loads of B and 8 scalar broadcasts of A feed 24 FMAs.
//   A: a broadcast can come from any address, so A is read in place through a row and a depth stride
//   (covering op(A) = A and A^T); only when op(A) = A^T has rows a page or more apart and k > 64 is the
//   A block packed into 8-row micro-panels (else every step p would touch a new page).
//   B must give contiguous vectors along n: with op(B) = B and rows close together (the network's
//   ldb = 50, or k <= 64) full-vector panels are read in place; otherwise (op(B) = B^T, or far rows with a
//   long k) the work item's kc x nc block is packed row by row into 48-wide micro-panels (transposed ones
//   through in-register L x L transposes).
//   The last n mod 16 columns (2 of n = 50) would waste most of a vector; when op(A) = A they are done
//   with the dot-product kernel below instead, and when op(A) = A^T, op(B) = B (the dense weight
//   gradient) with vectors along C's columns of rows (column_tail), which keeps every lane busy there.
//   gemm_packed_a is the same kernel on an A its caller keeps packed in 8-row panels (Winograd's transformed
//   weights, used by every call): each panel one contiguous stream, where eight rows lda apart are eight short
//   streams that the prefetchers barely follow. Its last n mod 16 columns run 8 panels' rows side by side in
//   8-lane vectors, one multiply-add chain per element as in the outer kernel.
// * Dot product (NT with k >= 256 and n < 32, e.g. the conv weight gradient 20 x 25 x 36864, and the
//   column tail above). Both operands are contiguous along k, so nothing is packed: a 4 x 5 tile keeps 20
//   vector accumulators over a k block, loading 4 vectors of A rows and 5 of B rows per 20 FMAs, then
//   reduces each horizontally.
// Loop nest of a work item: k blocks (KC) -> 48-wide panels of B -> 8-row tiles.
//
// Block sizes for Zen 5 (L1d 48 KiB, L2 1 MiB per core, L3 32 MiB shared; Zen 4, also seen on this
// project's machines, has a 32 KiB L1d, which still holds the 24 KiB B micro-panel):
//   MR x NR = 8 x 3 vectors: 24 accumulators + 3 B vectors + 1 broadcast fit the 32 zmm registers, and
//     24 independent FMA chains cover the 2 FMA pipes x 4 cycles latency three times over. 8 rows divide
//     the batch sizes 64/1000; 48 columns leave only 2 of n = 50 to the tail.
//   KC = 128: the B micro-panel (128 x 3 vectors x 64 B = 24 KiB, float or double) stays in L1 while it
//     is reused for every 8-row tile, next to the A micro-panel streaming from L2 (8 x 128 x 4 B = 4 KiB
//     float). Reloading C once per k block costs 24 vector loads and stores per 3072 vector FMAs.
//   MC = 512 rows (float; 256 double): the 512 x 128 block of A re-read for every B panel is 256 KiB,
//     a quarter of L2, leaving room for the B panels and C lines passing through.
//   NC = 3072 columns (float; 1536 double): a packed B block of 128 x 3072 x 4 B = 1.5 MiB per thread
//     lives in L3 (each 24 KiB micro-panel then sits in L1 for all the row tiles); it also bounds a work
//     item so that both cores get items.
//   Packed micro-panels are 64 bytes apart beyond their size, so they do not all start at the same 4 KiB
//   offset (with kc = 128 every packing store of A would hit one L1 set).
//   Dot path KC = 6 KiB of each row: a 4-row A tile (24 KiB) stays in L1 across the column tiles and a
//     block of at most 80 rows of B (480 KiB; 300 KiB for n = 50) in L2 across the row tiles; the 20
//     horizontal sums per tile are a few percent of the 20 x 96 FMAs at this depth.
//
// Threads: OpenMP over a grid of (row chunk x column chunk) work items of C, never over k, each thread with
// its own pack buffers (thread_local, grown once and reused by later calls). Every C element is computed by the same sequence of operations whatever the thread
// count and whichever tile or panel variant it lands in (vector lanes are independent, edge tiles reuse the
// full-tile arithmetic), so 1 and 2 threads give bitwise-identical results. The k blocking depends only on
// k. Calls below ~1 M multiply-adds stay on the calling thread (a fork/join costs a few microseconds).
#include "common/kernels/gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <xsimd/xsimd.hpp>

#include "common/tensor/aligned_buffer.hpp"
#include "common/machine/parallel_for.hpp"

namespace convlab {
namespace {

template <typename T>
using Vec = xsimd::batch<T>;
template <typename T>
constexpr int kLanes = int(Vec<T>::size);

constexpr int kTileRows = 8;     // MR
constexpr int kTileVectors = 3;  // NR = kTileVectors * lanes
template <typename T>
constexpr Index kTileCols = Index(kTileVectors) * kLanes<T>;

constexpr Index kDepthBlock = 128;  // KC (outer-product path)
template <typename T>
constexpr Index kRowBlock = sizeof(T) == 4 ? 512 : 256;  // MC
template <typename T>
constexpr Index kColBlock = sizeof(T) == 4 ? 3072 : 1536;  // NC

constexpr int kDotRows = 4;
constexpr int kDotCols = 5;
constexpr Index kDotDepthBytes = 6144;
template <typename T>
constexpr Index kDotDepthBlock = kDotDepthBytes / Index(sizeof(T));
// NT goes to the dot path only when it is deep and narrow: the conv weight gradient's 20 x 25 x 36864 is
// faster there, while the dense layer's 64 x 50 x 11520 is faster on the outer path (bench_gemm times both).
constexpr Index kDotMinDepth = 256;
template <typename T>
constexpr Index kDotColBlock = 80;  // rows of B per work item (multiple of kDotCols)

constexpr Index kParallelMinFmas = Index(1) << 20;

// ---------------------------------------------------------------------------------------------------------
// Outer-product micro-kernel: C[0..MR, 0..cols) (op)= alpha * sum_p a(r, p) * b(p, :) (+ beta * C).
// a(r, p) = a[r * a_row + p * a_depth]; b(p, v*L + l) = b[p * b_depth + v*L + l], NV full vectors readable.
// kPackedA: a is a packed panel (gemm_packed_a), a_row = 1 and a_depth = MR known to the compiler.
template <typename T, int MR, int NV, bool kPackedA = false>
void outer_kernel(Index kc, const T* a, Index a_row, Index a_depth, const T* b, Index b_depth, T* c, Index ldc,
                  Index cols, T alpha, T beta) {
  if constexpr (kPackedA) a_row = 1, a_depth = kTileRows;
  constexpr int L = kLanes<T>;
  Vec<T> acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[r][v] = Vec<T>(T(0));
  for (Index p = 0; p < kc; ++p) {
    const T* bp = b + p * b_depth;
    const T* ap = a + p * a_depth;
    Vec<T> bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) bv[v] = Vec<T>::load_unaligned(bp + v * L);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const Vec<T> av(ap[r * a_row]);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(av, bv[v], acc[r][v]);
    }
  }
  const Vec<T> alpha_v(alpha), beta_v(beta);
  for (int r = 0; r < MR; ++r) {
    T* row = c + r * ldc;
    if (cols == NV * L) {
      for (int v = 0; v < NV; ++v) {
        Vec<T> out = alpha_v * acc[r][v];
        if (beta != T(0)) out = xsimd::fma(beta_v, Vec<T>::load_unaligned(row + v * L), out);
        out.store_unaligned(row + v * L);
      }
    } else {
      // Same vector arithmetic on a copy, so edge elements round exactly like interior ones.
      alignas(64) T copy[NV * L] = {};
      if (beta != T(0)) std::copy_n(row, cols, copy);
      for (int v = 0; v < NV; ++v) {
        Vec<T> out = alpha_v * acc[r][v];
        if (beta != T(0)) out = xsimd::fma(beta_v, Vec<T>::load_aligned(copy + v * L), out);
        out.store_aligned(copy + v * L);
      }
      std::copy_n(copy, cols, row);
    }
  }
}

template <typename T>
using OuterKernel = void (*)(Index, const T*, Index, Index, const T*, Index, T*, Index, Index, T, T);

template <typename T, bool kPackedA, std::size_t... I>
constexpr std::array<OuterKernel<T>, sizeof...(I)> outer_kernel_table(std::index_sequence<I...>) {
  return {&outer_kernel<T, int(I / kTileVectors) + 1, int(I % kTileVectors) + 1, kPackedA>...};
}

template <typename T, bool kPackedA = false>
OuterKernel<T> outer_kernel_for(Index rows, Index vectors) {
  static constexpr auto table =
      outer_kernel_table<T, kPackedA>(std::make_index_sequence<kTileRows * kTileVectors>());
  return table[std::size_t((rows - 1) * kTileVectors + (vectors - 1))];
}

// ---------------------------------------------------------------------------------------------------------
// Packing of B micro-panels into buf[p * stride + j], zero-padded to `stride` columns.

// From op(B) = B: rows of B are contiguous along n.
template <typename T>
void pack_rows(const T* b, Index ldb, Index kc, Index width, Index stride, T* buf) {
  for (Index p = 0; p < kc; ++p) {
    const T* src = b + p * ldb;
    T* dst = buf + p * stride;
    for (Index j = 0; j < width; ++j) dst[j] = src[j];
    for (Index j = width; j < stride; ++j) dst[j] = T(0);
  }
}

// GCC vector types the size of one xsimd batch, for in-register transposes.
template <typename T>
struct Native {
  using Int = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  typedef T Vector __attribute__((vector_size(sizeof(Vec<T>))));
  typedef Int Mask __attribute__((vector_size(sizeof(Vec<T>))));
};

// Masks swapping bit `s` of the row index with bit `s` of the column index between rows i and i+s.
template <typename T, int S, std::size_t... I>
constexpr typename Native<T>::Mask low_mask(std::index_sequence<I...>) {
  constexpr int L = kLanes<T>;
  return typename Native<T>::Mask{typename Native<T>::Int((int(I) & S) ? L + int(I) - S : int(I))...};
}
template <typename T, int S, std::size_t... I>
constexpr typename Native<T>::Mask high_mask(std::index_sequence<I...>) {
  constexpr int L = kLanes<T>;
  return typename Native<T>::Mask{typename Native<T>::Int((int(I) & S) ? L + int(I) : int(I) + S)...};
}

template <typename T, int S>
inline void transpose_stage(typename Native<T>::Vector* rows) {
  constexpr int L = kLanes<T>;
  if constexpr (S < L) {
    constexpr auto low = low_mask<T, S>(std::make_index_sequence<L>());
    constexpr auto high = high_mask<T, S>(std::make_index_sequence<L>());
#pragma GCC unroll 16
    for (int i = 0; i < L; ++i) {
      if (i & S) continue;
      const auto x = rows[i], y = rows[i + S];
      rows[i] = __builtin_shuffle(x, y, low);
      rows[i + S] = __builtin_shuffle(x, y, high);
    }
    transpose_stage<T, S * 2>(rows);
  }
}

template <typename T, int Half, std::size_t... I>
constexpr typename Native<T>::Mask upper_half_mask(std::index_sequence<I...>) {
  return typename Native<T>::Mask{typename Native<T>::Int(int(I) + Half < kLanes<T> ? int(I) + Half : int(I))...};
}

template <typename T, int Half>
inline T halve(typename Native<T>::Vector v) {
  if constexpr (Half == 0) {
    return v[0];
  } else {
    constexpr auto mask = upper_half_mask<T, Half>(std::make_index_sequence<kLanes<T>>());
    return halve<T, Half / 2>(v + __builtin_shuffle(v, mask));
  }
}

// From op(B) = B^T (B stored n x k): buf[p * stride + j] = b[j * ldb + p], via L x L register transposes.
template <typename T>
void pack_transposed(const T* b, Index ldb, Index kc, Index width, Index stride, T* buf) {
  constexpr int L = kLanes<T>;
  using V = typename Native<T>::Vector;
  for (Index j0 = 0; j0 < stride; j0 += L) {
    Index p0 = 0;
    for (; p0 + L <= kc; p0 += L) {
      V rows[L];
      for (int t = 0; t < L; ++t) {
        if (j0 + t < width) {
          __builtin_memcpy(&rows[t], b + (j0 + t) * ldb + p0, sizeof(V));
        } else {
          rows[t] = V{};
        }
      }
      transpose_stage<T, 1>(rows);
      for (int t = 0; t < L; ++t) __builtin_memcpy(buf + (p0 + t) * stride + j0, &rows[t], sizeof(V));
    }
    for (Index p = p0; p < kc; ++p) {
      for (Index j = j0; j < j0 + L; ++j) buf[p * stride + j] = j < width ? b[j * ldb + p] : T(0);
    }
  }
}

// Sum of the lanes by repeated halving (a fixed order, so deterministic).
template <typename T>
inline T horizontal_sum(Vec<T> value) {
  using V = typename Native<T>::Vector;
  V v;
  __builtin_memcpy(&v, &value, sizeof(V));
  return halve<T, kLanes<T> / 2>(v);
}

// ---------------------------------------------------------------------------------------------------------
// Dot-product micro-kernel for NT: C[r][c] (op)= alpha * sum_p a[r*lda + p] * b[c*ldb + p] (+ beta * C).
template <typename T, int MR, int NR>
void dot_kernel(Index kc, const T* a, Index lda, const T* b, Index ldb, T* c, Index ldc, T alpha, T beta,
                const T* a_ahead) {
  constexpr int L = kLanes<T>;
  Vec<T> acc[MR][NR];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 5
    for (int q = 0; q < NR; ++q) acc[r][q] = Vec<T>(T(0));
  const auto step = [&](const T* const* a_rows, Index a_offset, const T* const* b_rows, Index b_offset) {
    Vec<T> av[MR];
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) av[r] = Vec<T>::load_unaligned(a_rows[r] + a_offset);
#pragma GCC unroll 5
    for (int q = 0; q < NR; ++q) {
      Vec<T> bv = Vec<T>::load_unaligned(b_rows[q] + b_offset);
      // Otherwise GCC folds the load into each of the MR FMAs, loading the same vector MR times.
      __asm__("" : "+v"(bv.data));
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) acc[r][q] = xsimd::fma(av[r], bv, acc[r][q]);
    }
  };
  const T* a_rows[MR];
  const T* b_rows[NR];
  for (int r = 0; r < MR; ++r) a_rows[r] = a + r * lda;
  for (int q = 0; q < NR; ++q) b_rows[q] = b + q * ldb;
  Index p = 0;
  if (a_ahead) {
    // A's rows stream from memory (each element of A feeds only NR FMAs): each step asks for the same line of MR
    // rows further down, which the tiles after next will read.
    for (; p + L <= kc; p += L) {
#pragma GCC unroll 4
      for (int r = 0; r < MR; ++r) __builtin_prefetch(a_ahead + r * lda + p);
      step(a_rows, p, b_rows, p);
    }
  }
  for (; p + L <= kc; p += L) step(a_rows, p, b_rows, p);
  if (p < kc) {  // zero-padded copies of the last partial vector of every row
    alignas(64) T a_tail[MR][L] = {};
    alignas(64) T b_tail[NR][L] = {};
    const T* a_tail_rows[MR];
    const T* b_tail_rows[NR];
    for (int r = 0; r < MR; ++r) {
      std::copy(a_rows[r] + p, a_rows[r] + kc, a_tail[r]);
      a_tail_rows[r] = a_tail[r];
    }
    for (int q = 0; q < NR; ++q) {
      std::copy(b_rows[q] + p, b_rows[q] + kc, b_tail[q]);
      b_tail_rows[q] = b_tail[q];
    }
    step(a_tail_rows, 0, b_tail_rows, 0);
  }
  for (int r = 0; r < MR; ++r) {
    for (int q = 0; q < NR; ++q) {
      T& out = c[r * ldc + q];
      T value = alpha * horizontal_sum<T>(acc[r][q]);
      if (beta != T(0)) value = std::fma(beta, out, value);
      out = value;
    }
  }
}

template <typename T>
using DotKernel = void (*)(Index, const T*, Index, const T*, Index, T*, Index, T, T, const T*);

template <typename T, std::size_t... I>
constexpr std::array<DotKernel<T>, sizeof...(I)> dot_kernel_table(std::index_sequence<I...>) {
  return {&dot_kernel<T, int(I / kDotCols) + 1, int(I % kDotCols) + 1>...};
}

template <typename T>
DotKernel<T> dot_kernel_for(Index rows, Index cols) {
  static constexpr auto table = dot_kernel_table<T>(std::make_index_sequence<kDotRows * kDotCols>());
  return table[std::size_t((rows - 1) * kDotCols + (cols - 1))];
}

// ---------------------------------------------------------------------------------------------------------
// Work items: C's row tiles and column tiles are grouped into chunks; items are (row chunk, column chunk).
struct Grid {
  Index row_tiles, col_tiles;  // tile counts
  Index row_chunks, col_chunks;
  Index items() const { return row_chunks * col_chunks; }
  // Tile range [first, last) of chunk `chunk` out of `chunks` over `tiles` tiles, as even as possible.
  static std::pair<Index, Index> range(Index tiles, Index chunks, Index chunk) {
    return {tiles * chunk / chunks, tiles * (chunk + 1) / chunks};
  }
};

Grid make_grid(Index row_tiles, Index col_tiles, Index max_row_tiles, Index max_col_tiles, int threads) {
  Grid grid{row_tiles, col_tiles, (row_tiles + max_row_tiles - 1) / max_row_tiles,
            (col_tiles + max_col_tiles - 1) / max_col_tiles};
  // Split further, along the dimension with the larger chunks, until every thread has the same number of
  // items (or no dimension can be split any more).
  while (grid.items() % threads != 0 || grid.items() < threads) {
    const bool rows_splittable = grid.row_chunks < row_tiles, cols_splittable = grid.col_chunks < col_tiles;
    if (!rows_splittable && !cols_splittable) break;
    const bool split_rows = rows_splittable && (!cols_splittable || row_tiles * grid.col_chunks >=
                                                                        col_tiles * grid.row_chunks);
    if (split_rows) {
      ++grid.row_chunks;
    } else {
      ++grid.col_chunks;
    }
  }
  return grid;
}

int threads_for(Index m, Index n, Index k, int max_threads) {
  if (omp_in_parallel()) return 1;
  const double fmas = double(m) * double(n) * double(k);
  const int available = max_threads > 0 ? std::min(max_threads, omp_get_max_threads()) : omp_get_max_threads();
  return fmas >= double(kParallelMinFmas) ? std::max(1, available) : 1;
}

// ---------------------------------------------------------------------------------------------------------
template <typename T>
struct Problem {
  Transpose transpose_a, transpose_b;
  Index m, n, k;
  T alpha;
  const T* a;
  Index lda;
  const T* b;
  Index ldb;
  T beta;
  T* c;
  Index ldc;
  int max_threads;  // 0: every OpenMP thread
};

// Whether rows `stride` elements apart, read kc at a time, each sit on their own page: in place, every step p
// of the micro-kernel would then touch a new page and miss the first-level TLB (72+ entries), so such
// operands are packed. Up to kShortDepth rows (the network's k = batch 64, k = 50) stay within the TLB.
constexpr Index kFarRowBytes = 4096;
constexpr Index kShortDepth = 64;
template <typename T>
bool rows_far_apart(Index stride, Index kc) {
  return stride * Index(sizeof(T)) >= kFarRowBytes && kc > kShortDepth;
}

// Distance between consecutive packed micro-panels of A (8 x kc) and of B (kc x 48). A 64-byte pad keeps
// them off multiples of 4 KiB: unpadded, kc = 128 puts every A micro-panel (and kc = 64k every B panel) at
// the same 4 KiB offset, so the packing's stores all land in one L1 set and evict each other.
constexpr Index kPackPadBytes = 64;
template <typename T>
Index packed_tile_step(Index kc) {
  return kTileRows * kc + kPackPadBytes / Index(sizeof(T));
}
template <typename T>
Index packed_panel_step(Index kc) {
  return kTileCols<T> * kc + kPackPadBytes / Index(sizeof(T));
}

// Packing reads short row segments (a few KiB) far apart, which the hardware prefetcher barely learns before
// each segment ends; fetching the segment a few rows ahead keeps enough memory requests in flight.
constexpr Index kPrefetchRowsAhead = 4;
template <typename T>
inline void prefetch_row(const T* row, Index count, bool wanted) {
  if (!wanted) return;
  constexpr Index kLine = 64 / Index(sizeof(T));
  for (Index i = 0; i < count; i += kLine) __builtin_prefetch(row + i);
}

// Copies A's rows [i_begin, i_end) x depths [0, kc) (op(A) = A^T, stored k x m) into 8-row micro-panels
// buf[tile * MR * kc + p * MR + r], so the micro-kernel reads them with a_row = 1, a_depth = MR.
template <typename T>
void pack_a_transposed(const T* a, Index lda, Index rows, Index kc, T* buf) {
  for (Index p = 0; p < kc; ++p) {
    const T* src = a + p * lda;
    prefetch_row(src + kPrefetchRowsAhead * lda, rows, p + kPrefetchRowsAhead < kc);
    for (Index i0 = 0; i0 < rows; i0 += kTileRows) {
      const Index count = std::min<Index>(kTileRows, rows - i0);
      T* dst = buf + (i0 / kTileRows) * packed_tile_step<T>(kc) + p * kTileRows;
      if (count == kTileRows) {
        std::copy_n(src + i0, kTileRows, dst);  // fixed length: one vector move
      } else {
        std::copy_n(src + i0, count, dst);
      }
    }
  }
}

// Packs op(B)'s rows [0, kc) x columns [0, width) into micro-panels buf[q * step + p * stride_q + j] with
// stride_q = NR for full panels and the last panel's vector count times L for it (zero-padded), reading each
// row of B in order so that the hardware prefetcher follows (a panel at a time would hop between pages).
template <typename T>
void pack_b_block(const Problem<T>& pr, const T* b, Index kc, Index width, T* buf) {
  constexpr Index L = kLanes<T>, NR = kTileCols<T>;
  const Index step = packed_panel_step<T>(kc);
  const Index full_panels = width / NR, tail = width - full_panels * NR;
  const Index tail_stride = (tail + L - 1) / L * L;
  if (pr.transpose_b == Transpose::No) {
    for (Index p = 0; p < kc; ++p) {
      const T* src = b + p * pr.ldb;
      prefetch_row(src + kPrefetchRowsAhead * pr.ldb, width, p + kPrefetchRowsAhead < kc);
      for (Index q = 0; q < full_panels; ++q) std::copy_n(src + q * NR, NR, buf + q * step + p * NR);
      if (tail > 0) {
        T* dst = buf + full_panels * step + p * tail_stride;
        std::copy_n(src + full_panels * NR, tail, dst);
        std::fill(dst + tail, dst + tail_stride, T(0));
      }
    }
  } else {
    for (Index q = 0; q < full_panels; ++q) pack_transposed(b + q * NR * pr.ldb, pr.ldb, kc, NR, NR, buf + q * step);
    if (tail > 0) {
      pack_transposed(b + full_panels * NR * pr.ldb, pr.ldb, kc, tail, tail_stride, buf + full_panels * step);
    }
  }
}

// The last n mod L columns when op(A) = A (n = 50 leaves 2): as a vector along n they would be mostly
// padding, so each of these C elements is instead a dot product along k, where A's rows and B's columns
// (packed, or in place for op(B) = B^T) are contiguous. Which columns take this path depends only on n.
// Only for products at least kDotTailMinProductDepth deep: with a short k (im2col's input gradient, k = F
// = 50) each dot tile is mostly horizontal sums and zero-padded tail copies, and the tail columns go faster
// through the outer-product kernel on a zero-padded packed panel.
constexpr Index kDotTailMinDepth = 32;
// How far ahead (in rows of A: two row tiles) a streaming dot tail asks for A's lines (8, 16 and 32 measured
// alike; docs/performance.md).
constexpr Index kDotStreamAheadRows = 8;
constexpr Index kDotTailMinProductDepth = 128;
template <typename T>
void dot_tail(const Problem<T>& pr, Index p0, Index kc, Index i_begin, Index i_end, Index j0, Index cols, T beta,
              T* buffer) {
  const T* columns = pr.b + j0 * pr.ldb + p0;
  Index column_stride = pr.ldb;
  if (pr.transpose_b == Transpose::No) {
    for (Index p = 0; p < kc; ++p) {
      const T* src = pr.b + (p0 + p) * pr.ldb + j0;
      for (Index c = 0; c < cols; ++c) buffer[c * kc + p] = src[c];
    }
    columns = buffer;
    column_stride = kc;
  }
  // When the product's few columns (n <= kDotCols: Winograd's products at batch 1 have n = 4 tiles) are all tail
  // columns, each row tile is one kernel call and A is read once, at n FMAs an element: the product streams it,
  // and its rows are asked for ahead of the tiles.
  const bool stream_a = cols == pr.n && cols <= kDotCols && kc >= kDotTailMinProductDepth;
  for (Index i0 = i_begin; i0 < i_end; i0 += kDotRows) {
    const Index rows = std::min<Index>(kDotRows, i_end - i0);
    const Index ahead_row = i0 + kDotStreamAheadRows;
    const T* ahead = stream_a && ahead_row + rows <= i_end ? pr.a + ahead_row * pr.lda + p0 : nullptr;
    for (Index c0 = 0; c0 < cols; c0 += kDotCols) {
      dot_kernel_for<T>(rows, std::min<Index>(kDotCols, cols - c0))(
          kc, pr.a + i0 * pr.lda + p0, pr.lda, columns + c0 * column_stride, column_stride,
          pr.c + i0 * pr.ldc + j0 + c0, pr.ldc, pr.alpha, beta, ahead);
    }
  }
}

// The last n mod L columns when op(A) = A^T and op(B) = B (the dense weight gradient X^T dY: n = 50
// leaves 2). A vector along n would be mostly padding (the 8 x 1-vector tile spent a quarter of that
// product's time on 2 of its 50 columns); here vectors run along C's rows instead, which are contiguous
// in A (stored k x m), each broadcast B element feeding kColumnTailRowVectors FMAs. Every row, including
// those a work item's edge leaves over, goes through the same block arithmetic, so the thread count
// changes no bit.
constexpr int kColumnTailRowVectors = 6;
constexpr int kColumnTailMaxColumns = 3;
template <typename T, int NC>
void column_tail_block(Index kc, const T* a, Index lda, const T* b, Index ldb, T* c, Index ldc, T alpha, T beta) {
  constexpr int L = kLanes<T>, RV = kColumnTailRowVectors;
  Vec<T> acc[NC][RV];
#pragma GCC unroll 3
  for (int q = 0; q < NC; ++q)
#pragma GCC unroll 6
    for (int v = 0; v < RV; ++v) acc[q][v] = Vec<T>(T(0));
  for (Index p = 0; p < kc; ++p) {
    Vec<T> av[RV];
#pragma GCC unroll 6
    for (int v = 0; v < RV; ++v) av[v] = Vec<T>::load_unaligned(a + p * lda + v * L);
#pragma GCC unroll 3
    for (int q = 0; q < NC; ++q) {
      const Vec<T> bv(b[p * ldb + q]);
#pragma GCC unroll 6
      for (int v = 0; v < RV; ++v) acc[q][v] = xsimd::fma(av[v], bv, acc[q][v]);
    }
  }
  // C's column is strided: element by element, with the scalar remainder's epilogue.
  for (int q = 0; q < NC; ++q) {
    for (int v = 0; v < RV; ++v) {
      alignas(64) T sums[L];
      acc[q][v].store_aligned(sums);
      for (int l = 0; l < L; ++l) {
        T& out = c[(v * L + l) * ldc + q];
        T value = alpha * sums[l];
        if (beta != T(0)) value = std::fma(beta, out, value);
        out = value;
      }
    }
  }
}

template <typename T>
void column_tail(const Problem<T>& pr, Index p0, Index kc, Index i_begin, Index i_end, Index j0, Index cols, T beta) {
  constexpr Index rows_per_block = Index(kColumnTailRowVectors) * kLanes<T>;
  using Block = void (*)(Index, const T*, Index, const T*, Index, T*, Index, T, T);
  static constexpr Block blocks[kColumnTailMaxColumns] = {&column_tail_block<T, 1>, &column_tail_block<T, 2>,
                                                          &column_tail_block<T, 3>};
  Index i = i_begin;
  for (; i + rows_per_block <= i_end; i += rows_per_block) {
    for (Index q = 0; q < cols; q += kColumnTailMaxColumns) {
      blocks[std::min<Index>(kColumnTailMaxColumns, cols - q) - 1](kc, pr.a + p0 * pr.lda + i, pr.lda,
                                                                   pr.b + p0 * pr.ldb + j0 + q, pr.ldb,
                                                                   pr.c + i * pr.ldc + j0 + q, pr.ldc, pr.alpha, beta);
    }
  }
  if (i == i_end) return;
  // The rows left over (fewer than a block) go through the same block kernel on zero-padded copies: which
  // rows are left over depends on the work split, and a scalar loop would round differently wherever
  // xsimd's fma is not fused (AVX-512 without contraction, as in the sanitizer build).
  const Index rows = i_end - i;
  thread_local AlignedBuffer<T> a_copy, c_copy;
  a_copy.resize(std::size_t(kc * rows_per_block));
  c_copy.resize(std::size_t(rows_per_block * kColumnTailMaxColumns));
  for (Index p = 0; p < kc; ++p) {
    const T* source = pr.a + (p0 + p) * pr.lda + i;
    T* row = a_copy.data() + p * rows_per_block;
    std::copy_n(source, rows, row);
    std::fill(row + rows, row + rows_per_block, T(0));
  }
  for (Index q = 0; q < cols; q += kColumnTailMaxColumns) {
    const Index group = std::min<Index>(kColumnTailMaxColumns, cols - q);
    for (Index r = 0; r < rows_per_block; ++r)
      for (Index g = 0; g < group; ++g) c_copy.data()[r * group + g] = r < rows ? pr.c[(i + r) * pr.ldc + j0 + q + g] : T(0);
    blocks[group - 1](kc, a_copy.data(), rows_per_block, pr.b + p0 * pr.ldb + j0 + q, pr.ldb, c_copy.data(), group,
                      pr.alpha, beta);
    for (Index r = 0; r < rows; ++r)
      for (Index g = 0; g < group; ++g) pr.c[(i + r) * pr.ldc + j0 + q + g] = c_copy.data()[r * group + g];
  }
}

// Columns [j_begin, j_end) of C are cut into micro-panels of at most kTileVectors vectors; with op(B) = B,
// full-vector panels are read in place (when near enough) and only a last partial vector is packed.
template <typename T>
void outer_item(const Problem<T>& pr, Index i_begin, Index i_end, Index j_begin, Index j_end, T* panel_buffer,
                T* a_buffer, T* b_buffer) {
  constexpr Index L = kLanes<T>;
  for (Index p0 = 0; p0 < pr.k; p0 += kDepthBlock) {
    const Index kc = std::min(kDepthBlock, pr.k - p0);
    const T beta = p0 == 0 ? pr.beta : T(1);
    const T* a_block;
    Index a_row, a_depth, a_tile_step;  // a_tile_step: distance between consecutive 8-row tiles
    if (pr.transpose_a == Transpose::No) {
      a_block = pr.a + i_begin * pr.lda + p0;
      a_row = pr.lda, a_depth = 1, a_tile_step = kTileRows * pr.lda;
    } else if (!rows_far_apart<T>(pr.lda, kc)) {
      a_block = pr.a + p0 * pr.lda + i_begin;
      a_row = 1, a_depth = pr.lda, a_tile_step = kTileRows;
    } else {
      pack_a_transposed(pr.a + p0 * pr.lda + i_begin, pr.lda, i_end - i_begin, kc, a_buffer);
      a_block = a_buffer;
      a_row = 1, a_depth = kTileRows, a_tile_step = packed_tile_step<T>(kc);
    }
    const bool pack_every_panel = pr.transpose_b == Transpose::Yes || rows_far_apart<T>(pr.ldb, kc);
    if (pack_every_panel) {
      const T* b_block = pr.transpose_b == Transpose::No ? pr.b + p0 * pr.ldb + j_begin : pr.b + j_begin * pr.ldb + p0;
      pack_b_block(pr, b_block, kc, j_end - j_begin, b_buffer);
    }
    for (Index j0 = j_begin; j0 < j_end;) {
      const Index remaining = j_end - j0;
      Index width, vectors;
      const T* panel;
      Index panel_depth;
      if (remaining < L && pr.transpose_a == Transpose::No && kc >= kDotTailMinDepth &&
          pr.k >= kDotTailMinProductDepth) {
        dot_tail(pr, p0, kc, i_begin, i_end, j0, remaining, beta, panel_buffer);
        break;
      }
      if (remaining < L && pr.transpose_a == Transpose::Yes && pr.transpose_b == Transpose::No) {
        column_tail(pr, p0, kc, i_begin, i_end, j0, remaining, beta);
        break;
      }
      if (pack_every_panel) {
        vectors = std::min<Index>(kTileVectors, (remaining + L - 1) / L);
        width = std::min(remaining, vectors * L);
        panel_depth = vectors * L;
        panel = b_buffer + (j0 - j_begin) / kTileCols<T> * packed_panel_step<T>(kc);
      } else if (remaining >= L) {
        vectors = std::min<Index>(kTileVectors, remaining / L);
        width = vectors * L;
        panel = pr.b + p0 * pr.ldb + j0;
        panel_depth = pr.ldb;
      } else {
        vectors = std::min<Index>(kTileVectors, (remaining + L - 1) / L);
        width = std::min(remaining, vectors * L);
        panel_depth = vectors * L;
        pack_rows(pr.b + p0 * pr.ldb + j0, pr.ldb, kc, width, panel_depth, panel_buffer);
        panel = panel_buffer;
      }
      const T* a_tile = a_block;
      for (Index i0 = i_begin; i0 < i_end; i0 += kTileRows, a_tile += a_tile_step) {
        const Index rows = std::min<Index>(kTileRows, i_end - i0);
        outer_kernel_for<T>(rows, vectors)(kc, a_tile, a_row, a_depth, panel, panel_depth, pr.c + i0 * pr.ldc + j0,
                                           pr.ldc, width, pr.alpha, beta);
      }
      j0 += width;
    }
  }
}

template <typename T>
void outer_product_gemm(const Problem<T>& pr) {
  const Index row_tiles = (pr.m + kTileRows - 1) / kTileRows;
  const Index col_tiles = (pr.n + kTileCols<T> - 1) / kTileCols<T>;
  const int threads = threads_for(pr.m, pr.n, pr.k, pr.max_threads);
  const Grid grid = make_grid(row_tiles, col_tiles, kRowBlock<T> / kTileRows, kColBlock<T> / kTileCols<T>, threads);
  parallel_for(grid.items(), threads, Schedule::even, [&](Index item, Index) {
    // Kept across calls, so steady-state calls touch no fresh pages.
    thread_local AlignedBuffer<T> panel_buffer, a_buffer, b_buffer;
    panel_buffer.resize(std::size_t(kDepthBlock * kTileCols<T>));
    a_buffer.resize(std::size_t(kRowBlock<T> / kTileRows * packed_tile_step<T>(kDepthBlock)));
    b_buffer.resize(std::size_t((kColBlock<T> / kTileCols<T> + 1) * packed_panel_step<T>(kDepthBlock)));
    const auto [row_first, row_last] = Grid::range(row_tiles, grid.row_chunks, item % grid.row_chunks);
    const auto [col_first, col_last] = Grid::range(col_tiles, grid.col_chunks, item / grid.row_chunks);
    outer_item(pr, row_first * kTileRows, std::min(pr.m, row_last * kTileRows), col_first * kTileCols<T>,
               std::min(pr.n, col_last * kTileCols<T>), panel_buffer.data(), a_buffer.data(),
               b_buffer.data());
  });
}

template <typename T>
void dot_product_gemm(const Problem<T>& pr) {
  const Index row_tiles = (pr.m + kDotRows - 1) / kDotRows;
  const Index col_tiles = (pr.n + kDotCols - 1) / kDotCols;
  const int threads = threads_for(pr.m, pr.n, pr.k, pr.max_threads);
  const Grid grid = make_grid(row_tiles, col_tiles, row_tiles, kDotColBlock<T> / kDotCols, threads);
  parallel_for(grid.items(), threads, Schedule::even, [&](Index item, Index) {
    const auto [row_first, row_last] = Grid::range(row_tiles, grid.row_chunks, item % grid.row_chunks);
    const auto [col_first, col_last] = Grid::range(col_tiles, grid.col_chunks, item / grid.row_chunks);
    const Index i_end = std::min(pr.m, row_last * kDotRows), j_end = std::min(pr.n, col_last * kDotCols);
    for (Index p0 = 0; p0 < pr.k; p0 += kDotDepthBlock<T>) {
      const Index kc = std::min(kDotDepthBlock<T>, pr.k - p0);
      const T beta = p0 == 0 ? pr.beta : T(1);
      for (Index i0 = row_first * kDotRows; i0 < i_end; i0 += kDotRows) {
        const Index rows = std::min<Index>(kDotRows, i_end - i0);
        for (Index j0 = col_first * kDotCols; j0 < j_end; j0 += kDotCols) {
          const Index cols = std::min<Index>(kDotCols, j_end - j0);
          dot_kernel_for<T>(rows, cols)(kc, pr.a + i0 * pr.lda + p0, pr.lda, pr.b + j0 * pr.ldb + p0, pr.ldb,
                                        pr.c + i0 * pr.ldc + j0, pr.ldc, pr.alpha, beta, nullptr);
        }
      }
    }
  });
}

// C = beta * C, with beta == 0 writing zeros (the product term vanishes when alpha == 0 or k == 0).
template <typename T>
void scale_c(Index m, Index n, T beta, T* c, Index ldc) {
  for (Index i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    for (Index j = 0; j < n; ++j) row[j] = beta == T(0) ? T(0) : beta * row[j];
  }
}

void check_arguments(Transpose transpose_a, Transpose transpose_b, Index m, Index n, Index k, const void* a,
                     Index lda, const void* b, Index ldb, const void* c, Index ldc) {
  const auto fail = [](const std::string& what) { throw std::invalid_argument("gemm.cpp: " + what); };
  if (m < 0 || n < 0 || k < 0) fail("negative matrix dimension");
  const Index a_cols = transpose_a == Transpose::No ? k : m;
  const Index b_cols = transpose_b == Transpose::No ? n : k;
  if (lda < std::max<Index>(1, a_cols)) fail("lda " + std::to_string(lda) + " is smaller than A's row length");
  if (ldb < std::max<Index>(1, b_cols)) fail("ldb " + std::to_string(ldb) + " is smaller than B's row length");
  if (ldc < std::max<Index>(1, n)) fail("ldc " + std::to_string(ldc) + " is smaller than n");
  if (m > 0 && n > 0 && !c) fail("C is null");
  if (m > 0 && n > 0 && k > 0 && (!a || !b)) fail("A or B is null");
}

}  // namespace

template <typename T>
void gemm(Transpose transpose_a, Transpose transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc, int max_threads) {
  check_arguments(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, c, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const Problem<T> problem{transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, max_threads};
  if (transpose_a == Transpose::No && transpose_b == Transpose::Yes && k >= kDotMinDepth && n < 2 * kLanes<T>) {
    dot_product_gemm(problem);
  } else {
    outer_product_gemm(problem);
  }
}

namespace {
// The last n mod L columns of gemm_packed_a, one column at a time: the rows of up to kTailPanels packed panels
// side by side (independent chains, so the multiply-adds are not held up by one chain's latency), each
// element's sum a single chain over the block's k in order, as the outer kernel sums each lane (fused where the
// build's vector multiply-add is). `accumulate`: C += the block's sums (later k blocks).
constexpr Index kTailPanels = 8;
template <typename T>
void packed_column_tail(Index m, Index kc, Index k, const T* a, const T* b, Index ldb, T* c, Index ldc, Index cols,
                        bool accumulate) {
  constexpr Index R = kTileRows;
  using Row = xsimd::make_sized_batch_t<T, std::size_t(R)>;  // a panel's rows at one depth; void where no such vector
  for (Index j = 0; j < cols; ++j) {
    for (Index i0 = 0; i0 < m; i0 += kTailPanels * R) {
      const Index panels = std::min(kTailPanels, (m - i0 + R - 1) / R);
      alignas(64) T sums[kTailPanels][R];
      if constexpr (std::is_void_v<Row>) {
        for (Index g = 0; g < panels; ++g) {
          std::fill_n(sums[g], R, T(0));
          for (Index p = 0; p < kc; ++p)
            for (Index r = 0; r < R; ++r)
              sums[g][r] = std::fma(a[(i0 + g * R) * k + p * R + r], b[p * ldb + j], sums[g][r]);
        }
      } else {
        // Always kTailPanels chains, the ones past the last panel repeating it (computed, never stored).
        const T* rows[kTailPanels];
        Row acc[kTailPanels];
#pragma GCC unroll 8
        for (Index g = 0; g < kTailPanels; ++g) {
          rows[g] = a + (i0 + std::min(g, panels - 1) * R) * k;
          acc[g] = Row(T(0));
        }
        for (Index p = 0; p < kc; ++p) {
          const Row x(b[p * ldb + j]);
#pragma GCC unroll 8
          for (Index g = 0; g < kTailPanels; ++g) acc[g] = xsimd::fma(Row::load_unaligned(rows[g] + p * R), x, acc[g]);
        }
#pragma GCC unroll 8
        for (Index g = 0; g < kTailPanels; ++g) acc[g].store_aligned(sums[g]);
      }
      for (Index i = i0; i < std::min(m, i0 + kTailPanels * R); ++i) {
        T& out = c[i * ldc + j];
        const T sum = sums[(i - i0) / R][(i - i0) % R];
        out = accumulate ? out + sum : sum;
      }
    }
  }
}
}  // namespace

template <typename T>
void gemm_packed_a(Index m, Index n, Index k, const T* packed_a, const T* b, Index ldb, T* c, Index ldc) {
  static_assert(kGemmPackedRows == kTileRows, "a packed panel is one row tile of the outer kernel");
  check_arguments(Transpose::No, Transpose::No, m, n, k, packed_a, std::max<Index>(1, k), b, ldb, c, ldc);
  if (ldb * Index(sizeof(T)) >= kFarRowBytes)
    throw std::invalid_argument("gemm.cpp: gemm_packed_a reads B in place: its rows must lie less than a page apart");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    scale_c(m, n, T(0), c, ldc);
    return;
  }
  constexpr Index L = kLanes<T>;
  const Index vector_columns = n / L * L;
  for (Index p0 = 0; p0 < k; p0 += kDepthBlock) {
    const Index kc = std::min(kDepthBlock, k - p0);
    const T beta = p0 == 0 ? T(0) : T(1);
    for (Index j0 = 0; j0 < vector_columns;) {
      const Index vectors = std::min<Index>(kTileVectors, (vector_columns - j0) / L);
      for (Index i0 = 0; i0 < m; i0 += kTileRows) {
        outer_kernel_for<T, true>(std::min<Index>(kTileRows, m - i0), vectors)(
            kc, packed_a + i0 * k + p0 * kTileRows, 1, kTileRows, b + p0 * ldb + j0, ldb, c + i0 * ldc + j0, ldc,
            vectors * L, T(1), beta);
      }
      j0 += vectors * L;
    }
    if (vector_columns < n)
      packed_column_tail(m, kc, k, packed_a + p0 * kTileRows, b + p0 * ldb + vector_columns, ldb, c + vector_columns,
                         ldc, n - vector_columns, p0 > 0);
  }
}

template void gemm_packed_a<float>(Index, Index, Index, const float*, const float*, Index, float*, Index);
template void gemm_packed_a<double>(Index, Index, Index, const double*, const double*, Index, double*, Index);

template void gemm<float>(Transpose, Transpose, Index, Index, Index, float, const float*, Index, const float*, Index,
                          float, float*, Index, int);
template void gemm<double>(Transpose, Transpose, Index, Index, Index, double, const double*, Index, const double*,
                           Index, double, double*, Index, int);

}  // namespace convlab
