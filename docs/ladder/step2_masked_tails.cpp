// Step 2: masked tails. The columns left over at the end of a row become one partial vector - a masked
// load reads only the pixels that exist and a masked store writes only the outputs that exist - instead
// of a scalar loop. The lecture's 24-wide rows are one full vector and one of 8 lanes on AVX-512: step 1
// did those 8 one at a time, each a chain of dependent scalar FMAs. Whole vectors go through the same
// masked instructions with every lane set, which cost no more than plain loads and stores.
#include <algorithm>

#include "docs/ladder/ladder.hpp"
#include "docs/ladder/ladder_vector.hpp"

namespace convlab::ladder {

void step2_masked_tails(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index C = s.in_channels, H = s.in_height, W = s.in_width, F = s.out_channels;
  const Index KH = s.kernel_height, KW = s.kernel_width, OH = s.out_height(), OW = s.out_width();
  for (Index n = 0; n < s.batch; ++n)
    for (Index f = 0; f < F; ++f)
      for (Index oy = 0; oy < OH; ++oy) {
        float* out = y + ((n * F + f) * OH + oy) * OW;
        for (Index ox = 0; ox < OW; ox += kLanes) {
          const Lanes lanes(int(std::min<Index>(kLanes, OW - ox)));
          Vec sum(0.0f);
          for (Index c = 0; c < C; ++c)
            for (Index ky = 0; ky < KH; ++ky) {
              const float* in = x + ((n * C + c) * H + oy + ky) * W + ox;
              for (Index kx = 0; kx < KW; ++kx)
                sum = multiply_add(Vec(w[((f * C + c) * KH + ky) * KW + kx]), load(in + kx, lanes), sum);
            }
          store(out + ox, sum + Vec(b[f]), lanes);
        }
      }
}

}  // namespace convlab::ladder
