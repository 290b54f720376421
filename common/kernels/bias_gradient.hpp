// The bias gradient of a convolution, db[f] = sum of dy[n][f][oy][ox], summed in naive's order (image, row,
// column) so that an implementation declaring ConvImplInfo::reference_order.bias_gradient gives naive's bits.
// Each filter's sum is a chain of dependent additions: one chain at a time waits on every addition's latency
// (on the lecture's layer at batch 64 that was most of im2col's weight-gradient call), so kChains filters' chains
// run side by side, each still in naive's order; blocks of filters are shared between threads where the sums
// are long enough to pay for waking them (a small layer's call at batch 1 takes a few tens of microseconds).
#pragma once

#include <algorithm>

#include "common/conv/conv_shape.hpp"
#include "common/machine/parallel_for.hpp"

namespace convlab {

template <typename T>
void bias_gradient_in_naive_order(const ConvShape& s, const T* output_grad, T* bias_grad, int threads) {
  constexpr Index kChains = 8;
  constexpr Index kParallelTerms = Index(1) << 17;
  const Index plane = s.out_height() * s.out_width(), F = s.out_channels;
  const Index blocks = (F + kChains - 1) / kChains;
  const bool parallel = F >= 2 * kChains && s.batch * F * plane >= kParallelTerms;
  parallel_for(blocks, parallel ? threads : 1, Schedule::even, [&](Index block, Index) {
    const Index f0 = block * kChains, count = std::min(kChains, F - f0);
    T sums[kChains] = {};
    for (Index n = 0; n < s.batch; ++n) {
      const T* dy = output_grad + (n * F + f0) * plane;
      if (count == kChains) {
        for (Index p = 0; p < plane; ++p)
#pragma GCC unroll 8
          for (Index k = 0; k < kChains; ++k) sums[k] += dy[k * plane + p];
      } else {
        for (Index p = 0; p < plane; ++p)
          for (Index k = 0; k < count; ++k) sums[k] += dy[k * plane + p];
      }
    }
    std::copy_n(sums, count, bias_grad + f0);
  });
}

}  // namespace convlab
