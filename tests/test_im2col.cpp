// im2col specifics: the band split and the workspace it reports, and that many small bands give the same
// results as few (bitwise where the band does not enter the sum; correctness against naive, and 1 vs 2 threads,
// is in test_conv_crosscheck.cpp, whose im2col sweep reaches the band and chunk edges).
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

TEST_CASE("im2col splits images into bands of output rows sized for L2", "[im2col]") {
  using convlab::Im2colGeometry;
  // The lecture's layer: K = 25, so one band holds the whole 24x24 output.
  const ConvShape lecture = make_shape(64, 1, 28, 20, 5, 0);
  const Im2colGeometry small(lecture, sizeof(float));
  CHECK(small.bands == 1);
  CHECK(small.band_rows == 24);
  CHECK(small.column_stride >= 576);
  // ResNet's 3x3 at 56x56, 64 channels: K = 576, so a band is a few output rows and its stride below a page.
  const ConvShape res2a = make_shape(4, 64, 56, 64, 3, 1);
  const Im2colGeometry banded(res2a, sizeof(float));
  CHECK(banded.bands > 1);
  CHECK(banded.band_rows * banded.bands >= 56);
  CHECK((banded.bands - 1) * banded.band_rows < 56);
  CHECK(banded.column_stride * 4 < 4096);
  CHECK(banded.column_stride >= banded.band_rows * 56);
  // Batch 1 gets two bands (one per thread) when the image is worth two threads, not for the lecture's layer.
  CHECK(Im2colGeometry(make_shape(1, 16, 25, 48, 3, 1), sizeof(float)).bands == 2);
  CHECK(Im2colGeometry(make_shape(1, 1, 28, 20, 5, 0), sizeof(float)).bands == 1);
  // A limit forces smaller bands.
  CHECK(Im2colGeometry(lecture, sizeof(float), 50).band_rows == 2);
  // The weight gradient of an image in several bands goes by channel groups over the whole image when there
  // are at least four: GoogLeNet's 5x5 over 512 channels of 14x14 (19.6 KB of columns per channel) in 26 groups
  // of 20 channels, the last 12; res2a's 3x3 at 56x56 (113 KB per channel) in 22 groups of 3 channels, the last 1.
  const Im2colGeometry f48(make_shape(1, 512, 14, 48, 5, 2), sizeof(float));
  CHECK(f48.bands > 1);
  CHECK(f48.weight_grad_groups == 26);
  CHECK(f48.group_channels == 20);
  CHECK(f48.group_column_stride >= 196);
  CHECK(f48.column_elements() >= 20 * 25 * f48.group_column_stride);
  CHECK(banded.weight_grad_groups == 22);
  // Whole images in one band (the lecture's layer, res5a's 7x7 at batch 1) and a channel whose columns alone
  // pass 1 MiB (resnet's 7x7 stride-2 first layer: 49 taps x 112 x 112 pixels) keep the chunked sums.
  CHECK(small.weight_grad_groups == 1);
  CHECK(Im2colGeometry(make_shape(1, 512, 7, 512, 3, 1), sizeof(float)).weight_grad_groups == 1);
  ConvShape conv1 = make_shape(1, 3, 224, 64, 7, 3);
  conv1.stride_height = conv1.stride_width = 2;
  CHECK(Im2colGeometry(conv1, sizeof(float)).weight_grad_groups == 1);
  // Workspace: one column buffer per thread plus W^T or the partials; nothing scales with the batch.
  const Im2colConv conv;
  CHECK(conv.workspace_bytes(lecture, sizeof(float)) == conv.workspace_bytes(make_shape(60000, 1, 28, 20, 5, 0),
                                                                             sizeof(float)));
  CHECK(conv.workspace_bytes(lecture, sizeof(float)) >= std::size_t(25 * small.column_stride * 4));
  CHECK(conv.workspace_bytes(make_shape(1, 512, 14, 48, 5, 2), sizeof(float)) >=
        std::size_t(f48.column_elements()) * 4);
}

TEMPLATE_TEST_CASE("im2col gives the same results with bands of one row as with whole images", "[im2col]", float,
                   double) {
  ConvShape s = make_shape(5, 2, 7, 3, 3, 1);
  s.stride_height = 2;
  s.pad_width = 2;
  std::mt19937 engine(7);
  const auto x = random_vector<TestType>(s.input_size(), engine);
  const auto w = random_vector<TestType>(s.weight_size(), engine);
  const auto b = random_vector<TestType>(s.out_channels, engine);
  const auto dy = random_vector<TestType>(s.output_size(), engine);

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
  Im2colConv whole, rows(1);
  REQUIRE(convlab::Im2colGeometry(s, sizeof(TestType)).bands == 1);
  REQUIRE(convlab::Im2colGeometry(s, sizeof(TestType), 1).bands == s.out_height());
  const Results expected = run(whole);
  const Results got = run(rows);
  // The forward products (K = 18, below the gemm's dot-tail depth) sum each element in the same order
  // whatever the band; col2im and the weight gradient add band by band, so they only agree to rounding.
  CHECK(bitwise_equal(got.y, expected.y));
  CHECK(bitwise_equal(got.db, expected.db));
  for (std::size_t i = 0; i < got.dx.size(); ++i) CHECK(std::abs(got.dx[i] - expected.dx[i]) <= TestType(1e-4));
  for (std::size_t i = 0; i < got.dw.size(); ++i) CHECK(std::abs(got.dw[i] - expected.dw[i]) <= TestType(1e-4));
  for (TestType value : expected.dx) REQUIRE_FALSE(std::isnan(value));
}
