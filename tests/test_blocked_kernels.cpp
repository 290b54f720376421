// The channel-blocked kernel family of impls/simd and impls/openmp (impls/simd/blocked_kernels.hpp),
// forced on for shapes that reach each of its edges: channel counts around every vector width (partial
// channel vectors and groups), strides 1-4 (every stride phase of the input gradient, phases no tap
// reaches), every padding up to the window's, 1x1 to 7x7 windows, widths from 1 to 40 (tiles that span
// rows, short last tiles). Each against naive on every arch this CPU has, in float and double; and the
// other family forced on the same shapes, so both stay correct whatever the rule picks.
#include <catch2/catch.hpp>
#include <omp.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "impls/openmp/openmp_conv.hpp"
#include "impls/simd/blocked_plan.hpp"
#include "impls/simd/simd_conv.hpp"
#include "tests/naive_comparison.hpp"
#include "tests/openmp_vs_simd.hpp"

using convlab::ConvShape;
using convlab::Index;
using convlab::simd::Arch;
using convlab::simd::KernelFamily;
using convlab::testing::compare_with_naive;
using convlab::testing::make_data;

namespace {

// Forces a family for the test's lifetime, whatever the environment says.
struct FamilyGuard {
  explicit FamilyGuard(KernelFamily family) { convlab::simd::force_kernel_family(family); }
  ~FamilyGuard() { convlab::simd::force_kernel_family(std::nullopt); }
};

ConvShape make_shape(Index batch, Index in_channels, Index out_channels, Index height, Index width, Index kernel_h,
                     Index kernel_w, Index stride_h, Index stride_w, Index pad_h, Index pad_w) {
  ConvShape s;
  s.batch = batch;
  s.in_channels = in_channels;
  s.out_channels = out_channels;
  s.in_height = height;
  s.in_width = width;
  s.kernel_height = kernel_h;
  s.kernel_width = kernel_w;
  s.stride_height = stride_h;
  s.stride_width = stride_w;
  s.pad_height = pad_h;
  s.pad_width = pad_w;
  return s;
}

// Channel counts on both sides of 1, 2 and 4 vectors of floats and doubles (4/8/16 lanes).
std::vector<ConvShape> channel_edge_shapes() {
  std::vector<ConvShape> shapes;
  const Index counts[] = {1, 2, 7, 15, 16, 17, 31, 32, 33, 65};
  for (Index c : counts)
    for (Index f : counts)
      if ((c + f) % 3 == 0 || c == f || c == 17 || f == 17) shapes.push_back(make_shape(2, c, f, 6, 7, 3, 3, 2, 1, 1, 0));
  return shapes;
}

// Geometry: windows 1x1 to 7x7 (and non-square), strides 1-4, paddings 0 .. window-1, widths 1-40; 5 -> 9
// channels (a partial second vector of 8 lanes: floats on AVX2, doubles on AVX-512).
std::vector<ConvShape> geometry_shapes() {
  std::vector<ConvShape> shapes;
  struct Window {
    Index kh, kw;
  };
  const Window windows[] = {{1, 1}, {3, 3}, {7, 7}, {2, 5}};
  const Index widths[] = {1, 2, 5, 17, 40};
  Index variant = 0;
  for (const Window& window : windows)
    for (Index stride = 1; stride <= 4; ++stride)
      for (Index pad_h = 0; pad_h < window.kh; ++pad_h)
        for (Index width : widths) {
          ++variant;
          const Index pad_w = (pad_h + variant) % window.kw;
          if (width + 2 * pad_w < window.kw) continue;
          const Index height = 3 + variant % 6;
          if (height + 2 * pad_h < window.kh) continue;
          // Rows and columns take different strides in every other shape.
          const Index stride_h = variant % 2 ? stride : 1 + (stride % 4);
          shapes.push_back(make_shape(1 + variant % 3, 5, 9, height, width, window.kh, window.kw, stride_h, stride,
                                      pad_h, pad_w));
        }
  return shapes;
}

void sweep(const std::vector<ConvShape>& shapes, KernelFamily family, bool with_doubles) {
  const FamilyGuard guard(family);
  for (Arch arch : convlab::simd::available_archs()) {
    convlab::simd::SimdConv simd(arch);
    convlab::openmp::OpenmpConv openmp(arch);
    const std::string name(convlab::simd::arch_name(arch));
    const bool same_rounding = convlab::simd::rounds_like_naive(convlab::simd::kernel_table(arch));
    for (const ConvShape& s : shapes) {
      compare_with_naive<float>(simd, s, true, "simd/" + name, same_rounding);
      compare_with_naive<float>(simd, s, false, "simd/" + name, same_rounding);
      if (with_doubles) compare_with_naive<double>(simd, s, false, "simd/" + name, same_rounding);
      compare_with_naive<float>(openmp, s, false, "openmp/" + name, same_rounding);
    }
  }
}

}  // namespace

