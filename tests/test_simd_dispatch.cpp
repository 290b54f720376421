// impls/simd and impls/openmp on every arch this CPU supports: arch selection (forced, environment,
// unsupported requests) and agreement with naive for awkward widths, strides and padding.
#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_descriptor.hpp"
#include "common/conv/conv_registry.hpp"
#include "impls/openmp/openmp_conv.hpp"
#include "impls/simd/blocked_plan.hpp"
#include "impls/simd/simd_arch.hpp"
#include "impls/simd/simd_kernels.hpp"
#include "impls/simd/simd_conv.hpp"
#include "tests/naive_comparison.hpp"
#include "tests/openmp_vs_simd.hpp"

using convlab::ConvImpl;
using convlab::ConvShape;
using convlab::Index;
using convlab::simd::Arch;
using convlab::testing::absolute;
using convlab::testing::check_close;
using convlab::testing::compare_with_naive;
using convlab::testing::make_data;

namespace {

// Restores the process-wide selection state whatever a test does.
struct ArchStateGuard {
  ArchStateGuard() {
    const char* value = std::getenv(convlab::simd::kArchEnvVar);
    had_env = value != nullptr;
    if (had_env) env = value;
  }
  ~ArchStateGuard() {
    convlab::simd::set_forced_arch(std::nullopt);
    if (had_env) setenv(convlab::simd::kArchEnvVar, env.c_str(), 1);
    else unsetenv(convlab::simd::kArchEnvVar);
  }
  bool had_env = false;
  std::string env;
};

// Widths around every vector width (4/8/16 floats, 2/4/8 doubles), with strides and padding.
std::vector<ConvShape> awkward_shapes() {
  std::vector<ConvShape> shapes;
  struct Window {
    Index kh, kw, sh, sw, ph, pw;
  };
  // The first two, with stride 1 and square windows, take the sliding input-gradient kernel.
  const Window windows[] = {{3, 3, 1, 1, 0, 0}, {5, 5, 1, 1, 2, 1}, {2, 3, 2, 1, 1, 1}, {3, 2, 1, 3, 0, 2},
                            {1, 5, 1, 2, 2, 2}};
  for (Index width : {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33}) {
    for (const Window& window : windows) {
      ConvShape s;
      s.batch = 2;
      s.in_channels = 2;
      s.out_channels = 3;
      s.in_height = 5;
      s.in_width = width;
      s.kernel_height = window.kh;
      s.stride_height = window.sh;
      s.stride_width = window.sw;
      s.pad_height = window.ph;
      s.pad_width = window.pw;
      s.kernel_width = std::min(window.kw, width + 2 * window.pw);
      shapes.push_back(s);
    }
  }
  return shapes;
}

ConvShape lecture_layer(Index batch) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = 1;
  s.out_channels = 20;
  s.in_height = s.in_width = 28;
  s.kernel_height = s.kernel_width = 5;
  return s;
}

}  // namespace

TEST_CASE("simd: arch names, availability and the selection rule", "[simd]") {
  const auto available = convlab::simd::available_archs();
  REQUIRE(!available.empty());
  CHECK(available.back() == Arch::sse2);
  for (Arch arch : available) CHECK(convlab::simd::parse_arch(convlab::simd::arch_name(arch)) == arch);
  CHECK_THROWS_AS(convlab::simd::parse_arch("neon"), convlab::simd::ArchError);

  CHECK(convlab::simd::resolve_arch("", available) == available.front());
  CHECK(convlab::simd::resolve_arch("auto", available) == available.front());
  CHECK(convlab::simd::resolve_arch("sse2", available) == Arch::sse2);
  // A CPU without AVX-512: asking for it is an error naming the request and what is there.
  const std::vector<Arch> no_avx512 = {Arch::avx2, Arch::sse2};
  CHECK(convlab::simd::resolve_arch("auto", no_avx512) == Arch::avx2);
  CHECK_THROWS_WITH(convlab::simd::resolve_arch("avx512f", no_avx512),
                    Catch::Contains("avx512f") && Catch::Contains("available: avx2, sse2"));
  CHECK_THROWS_AS(convlab::simd::resolve_arch("avx3", available), convlab::simd::ArchError);
}

