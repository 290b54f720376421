// Step 3: register-block rows. Steps 1 and 2 load a weight, broadcast it, and use it for one FMA. Here a
// block of kRows output rows x up to 2 column vectors is summed at once in registers, so every broadcast
// weight feeds up to 2 * kRows FMAs, and every output is still stored once, at the end. The rows of the
// block read different input rows, so the loads are not shared yet (steps 4 and 5 do that).
#include <algorithm>

#include "docs/ladder/ladder.hpp"
#include "docs/ladder/ladder_vector.hpp"

namespace convlab::ladder {
namespace {

constexpr int kRows = 4;

// Output rows [oy, oy + R) and columns [ox, ox + lanes[0] + lanes[1]) of channel f of one image.
template <int R, int V>
void row_block(const ConvShape& s, const float* image, const float* filter_weights, float bias, float* plane,
               Index oy, Index ox, const Lanes (&lanes)[2]) {
  const Index C = s.in_channels, H = s.in_height, W = s.in_width, KH = s.kernel_height, KW = s.kernel_width;
  Vec sum[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) sum[r][v] = Vec(0.0f);
  for (Index c = 0; c < C; ++c)
    for (Index ky = 0; ky < KH; ++ky)
      for (Index kx = 0; kx < KW; ++kx) {
        const Vec weight(filter_weights[(c * KH + ky) * KW + kx]);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const float* in = image + (c * H + oy + r + ky) * W + ox + kx;
#pragma GCC unroll 16
          for (int v = 0; v < V; ++v) sum[r][v] = multiply_add(weight, load(in + v * kLanes, lanes[v]), sum[r][v]);
        }
      }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) store(plane + (oy + r) * s.out_width() + ox + v * kLanes, sum[r][v] + Vec(bias), lanes[v]);
}

template <int R>
void rows_across(const ConvShape& s, const float* image, const float* filter_weights, float bias, float* plane,
                 Index oy) {
  const Index OW = s.out_width();
  for (Index ox = 0; ox < OW; ox += 2 * kLanes) {
    const Index second = std::clamp<Index>(OW - ox - kLanes, 0, kLanes);  // columns in the second vector
    const Lanes lanes[2] = {Lanes(int(std::min<Index>(kLanes, OW - ox))), Lanes(int(second))};
    if (second > 0) {
      row_block<R, 2>(s, image, filter_weights, bias, plane, oy, ox, lanes);
    } else {
      row_block<R, 1>(s, image, filter_weights, bias, plane, oy, ox, lanes);
    }
  }
}

}  // namespace

void step3_register_rows(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index C = s.in_channels, F = s.out_channels, OH = s.out_height();
  const Index image_size = C * s.in_height * s.in_width, filter_size = C * s.kernel_height * s.kernel_width;
  for (Index n = 0; n < s.batch; ++n)
    for (Index f = 0; f < F; ++f) {
      const float* image = x + n * image_size;
      float* plane = y + (n * F + f) * OH * s.out_width();
      Index oy = 0;
      for (; oy + kRows <= OH; oy += kRows) rows_across<kRows>(s, image, w + f * filter_size, b[f], plane, oy);
      for (; oy < OH; ++oy) rows_across<1>(s, image, w + f * filter_size, b[f], plane, oy);
    }
}

}  // namespace convlab::ladder
