// Masked against plain AVX-512 loads streaming through L2 (512 KB), L3 (8 MB) and memory (256 MB): the sum of
// every float, four vectors per iteration, best of six rounds each. Build: g++ -O2 -march=native -o masked_loads
// masked_loads.cpp; run: ./masked_loads 65535 (all 16 lanes) or ./masked_loads 255 (8 lanes). Output: masked_loads.txt.
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
__attribute__((noinline)) float run(const float* p, long n, int masked, __mmask16 m) {
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps(), c = _mm512_setzero_ps(), d = _mm512_setzero_ps();
  if (masked) for (long i = 0; i < n; i += 64) { a = _mm512_add_ps(a, _mm512_maskz_loadu_ps(m, p + i)); b = _mm512_add_ps(b, _mm512_maskz_loadu_ps(m, p + i + 16)); c = _mm512_add_ps(c, _mm512_maskz_loadu_ps(m, p + i + 32)); d = _mm512_add_ps(d, _mm512_maskz_loadu_ps(m, p + i + 48)); }
  else for (long i = 0; i < n; i += 64) { a = _mm512_add_ps(a, _mm512_loadu_ps(p + i)); b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + 16)); c = _mm512_add_ps(c, _mm512_loadu_ps(p + i + 32)); d = _mm512_add_ps(d, _mm512_loadu_ps(p + i + 48)); }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}
int main(int argc, char** argv) {
  __mmask16 m = (__mmask16)std::atoi(argv[1]);
  for (long kb : {512L, 8192L, 262144L}) {
    long n = kb * 256; std::vector<float> v(n, 1.0f);
    double best[2] = {0, 0};
    long reps = 262144 / kb; if (reps < 1) reps = 1;
    for (int round = 0; round < 6; ++round) for (int masked : {0, 1}) {
      auto t0 = std::chrono::steady_clock::now(); float s = 0;
      for (long r = 0; r < reps; ++r) s += run(v.data(), n, masked, m);
      double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double gbs = double(n) * 4 * reps / sec / 1e9; if (gbs > best[masked]) best[masked] = gbs;
      if (s == 0.5f) std::printf("x");
    }
    std::printf("%ld KB: unmasked %.1f GB/s, masked(0x%x) %.1f GB/s\n", kb, best[0], unsigned(m), best[1]);
  }
}
