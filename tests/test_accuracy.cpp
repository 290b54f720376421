// `convlab accuracy`'s engine (cli/accuracy.hpp): the error metric on hand-made cases whose errors are known
// exactly, the exact reference where a plain sum cancels catastrophically, and the report's shape.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/accuracy.hpp"
#include "common/conv/conv_registry.hpp"
#include "impls/winograd/winograd_conv.hpp"

namespace {

using convlab::AccuracyData;
using convlab::ConvImpl;
using convlab::ConvPass;
using convlab::ConvShape;
using convlab::ErrorStats;
using convlab::Index;

// The reference implementation, with output `bumped` of every call moved up by exactly 3 ulp.
class ThreeUlpOff final : public convlab::ConvImplFromTemplates<ThreeUlpOff> {
 public:
  explicit ThreeUlpOff(Index bumped) : bumped_(bumped), inner_(convlab::reference_implementation().make()) {}
  template <typename T>
  void forward_typed(const ConvShape& s, const T* x, const T* w, const T* b, T* y) {
    inner_->forward(s, x, w, b, y);
    bump(y);
  }
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* dy, const T* w, T* dx) {
    inner_->backward_input(s, dy, w, dx);
    bump(dx);
  }
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* x, const T* dy, T* dw, T* db) {
    inner_->backward_weights(s, x, dy, dw, db);
  }

 private:
  template <typename T>
  void bump(T* values) const {
    for (int step = 0; step < 3; ++step) values[bumped_] = std::nextafter(values[bumped_], std::numeric_limits<T>::infinity());
  }
  Index bumped_;
  std::unique_ptr<ConvImpl> inner_;
};

ConvShape small_layer() {  // 1 channel, 4x4, 3x3 window, pad 1: corner outputs sum 4 products, edges 6, inside 9
  ConvShape s;
  s.in_height = s.in_width = 4;
  s.kernel_height = s.kernel_width = 3;
  s.pad_height = s.pad_width = 1;
  return s;
}

template <typename T>
void check_three_ulp() {
  const ConvShape s = small_layer();
  AccuracyData<T> d;  // all ones: every sum exact (the reference implementation gets them right), S = |y|
  d.x.assign(16, T(1));
  d.w.assign(9, T(1));
  d.dy.assign(16, T(1));
  const double u = std::ldexp(1.0, -std::numeric_limits<T>::digits);
  // Output 5 (row 1, column 1) is inside: y = 9 = S; output 0 a corner: y = 4 = S.
  for (const auto& [bumped, y] : {std::pair<Index, double>{5, 9.0}, std::pair<Index, double>{0, 4.0}}) {
    const double ulp = double(std::nextafter(T(y), std::numeric_limits<T>::infinity()) - T(y));
    const double expected = 3 * ulp / y / u;  // 3 ulp of y, relative to S = y, in u
    for (ConvPass pass : {ConvPass::forward, ConvPass::backward_input}) {
      INFO("output " << bumped << ", " << convlab::pass_name(pass) << ", " << sizeof(T) * 8 << "-bit");
      ThreeUlpOff impl(bumped);
      const ErrorStats stats = convlab::measure_accuracy<T>(impl, s, pass, d);
      CHECK(stats.outputs == 16);
      CHECK(stats.max_u == expected);
      CHECK(stats.rms_u == Approx(expected / 4).epsilon(1e-12));  // sqrt(expected^2 / 16)
    }
  }
  // 3 ulp of 4 is 6 u relative to 4 (ulp = 2u at a power of two); of 9, 3 * 8 u / 9.
  ThreeUlpOff corner(0);
  CHECK(convlab::measure_accuracy<T>(corner, s, ConvPass::forward, d).max_u == 6.0);
}

}  // namespace

TEST_CASE("accuracy: an output 3 ulp off is measured as 3 ulp relative to sum|w x|, in u", "[accuracy]") {
  check_three_ulp<float>();
  check_three_ulp<double>();
}

TEST_CASE("accuracy: the exact reference sees a sum that cancels completely", "[accuracy]") {
  // 1x1 window over 3 channels: y = 2^p + 1 - 2^p = 1 exactly, but summed in order in the type, 2^p + 1
  // rounds to 2^p (p = the type's digits) and the computed y is 0: error 1, S = 2^(p+1) + 1.
  ConvShape s;
  s.in_channels = 3;
  const auto check = [&]<typename T>(T) {
    const int p = std::numeric_limits<T>::digits;
    AccuracyData<T> d;
    d.x = {T(std::ldexp(1.0, p)), T(1), T(-std::ldexp(1.0, p))};
    d.w = {T(1), T(1), T(1)};
    d.dy = {T(1)};
    auto naive = convlab::reference_implementation().make();
    const ErrorStats stats = convlab::measure_accuracy<T>(*naive, s, ConvPass::forward, d);
    CHECK(stats.outputs == 1);
    const double expected = std::ldexp(1.0, p) / (std::ldexp(1.0, p + 1) + 1);  // (1 / S) / u
    CHECK(stats.max_u == Approx(expected).epsilon(1e-15));
  };
  check(float{});
  check(double{});
}

TEST_CASE("accuracy: the quick run measures every implementation within its own bound and names what it skips",
          "[accuracy]") {
  std::vector<std::string> names;
  for (const auto& info : convlab::conv_implementations()) names.push_back(info.name);
  const convlab::AccuracyReport report = convlab::run_accuracy(names, true, 1, 1, nullptr);
  REQUIRE(report.layers.size() == 6);
  REQUIRE(report.impls.size() == names.size());
  for (const convlab::AccuracyImpl& impl : report.impls) {
    INFO(impl.name);
    CHECK(impl.rows.size() == report.layers.size() * 3 * 2 * 2);
    for (const convlab::AccuracyRow& row : impl.rows) {
      const convlab::AccuracyLayer& layer = report.layers[row.layer];
      INFO(layer.name << " " << convlab::accuracy_input_name(row.input) << " " << row.type << " "
                      << convlab::pass_name(row.pass));
      if (!row.skipped.empty()) {
        CHECK(!convlab::conv_implementation(impl.name).supports(layer.shape, row.pass));
        continue;
      }
      CHECK(row.error.outputs > 0);
      if (impl.direct_sums) CHECK(row.error.max_u <= double(row.bound_n));
      if (impl.winograd_tile) {
        CHECK(layer.window == 3);
        CHECK(row.winograd_k == convlab::winograd_rounding_count(impl.winograd_tile, layer.channels,
                                                                 row.pass == ConvPass::forward));
        // Its own bound, gamma_K E: below K u relative to E, and E at least sum|w x|.
        CHECK(row.error.max_u_of_e < double(row.winograd_k));
        CHECK(row.error.max_e_over_s >= 1.0);
      } else {
        CHECK(row.error.max_e_over_s == 0.0);
      }
      if (impl.fft) {
        // Its own bound, per output plane (impls/fft/fft_bound.hpp): every measured plane within it, and
        // some rounding error to bound.
        CHECK(row.error.max_of_fft_bound < 1.0);
        CHECK(row.error.max_of_fft_bound > 0.0);
      } else {
        CHECK(row.error.max_of_fft_bound == 0.0);
      }
    }
  }
  bool fft_measured = false;
  for (const convlab::AccuracyImpl& impl : report.impls) fft_measured = fft_measured || (impl.fft && impl.name == "fft");
  CHECK(fft_measured);
  // The JSON holds every row.
  const auto json = nlohmann::json::parse(convlab::accuracy_json(report));
  CHECK(json["implementations"].size() == names.size());
  CHECK(json["implementations"][0]["rows"].size() == report.layers.size() * 12);
}
