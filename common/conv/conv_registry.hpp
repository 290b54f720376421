// Implementations by name. The table itself lives in impls/registry.cpp: one line per implementation.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/conv/conv_impl.hpp"
#include "common/conv/conv_pass.hpp"

namespace convlab {

// reference: the readable one every other implementation is checked against (exactly one is registered);
// fast: the ones users run, benchmarked against each other and against the peers.
enum class ConvRole { reference, fast };

// The error bound an implementation's outputs are held to: what `convlab accuracy` measures each one against
// (cli/accuracy.hpp), read from the registry so that an algorithm with a bound of its own declares it here.
//   direct_sum: gamma_n sum|w x| per output, n the term count (Higham 3.1): every direct sum, in any order;
//   winograd:   gamma_K E per output, K and E from the transforms of F(m x m, r x r) with m = `tile`
//               (impls/winograd/winograd_bound.hpp, derived in tests/test_winograd.cpp);
//   fft_plane:  normwise, per output plane (impls/fft/fft_bound.hpp, derived in tests/test_fft.cpp).
enum class ConvErrorBoundKind { direct_sum, winograd, fft_plane };

struct ConvErrorBound {
  ConvErrorBoundKind kind = ConvErrorBoundKind::direct_sum;
  int tile = 0;  // winograd: the output tile size m (2 for F(2x2, 3x3), 4 for F(4x4, 3x3)); 0 otherwise
};

// "direct_sum", "winograd", "fft_plane" (the names `convlab accuracy` writes in its JSON).
inline std::string_view error_bound_name(ConvErrorBoundKind kind) {
  switch (kind) {
    case ConvErrorBoundKind::direct_sum: return "direct_sum";
    case ConvErrorBoundKind::winograd: return "winograd";
    case ConvErrorBoundKind::fft_plane: return "fft_plane";
  }
  return "?";
}

struct ConvImplInfo {
  std::string name;            // what --impl takes
  std::string summary;         // one line: the idea it adds
  std::string build_flags;     // compiler flags its kernels were built with (benchmarks print them)
  bool uses_threads = false;   // whether it parallelises with OpenMP
  std::function<std::unique_ptr<ConvImpl>()> make;
  // The passes that sum every output in exactly naive's order (see impls/naive/naive_conv.hpp) with the
  // same rounding per term: the cross-check then demands bitwise equality with naive on real data too.
  struct ReferenceOrder {
    bool forward = false, backward_input = false, weight_gradient = false, bias_gradient = false;
    // Those passes in words, as `convlab impls` and the Python module's implementations() name them.
    std::vector<std::string> pass_names() const {
      std::vector<std::string> names;
      for (const auto& [kept, pass] : {std::pair{forward, "forward"}, {backward_input, "input gradient"},
                                       {weight_gradient, "weight gradient"}, {bias_gradient, "bias gradient"}}) {
        if (kept) names.emplace_back(pass);
      }
      return names;
    }
  };
  ReferenceOrder reference_order{};
  ConvRole role = ConvRole::fast;
  // Why this implementation does not compute `pass` of `shape`, in words naming the layer (empty: it does).
  // Null: every valid layer, every pass. Calls on a layer it does not support throw ConvShapeError with
  // the same words; tests, benchmarks, `compare`, `conv` and training ask first and skip or refuse.
  std::function<std::string(const ConvShape&, ConvPass)> unsupported{};
  // Passes it hands to another algorithm, in words (`convlab impls` prints them); empty: none.
  std::string delegates{};
  // The passes `delegates` names: computed by another registered implementation's code, so the benchmarks
  // time them under that implementation only (timing them twice would only measure the same kernels again).
  std::vector<ConvPass> delegated_passes{};
  // Whether every output it computes is a direct sum of the layer's products (any order, with or without
  // FMA): then it is exact on small integers and within the direct sum's c n u sum|a b| of the reference
  // (tests/conv_tester.cpp). An algorithm that transforms its operands first (Winograd, in all three passes;
  // the bias gradient stays a plain sum) rounds differently and is held to its own derived bound, in its own
  // test.
  bool direct_sums = true;
  // The bound its outputs are held to (see ConvErrorBound): direct_sum exactly when direct_sums is true.
  ConvErrorBound error_bound{};

  std::string why_unsupported(const ConvShape& shape, ConvPass pass) const {
    return unsupported ? unsupported(shape, pass) : std::string();
  }
  bool supports(const ConvShape& shape, ConvPass pass) const { return why_unsupported(shape, pass).empty(); }
  // Every pass (what training a layer needs: the first layer's input gradient included, for simplicity).
  std::string why_unsupported(const ConvShape& shape) const {
    for (ConvPass pass : kConvPasses)
      if (std::string why = why_unsupported(shape, pass); !why.empty()) return why;
    return {};
  }
  bool delegates_pass(ConvPass pass) const {
    return std::find(delegated_passes.begin(), delegated_passes.end(), pass) != delegated_passes.end();
  }
  std::string_view role_name() const { return role == ConvRole::reference ? "reference" : "fast"; }
};

const std::vector<ConvImplInfo>& conv_implementations();

// Throws std::invalid_argument listing the known names when `name` is not registered.
const ConvImplInfo& conv_implementation(std::string_view name);
std::unique_ptr<ConvImpl> make_conv_impl(std::string_view name);
// The one implementation registered with ConvRole::reference.
const ConvImplInfo& reference_implementation();

// The fastest implementation with 2 threads; naive stays the reference every other one is checked against.
inline constexpr std::string_view kDefaultConvImpl = "openmp";

}  // namespace convlab
