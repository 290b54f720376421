// Chapter 7, exercise 2: an "implementation" that forgets the last tap of every window (a classic loop-bound
// bug). How many of the lecture layer's outputs does it get past a loose check |y - ref| <= 1e-2 + |ref|, and
// how many past convlab's bound 2.5 n u sum|w x|?
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

int main() {
  const int taps = 25, outputs = 20 * 24 * 24;
  std::mt19937 generator(3);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);  // pixels and weights >= 0, as after a ReLU
  const double u = std::numeric_limits<float>::epsilon() / 2;
  int loose_passes = 0, bound_passes = 0;
  for (int o = 0; o < outputs; ++o) {
    float ref = 0, buggy = 0;
    double sum_abs = 0;
    for (int t = 0; t < taps; ++t) {
      const float w = value(generator), x = value(generator);
      ref += w * x;
      if (t < taps - 1) buggy += w * x;
      sum_abs += std::abs(double(w) * double(x));
    }
    const double difference = std::abs(double(buggy) - double(ref));
    loose_passes += difference <= 1e-2 + std::abs(double(ref));
    bound_passes += difference <= 2.5 * taps * u * sum_abs;
  }
  std::printf("%d outputs: the loose check passes %d, the error bound passes %d\n", outputs, loose_passes, bound_passes);
}
