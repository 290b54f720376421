// Step 0: the definition, as plain loops in the order of the math - every output is the bias plus the sum
// over input channels, window rows and window columns of a weight times an input pixel. The other steps
// must give exactly these numbers.
#include "docs/ladder/ladder.hpp"

namespace convlab::ladder {

void step0_naive(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index C = s.in_channels, H = s.in_height, W = s.in_width, F = s.out_channels;
  const Index KH = s.kernel_height, KW = s.kernel_width, OH = s.out_height(), OW = s.out_width();
  for (Index n = 0; n < s.batch; ++n)
    for (Index f = 0; f < F; ++f)
      for (Index oy = 0; oy < OH; ++oy)
        for (Index ox = 0; ox < OW; ++ox) {
          float sum = 0.0f;
          for (Index c = 0; c < C; ++c)
            for (Index ky = 0; ky < KH; ++ky)
              for (Index kx = 0; kx < KW; ++kx)
                sum += w[((f * C + c) * KH + ky) * KW + kx] * x[((n * C + c) * H + oy + ky) * W + ox + kx];
          y[((n * F + f) * OH + oy) * OW + ox] = sum + b[f];
        }
}

}  // namespace convlab::ladder
