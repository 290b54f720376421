#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <vector>
#include <algorithm>
using Index = long;
template <typename T>
__attribute__((noinline,optimize("no-tree-loop-distribute-patterns"))) void copy_old(const T* source, Index channels, Index rows, Index cols, Index top, Index left, Index padded_rows, Index padded_cols, T* dest) {
  const Index right = left + cols;
  for (Index c = 0; c < channels; ++c) {
    const T* in = source + c * rows * cols;
    T* out = dest + c * padded_rows * padded_cols;
    for (Index e = 0; e < top * padded_cols; ++e) out[e] = T(0);
    for (Index r = 0; r < rows; ++r) {
      T* row = out + (top + r) * padded_cols;
      const T* from = in + r * cols;
      for (Index j = 0; j < padded_cols; ++j) row[j] = j >= left && j < right ? from[j - left] : T(0);
    }
    for (Index e = (top + rows) * padded_cols; e < padded_rows * padded_cols; ++e) out[e] = T(0);
  }
}
template <typename T>
__attribute__((always_inline,optimize("no-tree-loop-distribute-patterns"))) inline void copy_run(const T* from, Index count, T* to) {
  constexpr Index kChunk = 64 / Index(sizeof(T));
  if (count < kChunk) { for (Index j = 0; j < count; ++j) to[j] = from[j]; return; }
  for (Index j = 0;; j += kChunk) { const Index at = std::min(j, count - kChunk);
    for (Index k = 0; k < kChunk; ++k) to[at + k] = from[at + k];
    if (at == count - kChunk) return; }
}
template <typename T>
__attribute__((always_inline,optimize("no-tree-loop-distribute-patterns"))) inline void zero_run(Index count, T* to) {
  constexpr Index kChunk = 64 / Index(sizeof(T));
  if (count < kChunk) { for (Index j = 0; j < count; ++j) to[j] = T(0); return; }
  for (Index j = 0;; j += kChunk) { const Index at = std::min(j, count - kChunk);
    for (Index k = 0; k < kChunk; ++k) to[at + k] = T(0);
    if (at == count - kChunk) return; }
}
template <typename T>
__attribute__((noinline,optimize("no-tree-loop-distribute-patterns"))) void copy_chunk(const T* source, Index channels, Index rows, Index cols, Index top, Index left, Index padded_rows, Index padded_cols, T* dest) {
  const Index gap = padded_cols - cols, plane = padded_rows * padded_cols;
  for (Index c = 0; c < channels; ++c) {
    const T* in = source + c * rows * cols; T* out = dest + c * plane;
    const Index lead = top * padded_cols + left; zero_run(lead, out); T* row = out + lead;
    for (Index r = 0; r < rows; ++r, row += padded_cols) { copy_run(in + r * cols, cols, row);
      zero_run(r + 1 < rows ? gap : plane - (lead + r * padded_cols + cols), row + cols); }
  }
}
// masked: each padded row built from masked loads (lanes outside the row's values read as zero, not faulting)
__attribute__((noinline)) void copy_mask(const float* source, Index channels, Index rows, Index cols, Index top, Index left, Index padded_rows, Index padded_cols, float* dest) {
  const Index plane = padded_rows * padded_cols, chunks = (padded_cols + 15) / 16;
  const Index total = channels * plane;
  // dest written as rows of padded_cols; chunk k of a row covers [16k, 16k+16) ∩ [0, padded_cols)
  __mmask16 load_mask[64], store_mask[64];  // up to 1024 padded columns
  for (Index k = 0; k < chunks; ++k) {
    unsigned lm = 0, sm = 0;
    for (Index l = 0; l < 16; ++l) { Index j = 16 * k + l; if (j < padded_cols) { sm |= 1u << l; if (j >= left && j < left + cols) lm |= 1u << l; } }
    load_mask[k] = lm; store_mask[k] = sm;
  }
  const __m512 zero = _mm512_setzero_ps();
  for (Index c = 0; c < channels; ++c) {
    const float* in = source + c * rows * cols; float* out = dest + c * plane;
    for (Index r = 0; r < padded_rows; ++r) {
      float* row = out + r * padded_cols;
      const Index sr = r - top;
      if (sr < 0 || sr >= rows) { for (Index k = 0; k < chunks; ++k) _mm512_mask_storeu_ps(row + 16 * k, store_mask[k], zero); continue; }
      const float* from = in + sr * cols - left;
      for (Index k = 0; k < chunks; ++k) _mm512_mask_storeu_ps(row + 16 * k, store_mask[k], _mm512_maskz_loadu_ps(load_mask[k], from + 16 * k));
    }
  }
  (void)total;
}
template <class F> double timeit(F f) { double best = 1e9; for (int rep = 0; rep < 7; ++rep) { auto t0 = std::chrono::steady_clock::now(); for (int i = 0; i < 200; ++i) f(); double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 200; best = std::min(best, t);} return best * 1e6; }
int main() {
  struct S { Index c, h, w, p; const char* name; } shapes[] = {{17,30,30,1,"c17"},{24,47,35,1,"s2_47x35"},{512,14,14,2,"inc48"},{192,28,28,2,"inc32"},{20,24,24,1,"pad3x3"},{50,20,20,4,"conv2_s1 dy"},{64,56,56,1,"res2a"},{33,19,19,1,"c33"},{1,48,480,1,"ocr"}};
  for (auto s : shapes) {
    Index ph = s.h + 2 * s.p, pw = s.w + 2 * s.p;
    std::vector<float> in(s.c * s.h * s.w + 64), a(s.c * ph * pw + 64), b(a.size()), m(a.size());
    for (size_t i = 0; i < in.size(); ++i) in[i] = float(i % 97) + 1;
    double t0 = timeit([&]{ copy_old(in.data(), s.c, s.h, s.w, s.p, s.p, ph, pw, a.data()); });
    double t1 = timeit([&]{ copy_chunk(in.data(), s.c, s.h, s.w, s.p, s.p, ph, pw, b.data()); });
    double t2 = timeit([&]{ copy_mask(in.data(), s.c, s.h, s.w, s.p, s.p, ph, pw, m.data()); });
    bool ok = std::equal(a.begin(), a.begin() + s.c*ph*pw, b.begin()) && std::equal(a.begin(), a.begin() + s.c*ph*pw, m.begin());
    printf("%-12s old %7.2f us  chunk %7.2f  mask %7.2f  (%s) GB/s old %.1f chunk %.1f mask %.1f\n", s.name, t0, t1, t2, ok?"same":"DIFFER", s.c*ph*pw*4/t0/1e3, s.c*ph*pw*4/t1/1e3, s.c*ph*pw*4/t2/1e3);
  }
}
