// The shared matrix product for dense layers and im2col (row-major, BLAS-like arguments).
//
//   C = alpha * op(A) * op(B) + beta * C,   op(A) is m x k, op(B) is k x n, C is m x n
// With beta == 0, C is overwritten and its old contents (even NaN) are ignored.
// Deterministic: each C element is summed over k in increasing order whatever the thread count, so 1 and
// 2 threads give bitwise-identical results.
#pragma once

#include "common/strided_view.hpp"

namespace convlab {

enum class Transpose { No, Yes };

template <typename T>
void gemm(Transpose transpose_a, Transpose transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc);

}  // namespace convlab