TEST_CASE("blocked kernels: channel counts around every vector width", "[simd][blocked]") {
  sweep(channel_edge_shapes(), KernelFamily::blocked, true);
}

TEST_CASE("blocked kernels: windows 1x1-7x7, strides 1-4, every padding, widths 1-40", "[simd][blocked][heavy]") {
  sweep(geometry_shapes(), KernelFamily::blocked, true);
}

TEST_CASE("blocked kernels: long reductions in tap blocks, large images in pixel bands", "[simd][blocked][heavy]") {
  // More taps than one block's weights hold (128 KiB: 2048 taps of one 64-byte vector), in the forward pass
  // (in channels x window) and in the input gradient (out channels x a phase's window taps), with bands
  // of pixels, padding and a stride; with a partial channel group.
  // And an image whose output gradient the weight gradient takes in several pixel bands (256 KiB each); an
  // unpadded batch of large images, read in place.
  sweep({make_shape(2, 240, 20, 9, 10, 3, 3, 1, 1, 1, 1), make_shape(2, 20, 240, 9, 11, 3, 3, 2, 2, 1, 1),
         make_shape(1, 3, 70, 30, 31, 7, 7, 1, 1, 3, 3), make_shape(2, 2, 64, 40, 41, 3, 3, 1, 1, 0, 1),
         make_shape(3, 40, 20, 30, 31, 3, 3, 2, 1, 0, 0)},
        KernelFamily::blocked, true);
}

TEST_CASE("blocked kernels: several channel groups over an image wider than L2, band by band", "[simd][blocked]") {
  // A lone image on one thread goes image by image. 65 out channels make two or more groups, whose units
  // then go band by band, with bands cut so a band's input rows stay in L2 between the groups: 1100 channels
  // of 60 columns are about 0.5 MiB a row in doubles, so one output row per band, three bands.
  sweep({make_shape(1, 1100, 65, 3, 60, 1, 1, 1, 1, 0, 0)}, KernelFamily::blocked, false);
}

TEST_CASE("blocked kernels: the weight gradient of a 1x1 layer over an image beyond L2 prefetches its taps",
          "[simd][blocked]") {
  // 70 channels of 64 x 64 floats are 1.1 MiB an image: the weight gradient's tiles prefetch their taps'
  // lines (each tap of a 1x1 window its own channel plane); a 3x3 window over the same image, or a 1x1
  // window over a small one, does not.
  const ConvShape wide = make_shape(2, 70, 33, 64, 64, 1, 1, 2, 2, 0, 0);
  const auto& kernels = convlab::simd::blocked_table(Arch::avx512f).f32;
  const auto prefetches = [&](const ConvShape& s) {
    return convlab::simd::BlockedBackwardWeights(s, kernels.taps_per_tile, kernels.lanes, kernels.max_vectors, 1,
                                                 Index(sizeof(float)))
        .prefetches_source();
  };
  CHECK(prefetches(wide));
  CHECK_FALSE(prefetches(make_shape(2, 70, 33, 64, 64, 3, 3, 2, 2, 0, 0)));
  CHECK_FALSE(prefetches(make_shape(2, 70, 33, 16, 16, 1, 1, 2, 2, 0, 0)));
  sweep({wide}, KernelFamily::blocked, false);
}

