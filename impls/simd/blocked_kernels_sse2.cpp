// The channel-blocked kernels instantiated for sse2; compiled with that arch's flags alone (CMakeLists.txt).
#include "impls/simd/blocked_kernels_impl.hpp"

namespace convlab::simd {

const BlockedTable& blocked_table_sse2() {
  static constexpr BlockedTable table = make_blocked_table<xsimd::sse2>();
  return table;
}

}  // namespace convlab::simd
