// keep_in_register(v): the compiler must hold v in a vector register at this point (an empty asm that may
// change it), so the uses after it read that register. Left to itself GCC may instead fold a fresh load of v's
// memory into every FMA that uses it: in the planes weight-gradient blocks of three filters that ran at about half
// speed on Zen 4 (docs/performance.md). For the per-arch kernel files; internal linkage, as everything compiled per
// arch.
#pragma once

#include <xsimd/xsimd.hpp>

namespace convlab::simd {
namespace {

template <class Arch, typename T>
void keep_in_register(xsimd::batch<T, Arch>& v) {
  auto& reg = v.data;
  __asm__("" : "+v"(reg));
}

}  // namespace
}  // namespace convlab::simd
