// a * b + c with one rounding on every arch that has FMA, for the per-arch kernel files (simd_kernels_impl.hpp,
// blocked_kernels_impl.hpp). xsimd 8.1 has no AVX-512 fma: it falls back to a * b + c and leaves the fusing to
// the compiler, which does it only when both operators are inlined into one expression (not in the sanitizer
// build). The intrinsic makes it one rounding always, as on AVX2 (fma3); SSE2 has no FMA. Internal linkage, as
// everything compiled per arch: no instance built for one arch can stand in for another's.
#pragma once

#include <immintrin.h>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace convlab::simd {
namespace {

template <class Arch, typename T>
xsimd::batch<T, Arch> fused_multiply_add(const xsimd::batch<T, Arch>& a, const xsimd::batch<T, Arch>& b,
                                         const xsimd::batch<T, Arch>& c) {
  using Vec = xsimd::batch<T, Arch>;
  if constexpr (std::is_same_v<Arch, xsimd::avx512f> && std::is_same_v<T, float>) {
    return Vec(_mm512_fmadd_ps(a, b, c));
  } else if constexpr (std::is_same_v<Arch, xsimd::avx512f>) {
    return Vec(_mm512_fmadd_pd(a, b, c));
  } else {
    return xsimd::fma(a, b, c);
  }
}

}  // namespace
}  // namespace convlab::simd
