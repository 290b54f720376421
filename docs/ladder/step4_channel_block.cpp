// Step 4: block output channels. Every output channel reads the same input pixels; step 3 loaded them once
// per channel. Here a block of kChannels channels x kRows rows x up to 2 column vectors is summed at once,
// so every loaded input vector feeds kChannels FMAs and every broadcast weight up to 2 * kRows:
// 16 accumulators, half of AVX-512's 32 vector registers.
#include <algorithm>

#include "docs/ladder/ladder.hpp"
#include "docs/ladder/ladder_vector.hpp"

namespace convlab::ladder {
namespace {

constexpr int kChannels = 4;
constexpr int kRows = 2;

// Output channels [f, f + K), rows [oy, oy + R), columns [ox, ox + lanes[0] + lanes[1]) of one image.
template <int K, int R, int V>
void channel_block(const ConvShape& s, const float* image, const float* w, const float* b, float* out_image, Index f,
                   Index oy, Index ox, const Lanes (&lanes)[2]) {
  const Index C = s.in_channels, H = s.in_height, W = s.in_width, KH = s.kernel_height, KW = s.kernel_width;
  const Index filter_size = C * KH * KW, plane_size = s.out_height() * s.out_width();
  Vec sum[K][R][V];
#pragma GCC unroll 16
  for (int k = 0; k < K; ++k)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v) sum[k][r][v] = Vec(0.0f);
  for (Index c = 0; c < C; ++c)
    for (Index ky = 0; ky < KH; ++ky)
      for (Index kx = 0; kx < KW; ++kx) {
        Vec weight[K];
#pragma GCC unroll 16
        for (int k = 0; k < K; ++k) weight[k] = Vec(w[(f + k) * filter_size + (c * KH + ky) * KW + kx]);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const float* in = image + (c * H + oy + r + ky) * W + ox + kx;
#pragma GCC unroll 16
          for (int v = 0; v < V; ++v) {
            const Vec pixels = load(in + v * kLanes, lanes[v]);
#pragma GCC unroll 16
            for (int k = 0; k < K; ++k) sum[k][r][v] = multiply_add(weight[k], pixels, sum[k][r][v]);
          }
        }
      }
#pragma GCC unroll 16
  for (int k = 0; k < K; ++k)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v)
        store(out_image + (f + k) * plane_size + (oy + r) * s.out_width() + ox + v * kLanes,
                    sum[k][r][v] + Vec(b[f + k]), lanes[v]);
}

template <int K, int R>
void across(const ConvShape& s, const float* image, const float* w, const float* b, float* out_image, Index f,
            Index oy) {
  const Index OW = s.out_width();
  for (Index ox = 0; ox < OW; ox += 2 * kLanes) {
    const Index second = std::clamp<Index>(OW - ox - kLanes, 0, kLanes);  // columns in the second vector
    const Lanes lanes[2] = {Lanes(int(std::min<Index>(kLanes, OW - ox))), Lanes(int(second))};
    if (second > 0) {
      channel_block<K, R, 2>(s, image, w, b, out_image, f, oy, ox, lanes);
    } else {
      channel_block<K, R, 1>(s, image, w, b, out_image, f, oy, ox, lanes);
    }
  }
}

template <int K>
void rows(const ConvShape& s, const float* image, const float* w, const float* b, float* out_image, Index f,
          Index y_begin, Index y_end) {
  Index oy = y_begin;
  for (; oy + kRows <= y_end; oy += kRows) across<K, kRows>(s, image, w, b, out_image, f, oy);
  for (; oy < y_end; ++oy) across<K, 1>(s, image, w, b, out_image, f, oy);
}

}  // namespace

void channel_block_rows(const ConvShape& s, const float* image, const float* w, const float* b, float* out_image,
                        Index f_begin, Index f_end, Index y_begin, Index y_end) {
  Index f = f_begin;
  for (; f + kChannels <= f_end; f += kChannels) rows<kChannels>(s, image, w, b, out_image, f, y_begin, y_end);
  for (; f < f_end; ++f) rows<1>(s, image, w, b, out_image, f, y_begin, y_end);
}

void step4_channel_block(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index image_size = s.in_channels * s.in_height * s.in_width;
  const Index out_image_size = s.out_channels * s.out_height() * s.out_width();
  for (Index n = 0; n < s.batch; ++n)
    channel_block_rows(s, x + n * image_size, w, b, y + n * out_image_size, 0, s.out_channels, 0, s.out_height());
}

}  // namespace convlab::ladder
