// Every registered implementation against the naive reference over a systematic sweep of shapes (the
// checks themselves, and why their tolerances are what they are, live in conv_tester.{hpp,cpp}).
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "common/conv/conv_registry.hpp"

#include "impls/im2col/im2col_conv.hpp"
#include "tests/conv_tester.hpp"

using convlab::testing::ConvTester;

TEST_CASE("crosscheck: batch sizes 1 and odd, channel counts 1 and several", "[crosscheck]") {
  for (convlab::Index batch : {1, 3})
    for (convlab::Index in : {1, 3})
      for (convlab::Index out : {1, 4}) {
        ConvTester().batch(batch).in_channels(in).out_channels(out).image(6, 7).window(3).test_all_implementations();
      }
}

TEST_CASE("crosscheck: the builder example with every option set", "[crosscheck]") {
  ConvTester().batch(3).in_channels(2).out_channels(5).image(7, 9).window(3, 2).stride(2, 1).padding(1, 0)
      .test_all_implementations();
}

TEST_CASE("crosscheck: windows as large as the image, with and without padding", "[crosscheck]") {
  ConvTester().batch(2).in_channels(2).out_channels(3).image(5, 4).window(5, 4).test_all_implementations();
  ConvTester().batch(1).in_channels(1).out_channels(2).image(1, 1).window(1, 1).test_all_implementations();
  ConvTester().batch(2).in_channels(2).out_channels(2).image(3, 3).window(5, 5).padding(1).test_all_implementations();
}

TEST_CASE("crosscheck: strides larger than the window skip pixels", "[crosscheck]") {
  ConvTester().batch(2).in_channels(2).out_channels(3).image(11, 13).window(2).stride(3).test_all_implementations();
  ConvTester().batch(1).in_channels(1).out_channels(2).image(9, 10).window(1, 2).stride(4, 3).test_all_implementations();
  ConvTester().batch(3).in_channels(2).out_channels(2).image(8).window(3).stride(5).padding(2).test_all_implementations();
}

TEST_CASE("crosscheck: padding on each side separately", "[crosscheck]") {
  ConvTester().batch(2).in_channels(2).out_channels(3).image(5, 6).window(3).padding(1, 0).test_all_implementations();
  ConvTester().batch(2).in_channels(2).out_channels(3).image(5, 6).window(3).padding(0, 2).test_all_implementations();
  ConvTester().batch(1).in_channels(3).out_channels(2).image(4, 5).window(2, 3).padding(3, 1).stride(2)
      .test_all_implementations();
}

// Widths below, at and around the vector widths (16 floats, 8 doubles), so that vectorised implementations
// meet every remainder, including rows shorter than one vector.
TEST_CASE("crosscheck: image widths 1 to 35", "[crosscheck]") {
  for (convlab::Index width = 1; width <= 35; ++width) {
    const convlab::Index window = std::min<convlab::Index>(3, width);
    ConvTester().batch(1).in_channels(2).out_channels(3).image(4, width).window(2, window).test_all_implementations();
    ConvTester().batch(2).in_channels(1).out_channels(2).image(3, width).window(3, window).stride(1, 2).padding(1)
        .test_all_implementations();
  }
}

// The input gradient of layers with one or two input channels and square 3x3 / 5x5 windows slides down
// the rows (simd_kernels_impl.hpp) and on AVX-512 reads the output gradient unpadded, with masks: widths
// from below one vector to past two (where it hands over to the other kernels), heights that leave every
// remainder of its 8-row blocks, and every padding a window allows.
TEST_CASE("crosscheck: input gradient of few-channel square windows, every width, height and padding",
          "[crosscheck]") {
  for (convlab::Index window : {3, 5})
    for (convlab::Index in : {1, 2})
      for (convlab::Index pad = 0; pad < window; ++pad)
        for (convlab::Index width : {1, 5, 8, 9, 15, 16, 17, 24, 28, 32, 33, 40}) {
          const convlab::Index height = 1 + (width * 7 + pad * 3) % 19;
          if (width + 2 * pad < window || height + 2 * pad < window) continue;
          INFO("window " << window << ", in " << in << ", pad " << pad << ", " << height << "x" << width);
          ConvTester().batch(2).in_channels(in).out_channels(3).image(height, width).window(window).padding(pad)
              .test_all_implementations();
        }
}

TEST_CASE("crosscheck: the lecture's layer, 1 -> 20 channels, 5x5 windows on 28x28", "[crosscheck]") {
  ConvTester().batch(3).in_channels(1).out_channels(20).image(28).window(5).test_all_implementations();
}

TEST_CASE("crosscheck: a second layer, 20 -> 50 channels, 5x5 stride 2 on 24x24", "[crosscheck]") {
  ConvTester().batch(2).in_channels(20).out_channels(50).image(24).window(5).stride(2).test_all_implementations();
}

TEST_CASE("crosscheck: a padded 3x3 layer keeping the image size", "[crosscheck]") {
  ConvTester().batch(2).in_channels(8).out_channels(16).image(14).window(3).padding(1).test_all_implementations();
}

// Shapes nobody chose: each extent drawn at random (seeded, so a failure names a reproducible shape), the
// window at most the padded image, strides up to 3 and padding up to 2 on each axis independently.
TEST_CASE("crosscheck: 200 random shapes", "[crosscheck]") {
  std::mt19937 engine(20261201);
  const auto pick = [&](convlab::Index low, convlab::Index high) {
    return std::uniform_int_distribution<convlab::Index>(low, high)(engine);
  };
  for (int trial = 0; trial < 200; ++trial) {
    const convlab::Index height = pick(1, 20), width = pick(1, 40);
    const convlab::Index pad_rows = pick(0, 2), pad_cols = pick(0, 2);
    ConvTester tester;
    tester.batch(pick(1, 4)).in_channels(pick(1, 4)).out_channels(pick(1, 6)).image(height, width)
        .padding(pad_rows, pad_cols).window(pick(1, std::min<convlab::Index>(height + 2 * pad_rows, 6)),
                                            pick(1, std::min<convlab::Index>(width + 2 * pad_cols, 6)))
        .stride(pick(1, 3), pick(1, 3)).seed(std::uint32_t(trial));
    INFO("random trial " << trial);
    tester.test_all_implementations();
  }
}

