// Chapter 2: the input gradient is a transposed convolution from the output's size back to the input's.
// Forward: o = floor((i + 2p - d(k-1) - 1) / s) + 1. Backward, from o: the windows span
// (o - 1)s + d(k-1) + 1 pixels of the padded input; minus the padding that is (o - 1)s - 2p + d(k-1) + 1,
// and the floor can have dropped up to s - 1 rows at the end that no window reached (their gradient is 0):
// i = (o - 1)s - 2p + d(k-1) + 1 + a, with 0 <= a < s.
#include <cstdio>

#include "common/conv/conv_shape.hpp"

using convlab::Index;

void show(Index i, Index k, Index s, Index p, Index d) {
  const Index o = convlab::conv_output_size(i, k, s, p, d);
  const Index reached = (o - 1) * s - 2 * p + d * (k - 1) + 1;
  std::printf("i=%2td k=%td s=%td p=%td d=%td: forward o=%2td; back from o: %2td + a=%td rows no window reached = %2td\n",
              i, k, s, p, d, o, reached, i - reached, reached + (i - reached));
}

int main() {
  show(28, 5, 1, 0, 1);  // the lecture's layer: every row reached
  show(28, 5, 4, 0, 1);  // the lecture's strides honoured: the last 3 rows are never read
  show(7, 3, 2, 1, 1);   // a padded 3x3, stride 2
  show(8, 3, 2, 1, 1);   // one row longer, the same output: a = 1
  show(9, 3, 1, 0, 2);   // dilation 2
}
