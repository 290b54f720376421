// Step 5: slide down the input rows. In step 4 the rows of a block each loaded their own input rows,
// though output row r and output row r + 1 read the same input row (with window rows ky and ky - 1). Here
// the block walks down the input rows instead: each input row is loaded once per window column and feeds
// every output row of the block whose window covers it (up to min(kRows, window height)) in every channel
// of the block. For any one output the products still arrive in step 0's order (channel, then window row,
// then window column), so the sums are the same bit for bit. kChannels x kRows x 2 vectors = 24
// accumulators. What it saves in loads it pays in broadcasts: each broadcast weight now feeds only the 2
// vectors of one row, where step 4's fed 2 rows x 2 vectors. The measurements decide (chapter 4); steps 6
// and 7 build on step 4.
#include <algorithm>

#include "docs/ladder/ladder.hpp"
#include "docs/ladder/ladder_vector.hpp"

namespace convlab::ladder {
namespace {

constexpr int kChannels = 3;
constexpr int kRows = 4;

template <int K, int R, int V>
void slide(const ConvShape& s, const float* image, const float* w, const float* b, float* out_image, Index f,
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
    for (Index iy = oy; iy < oy + R + KH - 1; ++iy) {
      const float* in = image + (c * H + iy) * W + ox;
      for (Index kx = 0; kx < KW; ++kx) {
        Vec pixels[V];
#pragma GCC unroll 16
        for (int v = 0; v < V; ++v) pixels[v] = load(in + kx + v * kLanes, lanes[v]);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const Index ky = iy - oy - r;  // the window row at which output row oy + r meets input row iy
          if (ky < 0 || ky >= KH) continue;
#pragma GCC unroll 16
          for (int k = 0; k < K; ++k) {
            const Vec weight(w[(f + k) * filter_size + (c * KH + ky) * KW + kx]);
#pragma GCC unroll 16
            for (int v = 0; v < V; ++v) sum[k][r][v] = multiply_add(weight, pixels[v], sum[k][r][v]);
          }
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
      slide<K, R, 2>(s, image, w, b, out_image, f, oy, ox, lanes);
    } else {
      slide<K, R, 1>(s, image, w, b, out_image, f, oy, ox, lanes);
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

namespace {

void slide_rows(const ConvShape& s, const float* image, const float* w, const float* b, float* out_image,
                 Index f_begin, Index f_end, Index y_begin, Index y_end) {
  Index f = f_begin;
  for (; f + kChannels <= f_end; f += kChannels) rows<kChannels>(s, image, w, b, out_image, f, y_begin, y_end);
  for (; f < f_end; ++f) rows<1>(s, image, w, b, out_image, f, y_begin, y_end);
}

}  // namespace

void step5_slide_rows(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index image_size = s.in_channels * s.in_height * s.in_width;
  const Index out_image_size = s.out_channels * s.out_height() * s.out_width();
  for (Index n = 0; n < s.batch; ++n)
    slide_rows(s, x + n * image_size, w, b, y + n * out_image_size, 0, s.out_channels, 0, s.out_height());
}

}  // namespace convlab::ladder
