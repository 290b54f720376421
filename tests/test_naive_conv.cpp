#include <catch2/catch.hpp>
#include <vector>

#include "common/conv/conv_registry.hpp"

using convlab::ConvShape;

TEST_CASE("output size follows floor((i + 2p - k) / s) + 1", "[shape]") {
  CHECK(convlab::conv_output_size(28, 5, 1, 0) == 24);
  CHECK(convlab::conv_output_size(28, 10, 1, 0) == 19);
  CHECK(convlab::conv_output_size(28, 10, 4, 0) == 5);
  CHECK(convlab::conv_output_size(24, 5, 2, 0) == 10);
  CHECK(convlab::conv_output_size(28, 3, 1, 1) == 28);
  CHECK(convlab::conv_output_size(5, 5, 1, 0) == 1);
  CHECK(convlab::conv_output_size(5, 3, 1, 0, 2) == 1);  // dilation 2: a 3-tap window spans 5
  CHECK_THROWS_AS(convlab::conv_output_size(4, 5, 1, 0), convlab::ConvShapeError);
  CHECK_THROWS_AS(convlab::conv_output_size(28, 5, 0, 0), convlab::ConvShapeError);
  CHECK_THROWS_WITH(convlab::conv_output_size(28, 5, 0, 0), "stride must be at least 1, got 0");
  ConvShape bad;
  bad.in_height = bad.in_width = 3;
  bad.kernel_height = bad.kernel_width = 4;
  CHECK_THROWS_AS(bad.validate(), convlab::ConvShapeError);
}

TEST_CASE("naive forward on a hand-computed 1x1x3x3 case with padding and stride", "[naive]") {
  auto conv = convlab::make_conv_impl("naive");
  // x = [[1,2,3],[4,5,6],[7,8,9]], w = [[1,0],[0,-1]], b = 10, padding 1, stride 2 -> 2x2 output.
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<double> w = {1, 0, 0, -1};
  const std::vector<double> b = {10};
  ConvShape s;
  s.in_height = s.in_width = 3;
  s.kernel_height = s.kernel_width = 2;
  s.stride_height = s.stride_width = 2;
  s.pad_height = s.pad_width = 1;
  REQUIRE(s.out_height() == 2);
  std::vector<double> y(4);
  conv->forward(s, x.data(), w.data(), b.data(), y.data());
  // Output (oy, ox) covers padded rows 2oy..2oy+1; taps: +x[2oy-1][2ox-1] - x[2oy][2ox].
  CHECK(y == std::vector<double>{10 - 1, 10 - 3, 10 - 7, 10 + 5 - 9});
}

TEST_CASE("naive gradients on a hand-computed case", "[naive]") {
  auto conv = convlab::make_conv_impl("naive");
  // x 1x1x3x3, w 2x2 all ones, stride 1, no padding: y is the 2x2 sums of each window.
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> w = {1, 2, 3, 4};
  ConvShape s;
  s.in_height = s.in_width = 3;
  s.kernel_height = s.kernel_width = 2;
  const std::vector<float> dy = {1, 0, 0, 2};  // gradient at outputs (0,0) and (1,1)
  std::vector<float> dx(9, -1.0f), dw(4, -1.0f), db(1, -1.0f);
  conv->backward_input(s, dy.data(), w.data(), dx.data());
  // Output (0,0) spreads w over x[0..1][0..1]; output (1,1) spreads 2w over x[1..2][1..2].
  CHECK(dx == std::vector<float>{1, 2, 0, 3, 4 + 2, 4, 0, 6, 8});
  conv->backward_weights(s, x.data(), dy.data(), dw.data(), db.data());
  CHECK(dw == std::vector<float>{1 + 2 * 5, 2 + 2 * 6, 4 + 2 * 8, 5 + 2 * 9});
  CHECK(db[0] == 3.0f);
}

TEST_CASE("unknown implementation names are a clear error", "[registry]") {
  CHECK_THROWS_WITH(convlab::make_conv_impl("fastest"), Catch::Contains("unknown implementation 'fastest'") &&
                                                            Catch::Contains("naive"));
}
