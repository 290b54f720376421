// The simd kernels instantiated for SSE2 only; this file is compiled with that arch's flags alone
// (see impls/simd/CMakeLists.txt), so it is the only place sse2 code comes from.
#include "impls/simd/simd_kernels_impl.hpp"

namespace convlab::simd {

const KernelTable& kernel_table_sse2() {
  static constexpr KernelTable table = make_kernel_table<xsimd::sse2>(Arch::sse2, CONVLAB_IMPL_BUILD_FLAGS);
  return table;
}

}  // namespace convlab::simd