// im2col works on bands of output rows of one image (sized by K x band pixels), threads over (image, band)
// units (several whole images per band when they are small), splits images into channel groups for the input
// gradient when the batch is smaller than the thread count, and sums the weight gradient over fixed chunks of
// units -- or, when an image takes several bands and its channels make at least four groups of L2-sized
// columns, by channel groups over whole images (Im2colGeometry::weight_grad_groups). These shapes reach those
// edges: several
// bands with a short last one, batch 1 and odd, K not a multiple of the gemm's 128-deep blocks, strides and
// padding; the tester also demands 1 vs 2 threads bitwise for all three passes.
TEST_CASE("crosscheck: im2col at its band, channel-group and weight-chunk edges", "[crosscheck][im2col][heavy]") {
  struct Case {
    ConvTester tester;
    convlab::Index min_bands;
  };
  const Case cases[] = {
      // batch 1: two bands of 13 and 12 rows, channel groups for the input gradient; K = 144 = 128 + 16
      {ConvTester().batch(1).in_channels(16).out_channels(48).image(25).window(3).padding(1), 2},
      // K = 360 on 30x30: four bands, the last shorter; the weight gradient by 4 channel groups of 10 (float)
      {ConvTester().batch(3).in_channels(40).out_channels(20).image(30).window(3).padding(1), 3},
      // ... 37 channels on 30x29: weight-gradient groups of 10, 10, 10 and 7 channels (float; 6 x 6 + 1 double)
      {ConvTester().batch(2).in_channels(37).out_channels(20).image(30, 29).window(3).padding(1), 3},
      // 250 -> 33 channels on 12x12 (K = 2250): W^T (74250 elements) transposed by both threads in blocks of 16 of
      // its rows, the last 10 and a last filter block of 1; weight-gradient groups of 63, 63, 63 and 61 channels
      {ConvTester().batch(1).in_channels(250).out_channels(33).image(12).window(3).padding(1), 2},
      // stride 2, uneven padding and window: K = 255, two bands of a 31 x 23 output
      {ConvTester().batch(2).in_channels(17).out_channels(33).image(61, 45).window(3, 5).stride(2).padding(1, 2), 2},
      // K = 1600 (12.5 blocks of 128), odd batch 5, 5x5 padded: bands of 5, 5 and 4 rows
      {ConvTester().batch(5).in_channels(64).out_channels(16).image(14).window(5).padding(2), 3},
      // batch 1, 3 channels split 1 + 2 between the threads, stride 3 and padding
      {ConvTester().batch(1).in_channels(3).out_channels(64).image(61, 52).window(4).stride(3).padding(2), 2},
      // small images banded several at a time: 7 images of the lecture's layer in bands of 4 and 3 images
      {ConvTester().batch(7).in_channels(1).out_channels(20).image(28).window(5), 1},
      // ... and at stride 4 with padding, 9 images of 7x7 outputs
      {ConvTester().batch(9).in_channels(2).out_channels(3).image(28).window(5).stride(4).padding(1), 1},
  };
  convlab::Index grouped = 0;
  for (const Case& c : cases) {
    const convlab::Im2colGeometry g(c.tester.shape(), sizeof(float));
    INFO(c.tester.shape().describe());
    CHECK(g.bands >= c.min_bands);
    if (g.weight_grad_groups > 1) ++grouped;
    if (c.min_bands == 1) CHECK(g.images_per_band > 1);
    c.tester.test_all("im2col");
  }
  CHECK(grouped == 4);  // the three above and the 64-channel 5x5 layer; the others sum the weight gradient by chunks
}

TEST_CASE("crosscheck: held calls refuse a layer other than the held one, or none held", "[crosscheck]") {
  const convlab::ConvShape layer = ConvTester().batch(1).in_channels(3).out_channels(4).image(8).window(3).padding(1).shape();
  for (const convlab::ConvImplInfo& info : convlab::conv_implementations()) {
    INFO(info.name);
    const auto impl = info.make();
    std::vector<float> x(std::size_t(layer.input_size()), 1.0f), w(std::size_t(layer.weight_size()), 1.0f);
    std::vector<float> y(std::size_t(layer.output_size()) * 2);
    CHECK_THROWS_WITH(impl->forward_held(layer, x.data(), y.data()), Catch::Contains("no weights"));
    CHECK_THROWS_WITH(impl->backward_input_held(layer, y.data(), x.data()), Catch::Contains("backward_input_held"));
    impl->hold_weights(layer, w.data(), nullptr);
    convlab::ConvShape wider = layer;
    wider.out_channels = 5;
    CHECK_THROWS_WITH(impl->forward_held(wider, x.data(), y.data()), Catch::Contains("differs from the held"));
    std::vector<double> xd(x.begin(), x.end()), yd(y.size());
    CHECK_THROWS_WITH(impl->forward_held(layer, xd.data(), yd.data()), Catch::Contains("no weights"));
    convlab::ConvShape two = layer;
    two.batch = 2;
    std::vector<float> x2(std::size_t(two.input_size()), 1.0f);
    CHECK_NOTHROW(impl->forward_held(two, x2.data(), y.data()));
    CHECK(y[0] == 12.0f);  // a corner pixel: 3 channels x the 2x2 window cells inside the image
  }
}
