// The channel-blocked kernels instantiated for avx512f; compiled with that arch's flags alone (CMakeLists.txt).
#include "impls/simd/blocked_kernels_impl.hpp"

namespace convlab::simd {

const BlockedTable& blocked_table_avx512f() {
  static constexpr BlockedTable table = make_blocked_table<xsimd::avx512f>();
  return table;
}

}  // namespace convlab::simd
