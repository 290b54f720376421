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

}  // namespace convlab
