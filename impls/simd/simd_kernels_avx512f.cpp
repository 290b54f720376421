// The simd kernels instantiated for AVX-512 F/DQ; this file is compiled with that arch's flags alone
// (see impls/simd/CMakeLists.txt), so it is the only place avx512f code comes from.
#include "impls/simd/simd_kernels_impl.hpp"

namespace convlab::simd {

const KernelTable& kernel_table_avx512f() {
  static constexpr KernelTable table = make_kernel_table<xsimd::avx512f>(Arch::avx512f, CONVLAB_IMPL_BUILD_FLAGS);
  return table;
}

}  // namespace convlab::simd
