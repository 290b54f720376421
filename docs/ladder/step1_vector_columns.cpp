// Step 1: vectorise along output columns. One vector holds kLanes neighbouring outputs of one output row;
// for a weight w[f][c][ky][kx] they need kLanes neighbouring input pixels of one input row, so one
// broadcast of the weight, one load of the input and one FMA do kLanes of step 0's multiply-adds. Each
// output still sums in step 0's order. Columns left over at the end of a row (fewer than kLanes) are done
// one at a time, as in step 0.
#include "docs/ladder/ladder.hpp"
#include "docs/ladder/ladder_vector.hpp"

namespace convlab::ladder {

void step1_vector_columns(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index C = s.in_channels, H = s.in_height, W = s.in_width, F = s.out_channels;
  const Index KH = s.kernel_height, KW = s.kernel_width, OH = s.out_height(), OW = s.out_width();
  for (Index n = 0; n < s.batch; ++n)
    for (Index f = 0; f < F; ++f)
      for (Index oy = 0; oy < OH; ++oy) {
        float* out = y + ((n * F + f) * OH + oy) * OW;
        Index ox = 0;
        for (; ox + kLanes <= OW; ox += kLanes) {
          Vec sum(0.0f);
          for (Index c = 0; c < C; ++c)
            for (Index ky = 0; ky < KH; ++ky) {
              const float* in = x + ((n * C + c) * H + oy + ky) * W + ox;
              for (Index kx = 0; kx < KW; ++kx)
                sum = multiply_add(Vec(w[((f * C + c) * KH + ky) * KW + kx]), Vec::load_unaligned(in + kx), sum);
            }
          (sum + Vec(b[f])).store_unaligned(out + ox);
        }
        for (; ox < OW; ++ox) {
          float sum = 0.0f;
          for (Index c = 0; c < C; ++c)
            for (Index ky = 0; ky < KH; ++ky)
              for (Index kx = 0; kx < KW; ++kx)
                sum += w[((f * C + c) * KH + ky) * KW + kx] * x[((n * C + c) * H + oy + ky) * W + ox + kx];
          out[ox] = sum + b[f];
        }
      }
}

}  // namespace convlab::ladder
