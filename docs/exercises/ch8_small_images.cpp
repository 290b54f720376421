// Chapter 8, exercise 2: Winograd F(4x4, 3x3) on res5a_branch2b (512 -> 512 channels, 7 x 7 outputs, 3 x 3
// windows, padding 1) at batch 1: the tiles that cover the output, the share of their outputs that fall outside
// it, the multiplications against the direct sum's, and the size of the transformed weights U (6 x 6 points per
// channel pair) that a call without held weights computes and writes before its first product.
#include <cstdio>

int main() {
  const long channels = 512, size = 7, m = 4, window = 3, points = (m + window - 1) * (m + window - 1);
  const long pairs = channels * channels;
  const long tiles_per_side = (size + m - 1) / m, tiles = tiles_per_side * tiles_per_side;
  const long computed = tiles * m * m, outputs = size * size;
  std::printf("tiles: %ld x %ld = %ld, computing %ld outputs for %ld: %.1f %% of them wasted\n", tiles_per_side,
              tiles_per_side, tiles, computed, outputs, 100.0 * double(computed - outputs) / double(computed));
  const long direct = outputs * window * window * pairs, winograd = tiles * points * pairs;
  std::printf("multiplications: direct %ld, F(4x4, 3x3) %ld (%.2fx fewer)\n", direct, winograd,
              double(direct) / double(winograd));
  const double weights_mb = double(pairs * window * window) * 4 / 1e6, u_mb = double(pairs * points) * 4 / 1e6;
  std::printf("weights: %.1f MB of 3x3 windows become %.1f MB of U (float), %.0f KB of it per output of the image\n",
              weights_mb, u_mb, u_mb * 1e3 / double(outputs));
}