TEST_CASE("blocked kernels: weight gradients of one chunk unpacked unit by unit", "[simd][blocked]") {
  // On two threads, one chunk of sums (a batch of one; or 2496 -> 40 channels of 3x3 windows, 1.08 Mi sums,
  // too many to copy per chunk, over three images) is unpacked into the weight gradient by its units, 48 taps
  // at a time after the chunk's last image, the last channel vector half padding; that layer's 3.6 MB of float
  // weight gradient with non-temporal stores of whole lines (its rows of 22464 taps are aligned). The 70 x 70
  // image's output gradient goes in three pixel bands, the last of them unpacked. One thread unpacks by unit
  // only sums beyond L2 (the 2496-channel layer's) and leaves small ones to finish(), as do several chunks.
  const ConvShape wide = make_shape(3, 2496, 40, 2, 3, 3, 3, 1, 1, 1, 1);
  const ConvShape banded = make_shape(1, 2, 20, 70, 70, 3, 3, 1, 1, 1, 1);
  const auto& kernels = convlab::simd::blocked_table(Arch::avx512f).f32;
  const auto unpacks = [&](const ConvShape& s, int threads) {
    return convlab::simd::BlockedBackwardWeights(s, kernels.taps_per_tile, kernels.lanes, kernels.max_vectors,
                                                 threads, Index(sizeof(float)))
        .unpacks_by_unit();
  };
  CHECK(unpacks(wide, 2));
  CHECK(unpacks(banded, 2));
  CHECK(unpacks(wide, 1));
  CHECK_FALSE(unpacks(banded, 1));
  CHECK_FALSE(unpacks(make_shape(3, 250, 40, 3, 4, 3, 3, 1, 1, 1, 1), 2));
  CHECK_FALSE(unpacks(make_shape(3, 250, 40, 3, 4, 3, 3, 1, 1, 1, 1), 1));
  const FamilyGuard guard(KernelFamily::blocked);
  const int previous = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (Arch arch : convlab::simd::available_archs()) {
      convlab::openmp::OpenmpConv openmp(arch);
      const std::string name = "openmp/" + std::string(convlab::simd::arch_name(arch)) + " on " +
                               std::to_string(threads) + " thread(s)";
      const bool same_rounding = convlab::simd::rounds_like_naive(convlab::simd::kernel_table(arch));
      for (const ConvShape& s : {wide, banded}) {
        compare_with_naive<float>(openmp, s, false, name, same_rounding);
        compare_with_naive<double>(openmp, s, false, name, same_rounding);
      }
    }
  }
  omp_set_num_threads(previous);
}

TEST_CASE("blocked kernels: forward groups of two vectors where their weights fit half of L1", "[simd][blocked]") {
  // 3 -> 64 channels of 7x7 windows (resnet's conv1): 147 taps of 4 vectors are 37.6 KB of packed floats, of 2
  // vectors 18.8 KB, so the forward pass runs two groups of 32 channels; 64 -> 64 channels of 3x3 (576 taps)
  // overflow L1 at any width and keep one group of 64; 3 -> 20 channels were never wider than 2 vectors.
  const ConvShape conv1 = make_shape(2, 3, 64, 23, 21, 7, 7, 2, 2, 3, 3);
  const auto& kernels = convlab::simd::blocked_table(Arch::avx512f).f32;
  const auto groups = [&](const ConvShape& s) {
    return convlab::simd::BlockedForward(s, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, 1,
                                         Index(sizeof(float)), kernels.row_tile_pixels, kernels.row_tile_max_vectors)
        .pieces();
  };
  CHECK(groups(conv1) == 2);
  CHECK(groups(make_shape(2, 64, 64, 9, 9, 3, 3, 1, 1, 1, 1)) == 1);
  CHECK(groups(make_shape(2, 3, 20, 23, 21, 7, 7, 2, 2, 3, 3)) == 1);
  sweep({conv1, make_shape(1, 3, 70, 16, 17, 7, 7, 2, 2, 3, 3)}, KernelFamily::blocked, true);
}

