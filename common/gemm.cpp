// Placeholder-free simple version: correct and deterministic; the blocked, vectorised version replaces it.
#include "common/gemm.hpp"

namespace convlab {

template <typename T>
void gemm(Transpose transpose_a, Transpose transpose_b, Index m, Index n, Index k, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc) {
  const auto A = [&](Index i, Index p) { return transpose_a == Transpose::No ? a[i * lda + p] : a[p * lda + i]; };
  const auto B = [&](Index p, Index j) { return transpose_b == Transpose::No ? b[p * ldb + j] : b[j * ldb + p]; };
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < m; ++i) {
    for (Index j = 0; j < n; ++j) {
      T sum = 0;
      for (Index p = 0; p < k; ++p) sum += A(i, p) * B(p, j);
      c[i * ldc + j] = beta == T(0) ? alpha * sum : alpha * sum + beta * c[i * ldc + j];
    }
  }
}

template void gemm<float>(Transpose, Transpose, Index, Index, Index, float, const float*, Index, const float*, Index,
                          float, float*, Index);
template void gemm<double>(Transpose, Transpose, Index, Index, Index, double, const double*, Index, const double*,
                           Index, double, double*, Index);

}  // namespace convlab
