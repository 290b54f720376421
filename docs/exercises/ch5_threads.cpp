// Chapter 5, exercise 2: step 7 on 1 and on 2 threads gives the same output, bit for bit, because every tile
// is computed by the same code whoever computes it. Check it on the second layer.
#include <omp.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "docs/ladder/ladder.hpp"

int main() {
  convlab::ConvShape second;
  second.batch = 3;
  second.in_channels = 20;
  second.in_height = second.in_width = 24;
  second.out_channels = 50;
  second.kernel_height = second.kernel_width = 5;
  std::mt19937 generator(2);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  auto random = [&](convlab::Index count) {
    std::vector<float> values(static_cast<std::size_t>(count));
    for (float& v : values) v = value(generator);
    return values;
  };
  const auto x = random(second.input_size()), w = random(second.weight_size()), b = random(second.out_channels);
  std::vector<float> one(std::size_t(second.output_size())), two(one.size());
  omp_set_num_threads(1);
  convlab::ladder::step7_threads(second, x.data(), w.data(), b.data(), one.data());
  omp_set_num_threads(2);
  convlab::ladder::step7_threads(second, x.data(), w.data(), b.data(), two.data());
  std::printf("1 thread and 2 threads: %s\n",
              std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0 ? "bit for bit the same" : "DIFFERENT");
}