TEST_CASE("blocked kernels: megabytes of weights over small images, the weights first", "[simd][blocked]") {
  // 300 -> 130 channels of 3x3 windows are 1.5 MB of packed float weights against two 3 x 4 images: the
  // units go weight piece by weight piece over both images (forward pass and input gradient).
  sweep({make_shape(2, 300, 130, 3, 4, 3, 3, 1, 1, 1, 1)}, KernelFamily::blocked, false);
}

TEST_CASE("blocked kernels: a lone image under one group of megabytes of weights, packed by each thread",
          "[simd][blocked]") {
  // Batch 1 shares no images among the threads, and one channel group (16 or 40 out channels) is fewer weight
  // pieces than threads: each thread packs the whole group into a copy of its own and runs its bands of pixels.
  sweep({make_shape(1, 300, 40, 5, 6, 3, 3, 1, 1, 1, 1), make_shape(1, 512, 16, 6, 7, 5, 5, 1, 1, 2, 2)},
        KernelFamily::blocked, false);
}

TEST_CASE("blocked kernels: windows that do not overlap (window <= stride; with padding, any channel count)",
          "[simd][blocked]") {
  sweep({make_shape(2, 20, 18, 11, 13, 3, 3, 3, 3, 2, 1), make_shape(3, 40, 33, 9, 10, 2, 2, 2, 2, 1, 1),
         make_shape(2, 70, 17, 12, 12, 1, 1, 2, 2, 0, 0), make_shape(1, 5, 40, 7, 17, 2, 3, 2, 4, 1, 2)},
        KernelFamily::blocked, true);
}

TEST_CASE("blocked kernels: row tiles on outputs 7 and 14 wide, padded rows skipped exactly", "[simd][blocked]") {
  // Output rows of 7 with padded window rows: the AVX-512 plan takes tiles of 7 pixels (up to 3 channel
  // vectors), each tile one row; 40, 33 and 20 channels leave partial groups. Rows of 14 with up to 3 vectors
  // too (any saving pays where the groups stay whole).
  const std::vector<ConvShape> shapes = {make_shape(2, 5, 40, 7, 7, 3, 3, 1, 1, 1, 1),
                                         make_shape(1, 7, 33, 7, 7, 5, 5, 1, 1, 2, 2),
                                         make_shape(3, 4, 20, 6, 13, 3, 3, 2, 2, 1, 1),  // 7 wide at stride 2
                                         make_shape(1, 7, 33, 14, 14, 5, 5, 1, 1, 2, 2)};
  const auto& kernels = convlab::simd::blocked_table(Arch::avx512f).f32;
  for (const ConvShape& s : shapes) {
    INFO(s.describe());
    const convlab::simd::BlockedForward plan(s, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, 1,
                                             Index(sizeof(float)), kernels.row_tile_pixels,
                                             kernels.row_tile_max_vectors);
    CHECK(plan.row_tiles());
  }
  // An unpadded 8-wide layer keeps the ordinary tiles, and so does a 14-wide one of 5 vectors (groups of 4 in
  // ordinary tiles) whose rows of 6-pixel tiles skip nearly as many padded window rows.
  const ConvShape wide = make_shape(1, 5, 40, 10, 10, 3, 3, 1, 1, 0, 0);
  CHECK_FALSE(convlab::simd::BlockedForward(wide, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, 1,
                                            Index(sizeof(float)), kernels.row_tile_pixels,
                                            kernels.row_tile_max_vectors)
                  .row_tiles());
  const ConvShape fourteen = make_shape(1, 7, 70, 14, 14, 5, 5, 1, 1, 2, 2);
  CHECK_FALSE(convlab::simd::BlockedForward(fourteen, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors,
                                            1, Index(sizeof(float)), kernels.row_tile_pixels,
                                            kernels.row_tile_max_vectors)
                  .row_tiles());
  sweep(shapes, KernelFamily::blocked, true);
}

TEST_CASE("planes kernels: the same channel and geometry sweeps", "[simd][blocked][heavy]") {
  sweep(channel_edge_shapes(), KernelFamily::planes, false);
  sweep(geometry_shapes(), KernelFamily::planes, false);
}

