// Chapter 8, exercise 1: the multiplications of one image of res3a_branch2b (128 -> 128 channels, 28 x 28
// outputs, 3 x 3 windows, padding 1) done directly and as Winograd's elementwise products with F(2x2, 3x3) and
// F(4x4, 3x3) (the transforms' additions and scalings left out: they do not grow with the channel product).
#include <cstdio>
#include <initializer_list>

int main() {
  const long channels_in = 128, channels_out = 128, size = 28, window = 3;
  const long pairs = channels_in * channels_out;  // one (output channel, input channel) product per point
  const long direct = size * size * window * window * pairs;
  std::printf("direct: %ld outputs x %ld taps x %ld channel pairs = %ld multiplications\n", size * size,
              window * window, pairs, direct);
  for (const long m : {2L, 4L}) {
    const long tiles_per_side = (size + m - 1) / m, points = (m + window - 1) * (m + window - 1);
    const long winograd = tiles_per_side * tiles_per_side * points * pairs;
    std::printf("F(%ldx%ld, 3x3): %ld tiles x %ld points x %ld channel pairs = %ld multiplications, %.2fx fewer\n", m,
                m, tiles_per_side * tiles_per_side, points, pairs, winograd, double(direct) / double(winograd));
  }
}