TEST_CASE("simd: forcing an arch through the API and the environment", "[simd]") {
  ArchStateGuard guard;
  unsetenv(convlab::simd::kArchEnvVar);
  const auto available = convlab::simd::available_archs();
  CHECK(convlab::simd::SimdConv().arch() == available.front());
  for (Arch arch : available) {
    convlab::simd::set_forced_arch(arch);
    CHECK(convlab::simd::SimdConv().arch() == arch);
    CHECK(convlab::openmp::OpenmpConv().arch() == arch);
  }
  convlab::simd::set_forced_arch(std::nullopt);
  setenv(convlab::simd::kArchEnvVar, "sse2", 1);
  CHECK(convlab::simd::SimdConv().arch() == Arch::sse2);
  convlab::simd::set_forced_arch(available.front());  // the API wins over the environment
  CHECK(convlab::simd::SimdConv().arch() == available.front());
  convlab::simd::set_forced_arch(std::nullopt);
  setenv(convlab::simd::kArchEnvVar, "auto", 1);
  CHECK(convlab::simd::SimdConv().arch() == available.front());
  setenv(convlab::simd::kArchEnvVar, "altivec", 1);
  CHECK_THROWS_AS(convlab::simd::SimdConv(), convlab::simd::ArchError);
  CHECK_THROWS_AS(convlab::openmp::OpenmpConv(), convlab::simd::ArchError);
  for (Arch arch : {Arch::sse2, Arch::avx2, Arch::avx512f}) {
    if (convlab::simd::arch_available(arch)) continue;  // only on a CPU that lacks it
    CHECK_THROWS_AS(convlab::simd::set_forced_arch(arch), convlab::simd::ArchError);
    CHECK_THROWS_AS(convlab::simd::SimdConv(arch), convlab::simd::ArchError);
  }
}

TEST_CASE("simd: an arch the CPU lacks is refused, on any machine (posing as a CPU without AVX-512)", "[simd]") {
  // The loop above only runs on a CPU that lacks an arch; here the CPU's features are passed in, so the
  // refusal is checked on a machine that has all three archs too.
  using convlab::simd::CpuFeatures;
  ArchStateGuard guard;
  unsetenv(convlab::simd::kArchEnvVar);
  const CpuFeatures everything{true, true, true, true};
  const CpuFeatures no_avx512{true, true, false, false};
  const CpuFeatures avx512f_without_dq{true, true, true, false};  // the avx512f kernels need DQ too
  const CpuFeatures sse2_only{true, false, false, false};
  CHECK(convlab::simd::available_archs(everything) == std::vector<Arch>{Arch::avx512f, Arch::avx2, Arch::sse2});
  CHECK(convlab::simd::available_archs(no_avx512) == std::vector<Arch>{Arch::avx2, Arch::sse2});
  CHECK(convlab::simd::available_archs(avx512f_without_dq) == std::vector<Arch>{Arch::avx2, Arch::sse2});
  CHECK(convlab::simd::available_archs(sse2_only) == std::vector<Arch>{Arch::sse2});
  CHECK_FALSE(convlab::simd::arch_available(Arch::avx512f, no_avx512));
  CHECK(convlab::simd::arch_available(Arch::avx2, no_avx512));
  // The default is this CPU's features.
  CHECK(convlab::simd::available_archs(convlab::simd::detected_cpu_features()) ==
        convlab::simd::available_archs());

  // Forcing: refused with a message naming the arch and what the CPU has, and the previous choice kept.
  convlab::simd::set_forced_arch(Arch::sse2);
  CHECK_THROWS_AS(convlab::simd::set_forced_arch(Arch::avx512f, no_avx512), convlab::simd::ArchError);
  CHECK_THROWS_WITH(convlab::simd::set_forced_arch(Arch::avx512f, no_avx512),
                    Catch::Contains("cannot force arch avx512f") &&
                        Catch::Contains("this CPU lacks it (available: avx2, sse2)"));
  CHECK_THROWS_WITH(convlab::simd::set_forced_arch(Arch::avx512f, avx512f_without_dq),
                    Catch::Contains("cannot force arch avx512f") && Catch::Contains("available: avx2, sse2"));
  CHECK_THROWS_WITH(convlab::simd::set_forced_arch(Arch::avx2, sse2_only),
                    Catch::Contains("cannot force arch avx2") && Catch::Contains("available: sse2)"));
  CHECK(convlab::simd::forced_arch() == Arch::sse2);
  // What that CPU has is accepted (only the state changes: no object is made here with the forced arch).
  convlab::simd::set_forced_arch(Arch::avx2, no_avx512);
  CHECK(convlab::simd::forced_arch() == Arch::avx2);
  convlab::simd::set_forced_arch(std::nullopt, no_avx512);
  CHECK_FALSE(convlab::simd::forced_arch().has_value());

  // The environment asks the same of the CPU's features.
  CHECK(convlab::simd::selected_arch(no_avx512) == Arch::avx2);
  setenv(convlab::simd::kArchEnvVar, "avx512f", 1);
  CHECK_THROWS_WITH(convlab::simd::selected_arch(no_avx512),
                    Catch::Contains("CONVLAB_SIMD_ARCH=avx512f asks for an arch this CPU lacks (available: avx2, sse2)"));
  CHECK(convlab::simd::selected_arch(everything) == Arch::avx512f);
}