TEST_CASE("blocked kernels: openmp on 1, 2 and 3 threads gives simd's bits", "[simd][blocked][heavy]") {
  const FamilyGuard guard(KernelFamily::blocked);
  // More images than weight-gradient chunks (not a multiple of them), padding, a stride, a partial
  // channel group; batch 1, where the pixels and taps are cut into bands instead of images; and two images
  // of a layer whose weights come in tap blocks over several channel groups, each thread packing the groups
  // its units read (fewer images than 3 threads), a stride 2 splitting the input gradient into phases; and
  // six images of a layer of several channel groups over images wider than L2, run band by band; five small
  // images under megabytes of weights, run weight piece by weight piece; and a lone image under one group of
  // megabytes of weights, which every thread packs whole for itself.
  for (const ConvShape& s : {make_shape(37, 20, 50, 12, 13, 5, 5, 2, 2, 1, 2), make_shape(1, 33, 70, 15, 9, 3, 3, 1, 1, 1, 1),
                             make_shape(2, 150, 140, 9, 8, 3, 3, 2, 2, 1, 1), make_shape(6, 1100, 65, 6, 60, 1, 1, 2, 2, 0, 0),
                             make_shape(5, 300, 130, 3, 4, 3, 3, 2, 1, 1, 1), make_shape(1, 300, 40, 5, 6, 3, 3, 1, 1, 1, 1)})
    convlab::testing::check_openmp_matches_simd_on_any_thread_count(s, 5);
}

TEST_CASE("kernel family: the lecture's layer keeps the planes kernels, wide strided layers take the blocked",
          "[simd][blocked]") {
  using convlab::ConvPass;
  using convlab::simd::choose_kernel_family;
  if (std::getenv(convlab::simd::kKernelFamilyEnvVar)) return;  // the environment overrides the rule
  const ConvShape lecture = make_shape(64, 1, 20, 28, 28, 5, 5, 1, 1, 0, 0);
  for (ConvPass pass : {ConvPass::forward, ConvPass::backward_input, ConvPass::backward_weights})
    CHECK(choose_kernel_family(lecture, pass, 16) == KernelFamily::planes);
  const ConvShape wide = make_shape(4, 64, 64, 56, 56, 3, 3, 2, 2, 1, 1);
  for (ConvPass pass : {ConvPass::forward, ConvPass::backward_input, ConvPass::backward_weights})
    CHECK(choose_kernel_family(wide, pass, 16) == KernelFamily::blocked);
}

TEST_CASE("kernel family: forcing through the API and the environment", "[simd][blocked]") {
  const ConvShape s = make_shape(1, 1, 1, 8, 8, 3, 3, 1, 1, 0, 0);
  {
    const FamilyGuard guard(KernelFamily::blocked);
    CHECK(convlab::simd::choose_kernel_family(s, convlab::ConvPass::forward, 16) == KernelFamily::blocked);
  }
  {
    const FamilyGuard guard(KernelFamily::planes);
    CHECK(convlab::simd::choose_kernel_family(make_shape(1, 64, 64, 8, 8, 3, 3, 2, 2, 1, 1),
                                              convlab::ConvPass::forward, 16) == KernelFamily::planes);
  }
  const char* name = convlab::simd::kKernelFamilyEnvVar;
  const char* before = std::getenv(name);
  const std::string saved = before ? before : "";
  setenv(name, "blocked", 1);
  CHECK(convlab::simd::choose_kernel_family(s, convlab::ConvPass::forward, 16) == KernelFamily::blocked);
  setenv(name, "planes", 1);
  CHECK(convlab::simd::choose_kernel_family(make_shape(1, 64, 64, 8, 8, 3, 3, 2, 2, 1, 1),
                                            convlab::ConvPass::forward, 16) == KernelFamily::planes);
  setenv(name, "fastest", 1);
  CHECK_THROWS_WITH(convlab::simd::choose_kernel_family(s, convlab::ConvPass::forward, 16),
                    Catch::Contains("CONVLAB_SIMD_KERNELS='fastest'") && Catch::Contains("blocked, planes or auto"));
  if (before) setenv(name, saved.c_str(), 1); else unsetenv(name);
}

