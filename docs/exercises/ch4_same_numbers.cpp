// Chapter 4, exercise 2: run every step of the ladder on the lecture's layer (batch 4, random weights and
// pixels) and check that each gives step 0's output bit for bit. Why does even step 5, which adds the
// products in a different loop order, agree?
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "docs/ladder/ladder.hpp"

int main() {
  convlab::ConvShape lecture;
  lecture.batch = 4;
  lecture.out_channels = 20;
  lecture.in_height = lecture.in_width = 28;
  lecture.kernel_height = lecture.kernel_width = 5;
  std::mt19937 generator(1);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  auto random = [&](convlab::Index count) {
    std::vector<float> values(static_cast<std::size_t>(count));
    for (float& v : values) v = value(generator);
    return values;
  };
  const auto x = random(lecture.input_size()), w = random(lecture.weight_size()), b = random(lecture.out_channels);
  std::vector<float> reference(std::size_t(lecture.output_size()));
  convlab::ladder::step0_naive(lecture, x.data(), w.data(), b.data(), reference.data());
  for (const auto& step : convlab::ladder::steps()) {
    std::vector<float> y(reference.size());
    step.kernel(lecture, x.data(), w.data(), b.data(), y.data());
    const bool same = std::memcmp(y.data(), reference.data(), y.size() * sizeof(float)) == 0;
    std::printf("%-17s %s\n", step.name.c_str(), same ? "bit for bit step 0's" : "DIFFERENT");
  }
}