TEST_CASE("simd and openmp equal naive on every available arch: awkward widths, strides, padding", "[simd]") {
  for (Arch arch : convlab::simd::available_archs()) {
    convlab::simd::SimdConv simd(arch);
    convlab::openmp::OpenmpConv openmp(arch);
    const std::string name(convlab::simd::arch_name(arch));
    const bool same_rounding = convlab::simd::rounds_like_naive(convlab::simd::kernel_table(arch));
    for (const ConvShape& s : awkward_shapes()) {
      for (bool small_integers : {true, false}) {
        compare_with_naive<float>(simd, s, small_integers, "simd/" + name, same_rounding);
        compare_with_naive<double>(simd, s, small_integers, "simd/" + name, same_rounding);
      }
      // One data kind for openmp: its kernels are simd's, what differs is the tiling (and every parallel
      // region costs milliseconds when the shared machine preempts a thread).
      compare_with_naive<float>(openmp, s, true, "openmp/" + name, same_rounding);
    }
  }
}

TEST_CASE("simd and openmp equal naive on the lecture's first layer on every available arch", "[simd]") {
  for (Arch arch : convlab::simd::available_archs()) {
    convlab::simd::SimdConv simd(arch);
    convlab::openmp::OpenmpConv openmp(arch);
    const std::string name(convlab::simd::arch_name(arch));
    const bool same_rounding = convlab::simd::rounds_like_naive(convlab::simd::kernel_table(arch));
    for (bool small_integers : {true, false}) {
      compare_with_naive<float>(simd, lecture_layer(3), small_integers, "simd/" + name, same_rounding);
      compare_with_naive<float>(openmp, lecture_layer(3), small_integers, "openmp/" + name, same_rounding);
    }
    compare_with_naive<double>(openmp, lecture_layer(2), false, "openmp/" + name, same_rounding);
  }
}

TEST_CASE("openmp is bitwise independent of the thread count and bitwise equal to simd", "[simd]") {
  ConvShape s = lecture_layer(37);  // more images than weight-gradient chunks, not a multiple of them
  s.stride_width = 2;
  s.pad_height = 1;
  convlab::testing::check_openmp_matches_simd_on_any_thread_count(s, 5);
}

TEST_CASE("openmp tiles: whole lecture images per tile, at least 4 tiles per thread", "[simd]") {
  // 1 -> 20 channels 5x5 on 28x28: 2000 weight bytes per channel, ~ 3 KB input per image.
  const convlab::openmp::Tiling t = convlab::openmp::choose_tiling(1000, 20, 24, 100, 112, 448, 576000.0, 2);
  CHECK(t.channels == 20);
  CHECK(t.rows == 24);
  CHECK(t.images >= 1);
  CHECK(t.count() >= 8);
  CHECK(t.images * t.image_tiles >= 1000);
  const convlab::openmp::Tiling small = convlab::openmp::choose_tiling(3, 20, 24, 100, 112, 448, 576000.0, 2);
  CHECK(small.images == 1);
}

TEST_CASE("openmp tiles: a single image that fits one band is cut into row tiles for every thread", "[simd]") {
  // DeepBench's OCR layer at batch 1: 1 -> 16 channels, 3x3, 48 x 480; 36 weight bytes per channel and a
  // 2 KB row, so one tile would hold the whole image and keep the second thread idle.
  const double flops = 2.0 * 16 * 9 * 48 * 480;
  const convlab::openmp::Tiling t = convlab::openmp::choose_tiling(1, 16, 48, 36, 1928, 3856, flops, 2);
  CHECK(t.channel_tiles == 1);
  CHECK(t.row_tiles == 4);  // 2 per thread, each 12 rows (1.66 MFLOP)
  CHECK(t.rows * t.row_tiles >= 48);
  CHECK(t.count() == 4);
  // Not below 0.5 MFLOP a tile: a 1.2 MFLOP image is cut in two, not four.
  CHECK(convlab::openmp::choose_tiling(1, 16, 48, 36, 1928, 3856, 1.2e6, 2).count() == 2);
  // Tiles that each prepare their whole image (split_small_batch false): one tile.
  CHECK(convlab::openmp::choose_tiling(1, 16, 48, 36, 1928, 3856, flops, 2, false).count() == 1);
}

