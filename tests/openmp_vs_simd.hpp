// Shared by the simd/openmp tests: impls/openmp on 1, 2 and 3 threads must give impls/simd's bits, on every
// arch this CPU has, for all three passes (real-valued operands, so any reordering of a sum would show).
#pragma once

#include <catch2/catch.hpp>
#include <omp.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <vector>

#include "impls/openmp/openmp_conv.hpp"
#include "impls/simd/blocked_plan.hpp"
#include "impls/simd/simd_arch.hpp"
#include "impls/simd/simd_conv.hpp"
#include "impls/simd/simd_kernels.hpp"
#include "tests/naive_comparison.hpp"

namespace convlab::testing {

inline void check_openmp_matches_simd_on_any_thread_count(const ConvShape& s, std::uint32_t seed) {
  INFO(s.describe());
  const int previous = omp_get_max_threads();
  std::mt19937 random(seed);
  const auto x = make_data<float>(s.input_size(), false, random);
  const auto w = make_data<float>(s.weight_size(), false, random);
  const auto b = make_data<float>(s.out_channels, false, random);
  const auto dy = make_data<float>(s.output_size(), false, random);
  struct Results {
    std::vector<float> y, dx, dw, db;
  };
  auto run = [&](ConvImpl& impl) {
    Results r{std::vector<float>(std::size_t(s.output_size())), std::vector<float>(std::size_t(s.input_size())),
              std::vector<float>(std::size_t(s.weight_size())), std::vector<float>(std::size_t(s.out_channels))};
    impl.forward(s, x.data(), w.data(), b.data(), r.y.data());
    impl.backward_input(s, dy.data(), w.data(), r.dx.data());
    impl.backward_weights(s, x.data(), dy.data(), r.dw.data(), r.db.data());
    return r;
  };
  for (simd::Arch arch : simd::available_archs()) {
    INFO("arch " << simd::arch_name(arch));
    simd::SimdConv simd(arch);
    openmp::OpenmpConv openmp(arch);
    const Results reference = run(simd);
    for (int threads : {1, 2, 3}) {
      INFO(threads << " threads");
      omp_set_num_threads(threads);
      const Results got = run(openmp);
      CHECK(got.y == reference.y);
      CHECK(got.dx == reference.dx);
      CHECK(got.dw == reference.dw);
      CHECK(got.db == reference.db);
      // Held weights (packed once, at batch 1; read by every thread): the same bits.
      ConvShape layer = s;
      layer.batch = 1;
      openmp.hold_weights(layer, w.data(), b.data());
      std::vector<float> held(std::size_t(s.output_size()), std::numeric_limits<float>::quiet_NaN());
      openmp.forward_held(s, x.data(), held.data());
      CHECK(held == reference.y);
      std::vector<float> held_dx(std::size_t(s.input_size()), std::numeric_limits<float>::quiet_NaN());
      openmp.backward_input_held(s, dy.data(), held_dx.data());
      CHECK(held_dx == reference.dx);
    }
    omp_set_num_threads(previous);
  }
}

// The same for layers whose `pass` must take the column-vector ("planes") kernels on this machine's default arch:
// the paths a batch-1 test means to reach there.
inline void check_planes_openmp_matches_simd(std::initializer_list<ConvShape> shapes, ConvPass pass,
                                             std::uint32_t seed) {
  const Index lanes = simd::kernel_table(simd::selected_arch()).f32.lanes;
  for (const ConvShape& s : shapes) {
    INFO(s.describe());
    REQUIRE(simd::choose_kernel_family(s, pass, lanes) == simd::KernelFamily::planes);
    check_openmp_matches_simd_on_any_thread_count(s, seed);
  }
}

}  // namespace convlab::testing
