// E, the magnitude in Winograd's error bound (see winograd_bound.hpp; derived in tests/test_winograd.cpp).
#include "impls/winograd/winograd_bound.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace convlab {

namespace {

// The transform matrices, entrywise absolute values: B^T (alpha x alpha), G (alpha x 3), A^T (m x alpha).
struct AbsMatrices {
  int m, alpha;
  std::vector<double> bt, g, at;
};

AbsMatrices abs_matrices(int tile) {
  if (tile == 2) {
    return {2, 4,
            {1, 0, 1, 0, /**/ 0, 1, 1, 0, /**/ 0, 1, 1, 0, /**/ 0, 1, 0, 1},
            {1, 0, 0, /**/ .5, .5, .5, /**/ .5, .5, .5, /**/ 0, 0, 1},
            {1, 1, 1, 0, /**/ 0, 1, 1, 1}};
  }
  return {4, 6,
          {4, 0, 5, 0, 1, 0, /**/ 0, 4, 4, 1, 1, 0, /**/ 0, 4, 4, 1, 1, 0,
           /**/ 0, 2, 1, 2, 1, 0, /**/ 0, 2, 1, 2, 1, 0, /**/ 0, 4, 0, 5, 0, 1},
          {1. / 4, 0, 0, /**/ 1. / 6, 1. / 6, 1. / 6, /**/ 1. / 6, 1. / 6, 1. / 6,
           /**/ 1. / 24, 1. / 12, 1. / 6, /**/ 1. / 24, 1. / 12, 1. / 6, /**/ 0, 0, 1},
          {1, 1, 1, 1, 1, 0, /**/ 0, 1, 1, 2, 2, 0, /**/ 0, 1, 1, 4, 4, 0, /**/ 0, 1, 1, 8, 8, 1}};
}

}  // namespace

// E for every output of the forward pass of `s` (3x3, stride 1) on x, w, b (b may be empty), in double.
std::vector<double> winograd_error_scale(int tile, const ConvShape& s, const std::vector<double>& x,
                                        const std::vector<double>& w, const std::vector<double>& b) {
  const AbsMatrices mat = abs_matrices(tile);
  const int m = mat.m, a = mat.alpha, a2 = a * a;
  const Index C = s.in_channels, F = s.out_channels, H = s.in_height, W = s.in_width;
  const Index oh = s.out_height(), ow = s.out_width();
  // |G| |g| |G|^T per (f, c).
  std::vector<double> u(std::size_t(F * C * a2));
  for (Index fc = 0; fc < F * C; ++fc) {
    double half[6][3] = {};
    for (int i = 0; i < a; ++i)
      for (int kx = 0; kx < 3; ++kx)
        for (int ky = 0; ky < 3; ++ky) half[i][kx] += mat.g[i * 3 + ky] * std::abs(w[std::size_t(fc * 9 + ky * 3 + kx)]);
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) {
        double sum = 0;
        for (int kx = 0; kx < 3; ++kx) sum += half[i][kx] * mat.g[j * 3 + kx];
        u[std::size_t(fc * a2 + i * a + j)] = sum;
      }
  }
  std::vector<double> e(std::size_t(s.output_size()));
  const Index tiles_h = (oh + m - 1) / m, tiles_w = (ow + m - 1) / m;
  std::vector<double> v(std::size_t(C * a2));
  for (Index n = 0; n < s.batch; ++n)
    for (Index ty = 0; ty < tiles_h; ++ty)
      for (Index tx = 0; tx < tiles_w; ++tx) {
        // |B|^T |d_c| |B| per channel.
        for (Index c = 0; c < C; ++c) {
          double d[6][6], half[6][6];
          for (int p = 0; p < a; ++p)
            for (int q = 0; q < a; ++q) {
              const Index iy = ty * m - s.pad_height + p, ix = tx * m - s.pad_width + q;
              d[p][q] = iy >= 0 && iy < H && ix >= 0 && ix < W ? std::abs(x[std::size_t(((n * C + c) * H + iy) * W + ix)])
                                                               : 0.0;
            }
          for (int i = 0; i < a; ++i)
            for (int q = 0; q < a; ++q) {
              half[i][q] = 0;
              for (int p = 0; p < a; ++p) half[i][q] += mat.bt[i * a + p] * d[p][q];
            }
          for (int i = 0; i < a; ++i)
            for (int j = 0; j < a; ++j) {
              double sum = 0;
              for (int q = 0; q < a; ++q) sum += half[i][q] * mat.bt[j * a + q];
              v[std::size_t(c * a2 + i * a + j)] = sum;
            }
        }
        for (Index f = 0; f < F; ++f) {
          double mm[36] = {};
          for (Index c = 0; c < C; ++c)
            for (int xi = 0; xi < a2; ++xi) mm[xi] += u[std::size_t((f * C + c) * a2 + xi)] * v[std::size_t(c * a2 + xi)];
          for (int r = 0; r < m; ++r)
            for (int q = 0; q < m; ++q) {
              const Index oy = ty * m + r, ox = tx * m + q;
              if (oy >= oh || ox >= ow) continue;
              double sum = 0;
              for (int i = 0; i < a; ++i)
                for (int j = 0; j < a; ++j) sum += mat.at[r * a + i] * mm[i * a + j] * mat.at[q * a + j];
              e[std::size_t(((n * F + f) * oh + oy) * ow + ox)] = sum + (b.empty() ? 0.0 : std::abs(b[std::size_t(f)]));
            }
        }
      }
  return e;
}

