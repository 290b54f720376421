// The simd kernels instantiated for AVX2 + FMA; this file is compiled with that arch's flags alone
// (see impls/simd/CMakeLists.txt), so it is the only place avx2 code comes from.
#include "impls/simd/simd_kernels_impl.hpp"

namespace convlab::simd {

const KernelTable& kernel_table_avx2() {
  static constexpr KernelTable table = make_kernel_table<xsimd::fma3<xsimd::avx2>>(Arch::avx2, CONVLAB_IMPL_BUILD_FLAGS);
  return table;
}

}  // namespace convlab::simd
