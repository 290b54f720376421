// im2col specifics: the workspace it reports, and that processing a batch in chunks of images changes no
// bit of any result (correctness against naive is in test_conv_crosscheck.cpp).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "impls/im2col/im2col_conv.hpp"

using convlab::ConvShape;
using convlab::Im2colConv;

namespace {

ConvShape make_shape(convlab::Index batch, convlab::Index channels, convlab::Index size, convlab::Index filters,
                     convlab::Index window, convlab::Index padding) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = channels;
  s.in_height = s.in_width = size;
  s.out_channels = filters;
  s.kernel_height = s.kernel_width = window;
  s.pad_height = s.pad_width = padding;
  return s;
}

template <typename T>
std::vector<T> random_vector(convlab::Index count, std::mt19937& engine) {
  std::uniform_real_distribution<double> pick(-1, 1);
  std::vector<T> values(static_cast<std::size_t>(count));
  for (T& value : values) value = T(pick(engine));
  return values;
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("im2col reports its patch matrix and padded copy as workspace", "[im2col]") {
  const Im2colConv conv;
  // The lecture's layer, 64 images: 24*24 output pixels times 25 taps per image, all in one chunk.
  const ConvShape lecture = make_shape(64, 1, 28, 20, 5, 0);
  CHECK(conv.images_per_chunk(lecture, sizeof(float)) == 64);
  CHECK(conv.workspace_bytes(lecture, sizeof(float)) == 64u * 576 * 25 * 4);
  // Padded 3x3, 8 -> 16 channels on 14x14: 196 pixels x 72 taps, plus the 8 x 16 x 16 zero-bordered copy.
  const ConvShape padded = make_shape(2, 8, 14, 16, 3, 1);
  CHECK(conv.workspace_bytes(padded, sizeof(double)) == 2u * (196 * 72 + 8 * 16 * 16) * 8);
  // 60000 MNIST images would need 3.5 GB of patches at once; chunking holds it at 64 MiB.
  const ConvShape epoch = make_shape(60000, 1, 28, 20, 5, 0);
  CHECK(conv.images_per_chunk(epoch, sizeof(float)) == (64 << 20) / (576 * 25 * 4));
  CHECK(conv.workspace_bytes(epoch, sizeof(float)) <= Im2colConv::kMaxPatchBytes);
}

TEMPLATE_TEST_CASE("im2col gives bitwise the same results in chunks of 1, 2 or all images", "[im2col]", float,
                   double) {
  ConvShape s = make_shape(5, 2, 7, 3, 3, 1);
  s.stride_height = 2;
  s.pad_width = 2;
  std::mt19937 engine(7);
  const auto x = random_vector<TestType>(s.input_size(), engine);
  const auto w = random_vector<TestType>(s.weight_size(), engine);
  const auto b = random_vector<TestType>(s.out_channels, engine);
  const auto dy = random_vector<TestType>(s.output_size(), engine);
  const std::size_t image_patch_bytes = std::size_t(s.out_height() * s.out_width() * s.reduction_length()) *
                                        sizeof(TestType);

  struct Results {
    std::vector<TestType> y, dx, dw, db;
  };
  const auto run = [&](Im2colConv& conv) {
    const TestType nan = std::numeric_limits<TestType>::quiet_NaN();
    Results r{std::vector<TestType>(std::size_t(s.output_size()), nan),
              std::vector<TestType>(std::size_t(s.input_size()), nan),
              std::vector<TestType>(std::size_t(s.weight_size()), nan),
              std::vector<TestType>(std::size_t(s.out_channels), nan)};
    conv.forward(s, x.data(), w.data(), b.data(), r.y.data());
    conv.backward_input(s, dy.data(), w.data(), r.dx.data());
    conv.backward_weights(s, x.data(), dy.data(), r.dw.data(), r.db.data());
    return r;
  };
  Im2colConv whole, pairs(2 * image_patch_bytes), singles(1);
  REQUIRE(whole.images_per_chunk(s, sizeof(TestType)) == 5);
  REQUIRE(pairs.images_per_chunk(s, sizeof(TestType)) == 2);  // chunks of 2, 2 and 1
  REQUIRE(singles.images_per_chunk(s, sizeof(TestType)) == 1);
  const Results expected = run(whole);
  for (Im2colConv* chunked : {&pairs, &singles}) {
    const Results got = run(*chunked);
    CHECK(bitwise_equal(got.y, expected.y));
    CHECK(bitwise_equal(got.dx, expected.dx));
    CHECK(bitwise_equal(got.dw, expected.dw));
    CHECK(bitwise_equal(got.db, expected.db));
  }
  for (TestType value : expected.dx) REQUIRE_FALSE(std::isnan(value));
}