namespace {
// Every arch's transpose against the definition, on every rows x cols up to 40 (whole 16 x 16 blocks and
// every edge), with row strides longer than a row: elements outside the destination block stay untouched.
template <typename T>
void check_transpose(const convlab::simd::BlockedKernels<T>& kernels) {
  std::mt19937 random(11);
  for (Index rows = 1; rows <= 40; rows += 1 + rows / 8)
    for (Index cols = 1; cols <= 40; cols += 1 + cols / 8) {
      INFO(rows << " x " << cols);
      const Index source_stride = cols + 3, dest_stride = rows + 5;
      const std::vector<T> source = make_data<T>(rows * source_stride, false, random);
      const T sentinel = T(-7.5);
      std::vector<T> dest(std::size_t(cols * dest_stride), sentinel);
      kernels.transpose(source.data(), source_stride, rows, cols, dest.data(), dest_stride);
      Index wrong = 0;
      for (Index c = 0; c < cols; ++c)
        for (Index r = 0; r < dest_stride; ++r) {
          const T want = r < rows ? source[std::size_t(r * source_stride + c)] : sentinel;
          if (dest[std::size_t(c * dest_stride + r)] != want) ++wrong;
        }
      CHECK(wrong == 0);
    }
}
}  // namespace

TEST_CASE("blocked kernels: the weight transpose of every arch, every block edge", "[simd][blocked]") {
  for (Arch arch : convlab::simd::available_archs()) {
    INFO("arch " << convlab::simd::arch_name(arch));
    check_transpose(convlab::simd::blocked_table(arch).f32);
    check_transpose(convlab::simd::blocked_table(arch).f64);
  }
}

TEST_CASE("blocked kernels: held weights are packed exactly for the passes the blocked family runs",
          "[simd][blocked]") {
  const ConvShape s = make_shape(2, 20, 50, 12, 13, 5, 5, 2, 2, 1, 2);
  for (KernelFamily family : {KernelFamily::blocked, KernelFamily::planes}) {
    const FamilyGuard guard(family);
    const bool blocked = family == KernelFamily::blocked;
    for (const auto& impl : {convlab::make_conv_impl("simd"), convlab::make_conv_impl("openmp")}) {
      CHECK(impl->held_packing(s).forward == blocked);
      CHECK(impl->held_packing(s).backward_input == blocked);
    }
    CHECK_FALSE(convlab::make_conv_impl("im2col")->held_packing(s).forward);
  }
}

TEST_CASE("blocked plans: weights first, each weight piece's units come in one run", "[simd][blocked]") {
  // 300 -> 130 channels of 3x3 windows (1.5 MB of packed float weights) over one 24 x 24 image (0.7 MB): the
  // weights go first. A thread's contiguous run of units packs each piece its units read, so the units of a
  // piece must follow each other: interleaved (as the band-by-band order of an image would have them), every
  // thread would pack every piece.
  const ConvShape s = make_shape(1, 300, 130, 24, 24, 3, 3, 1, 1, 1, 1);
  for (Arch arch : {Arch::sse2, Arch::avx2, Arch::avx512f}) {
    const auto& kernels = convlab::simd::blocked_table(arch).f32;
    for (int threads : {1, 2}) {
      INFO("arch " << int(arch) << ", " << threads << " threads");
      const convlab::simd::BlockedForward forward(s, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors,
                                                  threads, Index(sizeof(float)));
      const convlab::simd::BlockedBackwardInput backward(s, kernels.pixels_per_tile, kernels.lanes,
                                                         kernels.max_vectors, threads, Index(sizeof(float)));
      REQUIRE(forward.order() == convlab::simd::RunOrder::weights_first);
      REQUIRE(backward.order() == convlab::simd::RunOrder::weights_first);
      REQUIRE(forward.pieces() > 1);
      const auto pieces_in_runs = [](const auto& plan) {
        for (Index u = 1; u < plan.units_per_image(); ++u)
          if (plan.unit_piece(u) < plan.unit_piece(u - 1)) return false;
        return plan.unit_piece(plan.units_per_image() - 1) == plan.pieces() - 1;
      };
      CHECK(pieces_in_runs(forward));
      CHECK(pieces_in_runs(backward));
    }
  }
}
