// Vectorised tanh, its backward pass and the row softmax (see activations.hpp).
//
// tanh uses xsimd::tanh (a rational approximation on |x| < 0.625 and 1 - 2 / (exp(2x) + 1) beyond, each
// a couple of ulp), so the 11520 activations of each image take a few vector instructions per 16 values.
// Large counts (a batch of 64 images is 737280 values) are split over OpenMP threads in chunks of whole
// vectors; the result of each element does not depend on the split.
#include "common/nn/activations.hpp"

#include "common/machine/parallel_for.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

// GCC 12 reports _mm512_undefined_* inside xsimd's exp as "may be used uninitialized" (GCC bug 105593,
// fixed in GCC 13); the pattern is intentional in the intrinsics headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <xsimd/xsimd.hpp>

namespace convlab {
namespace {

// Below this, a fork/join (a few microseconds) costs more than it saves.
constexpr Index kParallelMinCount = Index(1) << 16;

template <typename T>
using Vec = xsimd::batch<T>;

int threads_for(Index count) {
  return count >= kParallelMinCount ? available_threads() : 1;
}

// Runs body(begin, end) over [0, count) in chunks that start on whole vectors.
template <typename Body>
void for_chunks(Index count, Body body) {
  const int threads = threads_for(count);
  if (threads == 1) {
    body(Index(0), count);
    return;
  }
  constexpr Index kAlign = 64;  // elements; keeps each chunk's start on a vector boundary for float and double
#pragma omp parallel num_threads(threads)
  {
    const Index parts = omp_get_num_threads(), part = omp_get_thread_num();
    const Index begin = std::min(count, (count * part / parts) / kAlign * kAlign);
    const Index end = part + 1 == parts ? count : std::min(count, (count * (part + 1) / parts) / kAlign * kAlign);
    if (begin < end) body(begin, end);
  }
}

template <typename T>
void tanh_range(const T* in, T* out, Index begin, Index end) {
  constexpr Index L = Index(Vec<T>::size);
  Index i = begin;
  for (; i + L <= end; i += L) xsimd::tanh(Vec<T>::load_unaligned(in + i)).store_unaligned(out + i);
  if (i < end) {  // the same vector code on a padded copy, so the last few elements round like the others
    alignas(64) T tail[L] = {};
    std::copy(in + i, in + end, tail);
    xsimd::tanh(Vec<T>::load_aligned(tail)).store_aligned(tail);
    std::copy(tail, tail + (end - i), out + i);
  }
}

}  // namespace

template <typename T>
void tanh_forward(const T* in, T* out, Index count) {
  for_chunks(count, [&](Index begin, Index end) { tanh_range(in, out, begin, end); });
}

template <typename T>
void tanh_backward(const T* out, const T* out_grad, T* in_grad, Index count) {
  for_chunks(count, [&](Index begin, Index end) {
    // Plain loop: with aliasing allowed the compiler still vectorises it (checked at run time).
    for (Index i = begin; i < end; ++i) in_grad[i] = out_grad[i] * (T(1) - out[i] * out[i]);
  });
}

template <typename T>
void softmax_rows(const T* logits, T* probabilities, Index rows, Index cols) {
  if (cols <= 0) return;
  for (Index r = 0; r < rows; ++r) {
    const T* row = logits + r * cols;
    T* result = probabilities + r * cols;
    const T largest = *std::max_element(row, row + cols);
    T total = 0;
    for (Index c = 0; c < cols; ++c) total += (result[c] = std::exp(row[c] - largest));
    for (Index c = 0; c < cols; ++c) result[c] /= total;  // one rounding, unlike multiplying by 1 / total
  }
}

template void tanh_forward<float>(const float*, float*, Index);
template void tanh_forward<double>(const double*, double*, Index);
template void tanh_backward<float>(const float*, const float*, float*, Index);
template void tanh_backward<double>(const double*, const double*, double*, Index);
template void softmax_rows<float>(const float*, float*, Index, Index);
template void softmax_rows<double>(const double*, double*, Index, Index);

}  // namespace convlab
