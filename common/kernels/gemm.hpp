// The shared matrix product for dense layers and im2col (row-major, BLAS-like arguments).
//
//   C = alpha * op(A) * op(B) + beta * C,   op(A) is m x k, op(B) is k x n, C is m x n
// With beta == 0, C is overwritten and its old contents (even NaN) are ignored; with alpha == 0 or k == 0,
// A and B are not read. No alignment is required; lda/ldb/ldc must be at least the stored row lengths
// (std::invalid_argument otherwise). Blocked and vectorised (see gemm.cpp), using OpenMP threads for calls
// of about a million multiply-adds or more (one thread inside an enclosing parallel region).
// Deterministic: the order in which each C element's k products are summed depends only on the shape and
// transpose flags (k blocks, vector lanes), never on the thread count, so 1 and 2 threads give
// bitwise-identical results. Its rounding error is within the usual gamma_k bound of any summation order.
#pragma once

#include "common/tensor/strided_view.hpp"

namespace convlab {

enum class Transpose { No, Yes };

// max_threads > 0 caps the threads it may use (1: the calling thread only), as a caller that has just
// written B on its own thread may want: another core reading B would first fetch it from this one's cache.
template <typename T>
void gemm(Transpose transpose_a, Transpose transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc, int max_threads = 0);

// Products that share one A over many calls (Winograd's transformed weights) may keep it packed: panels of
// kGemmPackedRows rows, panel i holding rows [8i, 8i + 8) as [depth][row] (gemm_packed_a_offset), so the
// kernel reads each panel as one stream where rows lda apart would be eight short ones.
constexpr Index kGemmPackedRows = 8;
constexpr Index gemm_packed_a_offset(Index row, Index depth, Index k) {
  return row / kGemmPackedRows * kGemmPackedRows * k + depth * kGemmPackedRows + row % kGemmPackedRows;
}
constexpr Index gemm_packed_a_elements(Index m, Index k) {
  return (m + kGemmPackedRows - 1) / kGemmPackedRows * kGemmPackedRows * k;
}
// C (m x n) = A B on the calling thread: A (m x k) packed as above, gemm_packed_a_elements(m, k) of them from a
// panel's first row (the last panel's rows past m may hold anything: they reach no element of C); B (k x n) read in place, its rows ldb apart less than a 4 KiB page (else
// std::invalid_argument). Every element of C is one chain of multiply-adds over k in order, reloaded per
// k block as in gemm: its whole-vector columns are the bits gemm(No, No) gives on the unpacked A, and its last n
// mod L columns are summed in the same order (where gemm's dot-product tail sums them lane by lane).
template <typename T>
void gemm_packed_a(Index m, Index n, Index k, const T* packed_a, const T* b, Index ldb, T* c, Index ldc);

}  // namespace convlab