TEST_CASE("openmp: a batch-1 image cut into row tiles gives simd's bits", "[simd]") {
  ConvShape s;  // one channel, 64 x 160, 3x3 padded: 2.9 MFLOP, one band without the split, 4 tiles with it
  s.batch = 1;
  s.in_channels = 1;
  s.in_height = 64;
  s.in_width = 160;
  s.out_channels = 16;
  s.kernel_height = s.kernel_width = 3;
  s.pad_height = s.pad_width = 1;
  convlab::testing::check_openmp_matches_simd_on_any_thread_count(s, 7);
}

TEST_CASE("openmp: a batch-1 strided input gradient cut into row bands gives simd's bits", "[simd]") {
  // One input channel (the column-vector kernels' polyphase input gradient), stride 2 and 3, with and without
  // padding: at batch 1 each thread takes bands of input rows and prepares only the output-gradient rows their
  // phases read (from kMinPolyphaseSplitFlops = 16 MFLOP an image in impls/openmp/openmp_conv.cpp; these: 23-25).
  const auto layer = [](const char* descriptor) { return convlab::parse_conv_descriptor(descriptor, 1).shape; };
  convlab::testing::check_planes_openmp_matches_simd({layer("mb1ic1ih161iw400oc16kh5kw10sh2sw2"),
                                                      layer("mb1ic1ih161iw400oc16kh5kw10sh2sw2ph2pw3"),
                                                      layer("mb1ic1ih241iw400oc32kh5kw7sh3sw3ph1pw0")},
                                                     convlab::ConvPass::backward_input, 17);
}

TEST_CASE("openmp: a batch-1 weight gradient shared out by filters gives simd's bits", "[simd]") {
  // One image is one weight-gradient chunk: on 2 or 3 threads each takes a part of the filters. The lecture's
  // layer (20 filters: 10 + 10), 17 filters on 3 channels (8 + 9: blocks of 4 on one thread, of 3 on the
  // other), and a strided layer (its output gradient copied in rows, not one flat run) with 11 filters.
  ConvShape lecture = lecture_layer(1);
  ConvShape odd;
  odd.batch = 1;
  odd.in_channels = 3;
  odd.in_height = odd.in_width = 29;
  odd.out_channels = 17;
  odd.kernel_height = odd.kernel_width = 5;
  ConvShape strided = odd;
  strided.in_channels = 1;
  strided.out_channels = 11;
  strided.stride_height = strided.stride_width = 2;
  strided.pad_height = 1;
  // The column-vector kernels, whose chunks are split, on the arch this machine runs by default.
  convlab::testing::check_planes_openmp_matches_simd({lecture, odd, strided}, convlab::ConvPass::backward_weights, 13);
}