std::vector<double> winograd_weight_gradient_scale(int tile, const ConvShape& s, const std::vector<double>& x,
                                                   const std::vector<double>& dy) {
  const AbsMatrices mat = abs_matrices(tile);
  const int m = mat.m, a = mat.alpha, a2 = a * a;
  const Index C = s.in_channels, F = s.out_channels, H = s.in_height, W = s.in_width;
  const Index oh = s.out_height(), ow = s.out_width();
  const Index tiles_h = (oh + m - 1) / m, tiles_w = (ow + m - 1) / m;
  std::vector<double> du(std::size_t(F * C * a2), 0.0), v(std::size_t(C * a2)), d(std::size_t(F * a2));
  for (Index n = 0; n < s.batch; ++n)
    for (Index ty = 0; ty < tiles_h; ++ty)
      for (Index tx = 0; tx < tiles_w; ++tx) {
        for (Index c = 0; c < C; ++c) {  // |B|^T |d_c| |B|
          double patch[6][6], half[6][6];
          for (int p = 0; p < a; ++p)
            for (int q = 0; q < a; ++q) {
              const Index iy = ty * m - s.pad_height + p, ix = tx * m - s.pad_width + q;
              patch[p][q] = iy >= 0 && iy < H && ix >= 0 && ix < W
                                ? std::abs(x[std::size_t(((n * C + c) * H + iy) * W + ix)]) : 0.0;
            }
          for (int i = 0; i < a; ++i)
            for (int q = 0; q < a; ++q) {
              half[i][q] = 0;
              for (int p = 0; p < a; ++p) half[i][q] += mat.bt[i * a + p] * patch[p][q];
            }
          for (int i = 0; i < a; ++i)
            for (int j = 0; j < a; ++j) {
              double sum = 0;
              for (int q = 0; q < a; ++q) sum += half[i][q] * mat.bt[j * a + q];
              v[std::size_t(c * a2 + i * a + j)] = sum;
            }
        }
        for (Index f = 0; f < F; ++f) {  // |A| |dy_f| |A|^T, A = (A^T)^T
          double grad[4][4] = {}, half[6][4];
          for (int r = 0; r < m; ++r)
            for (int q = 0; q < m; ++q) {
              const Index oy = ty * m + r, ox = tx * m + q;
              if (oy < oh && ox < ow) grad[r][q] = std::abs(dy[std::size_t(((n * F + f) * oh + oy) * ow + ox)]);
            }
          for (int i = 0; i < a; ++i)
            for (int q = 0; q < m; ++q) {
              half[i][q] = 0;
              for (int r = 0; r < m; ++r) half[i][q] += mat.at[r * a + i] * grad[r][q];
            }
          for (int i = 0; i < a; ++i)
            for (int j = 0; j < a; ++j) {
              double sum = 0;
              for (int q = 0; q < m; ++q) sum += half[i][q] * mat.at[q * a + j];
              d[std::size_t(f * a2 + i * a + j)] = sum;
            }
        }
        for (Index f = 0; f < F; ++f)
          for (Index c = 0; c < C; ++c)
            for (int xi = 0; xi < a2; ++xi)
              du[std::size_t((f * C + c) * a2 + xi)] += d[std::size_t(f * a2 + xi)] * v[std::size_t(c * a2 + xi)];
      }
  std::vector<double> e(std::size_t(F * C * 9));
  for (Index fc = 0; fc < F * C; ++fc)
    for (int ky = 0; ky < 3; ++ky)
      for (int kx = 0; kx < 3; ++kx) {
        double sum = 0;
        for (int i = 0; i < a; ++i)
          for (int j = 0; j < a; ++j) sum += mat.g[i * 3 + ky] * du[std::size_t(fc * a2 + i * a + j)] * mat.g[j * 3 + kx];
        e[std::size_t(fc * 9 + ky * 3 + kx)] = sum;
      }
  return e;
}

// The forward layer whose output is backward_input's dx, and its weights w'[c][f][ky][kx] = w[f][c][2-ky][2-kx].
ConvShape winograd_transposed_layer(const ConvShape& s) {
  ConvShape t = s;
  t.in_channels = s.out_channels;
  t.out_channels = s.in_channels;
  t.in_height = s.out_height() - 2 * winograd_gradient_crop(s.pad_height);
  t.in_width = s.out_width() - 2 * winograd_gradient_crop(s.pad_width);
  t.pad_height = std::max<Index>(0, 2 - s.pad_height);
  t.pad_width = std::max<Index>(0, 2 - s.pad_width);
  return t;
}

std::vector<double> winograd_cropped_output_gradient(const ConvShape& s, const std::vector<double>& dy) {
  if (!winograd_crops_output_gradient(s)) return dy;
  std::vector<double> cropped(std::size_t(winograd_transposed_layer(s).input_size()));
  winograd_crop_output_gradient(s, dy.data(), cropped.data());
  return cropped;
}

std::vector<double> winograd_flipped_transposed(const ConvShape& s, const std::vector<double>& w) {
  std::vector<double> result(w.size());
  for (Index f = 0; f < s.out_channels; ++f)
    for (Index c = 0; c < s.in_channels; ++c)
      for (Index k = 0; k < 9; ++k) result[std::size_t((c * s.out_channels + f) * 9 + k)] = w[std::size_t((f * s.in_channels + c) * 9 + 8 - k)];
  return result;
}

}  // namespace convlab