TEST_CASE("simd: large forward outputs (streaming stores) equal the cached path bitwise, any alignment", "[simd]") {
  // Above 8 MiB of output the forward pass writes whole aligned vectors with non-temporal stores; an
  // output that is not aligned takes the ordinary stores. Both must give the same bits: the lecture's
  // layer (paired 24-wide row tails), and a padded 3x3 layer with one input channel (the correlation
  // blocks), 64 wide (every vector aligned) and 40 wide (the last vector of each row overlaps the one
  // before it, unaligned).
  ConvShape wide;
  wide.in_channels = 1;
  wide.out_channels = 16;
  wide.in_height = 48;
  wide.kernel_height = wide.kernel_width = 3;
  wide.pad_height = wide.pad_width = 1;
  ConvShape narrow = wide;
  wide.in_width = 64;
  wide.batch = 48;    // 9.4 MB of float output
  narrow.in_width = 40;
  narrow.batch = 80;  // 9.8 MB
  for (const ConvShape& s : {lecture_layer(200), wide, narrow}) {  // lecture: 9.2 MB
    INFO(s.describe());
    REQUIRE(s.output_size() * Index(sizeof(float)) > (Index(8) << 20));
    std::mt19937 random(11);
    const auto x = make_data<float>(s.input_size(), false, random);
    const auto w = make_data<float>(s.weight_size(), false, random);
    const auto b = make_data<float>(s.out_channels, false, random);
    const std::size_t count = std::size_t(s.output_size());
    for (Arch arch : convlab::simd::available_archs()) {
      INFO("arch " << convlab::simd::arch_name(arch));
      // The one-channel layers run the correlation blocks (the column-vector kernels), not the blocked ones.
      if (s.in_channels == 1 && s.kernel_height == 3) {
        CHECK(convlab::simd::choose_kernel_family(s, convlab::ConvPass::forward,
                                                  convlab::simd::kernel_table(arch).f32.lanes) ==
              convlab::simd::KernelFamily::planes);
      }
      convlab::simd::SimdConv simd(arch);
      convlab::openmp::OpenmpConv openmp(arch);
      convlab::AlignedBuffer<float> aligned(count + 16, -7.0f), shifted(count + 16, -7.0f);
      for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
        simd.forward(s, x.data(), w.data(), bias, aligned.data());
        simd.forward(s, x.data(), w.data(), bias, shifted.data() + 1);
        CHECK(std::equal(aligned.data(), aligned.data() + count, shifted.data() + 1));
        openmp.forward(s, x.data(), w.data(), bias, shifted.data() + 4);
        CHECK(std::equal(aligned.data(), aligned.data() + count, shifted.data() + 4));
        CHECK(shifted[count + 4] == -7.0f);  // nothing written past the output
      }
      // The first images against naive (the cached path is checked against naive everywhere else).
      ConvShape first = s;
      first.batch = 2;
      const auto naive = convlab::make_conv_impl("naive");
      std::vector<float> reference(std::size_t(first.output_size()));
      naive->forward(first, x.data(), w.data(), nullptr, reference.data());
      std::vector<float> magnitude(reference.size());
      naive->forward(first, absolute(std::vector<float>(x.begin(), x.begin() + first.input_size())).data(),
                     absolute(w).data(), nullptr, magnitude.data());
      check_close(std::vector<float>(aligned.data(), aligned.data() + reference.size()), reference, magnitude,
                  first.reduction_length(), false, "streamed forward");
    }
  }
}

TEST_CASE("openmp: tiles that split output channels and rows give simd's bits", "[simd]") {
  ConvShape s;  // 48 KB of input per row band row: row tiles; 8 KB of weights per channel pair: channel tiles
  s.batch = 1;
  s.in_channels = 40;
  s.in_height = 12;
  s.in_width = 300;
  s.out_channels = 6;
  s.kernel_height = s.kernel_width = 3;
  s.pad_height = 1;
  const convlab::openmp::Tiling forward_tiles = convlab::openmp::choose_tiling(
      s.batch, s.out_channels, s.out_height(), s.in_channels * 9 * 4, s.in_channels * 320 * 4, 0, s.forward_flops(), 2);
  CHECK(forward_tiles.row_tiles > 1);
  const int previous = omp_get_max_threads();
  omp_set_num_threads(2);
  for (Arch arch : convlab::simd::available_archs()) {
    INFO("arch " << convlab::simd::arch_name(arch));
    convlab::simd::SimdConv simd(arch);
    convlab::openmp::OpenmpConv openmp(arch);
    std::mt19937 random(3);
    const auto x = make_data<float>(s.input_size(), false, random);
    const auto w = make_data<float>(s.weight_size(), false, random);
    const auto dy = make_data<float>(s.output_size(), false, random);
    std::vector<float> y_simd(std::size_t(s.output_size())), y_openmp(y_simd.size());
    std::vector<float> dx_simd(std::size_t(s.input_size())), dx_openmp(dx_simd.size());
    simd.forward(s, x.data(), w.data(), nullptr, y_simd.data());
    openmp.forward(s, x.data(), w.data(), nullptr, y_openmp.data());
    CHECK(y_simd == y_openmp);
    simd.backward_input(s, dy.data(), w.data(), dx_simd.data());
    openmp.backward_input(s, dy.data(), w.data(), dx_openmp.data());
    CHECK(dx_simd == dx_openmp);
  }
  omp_set_num_threads(previous);
  convlab::openmp::OpenmpConv openmp;
  compare_with_naive<float>(openmp, s, true, "openmp/auto", false);
}
