// The cross-check engine behind ConvTester (see conv_tester.hpp).
//
// Tolerance on real data. Any summation of n products a_i*b_i, in any order, with or without FMA, has
//   |computed - exact| <= gamma_n * sum_i |a_i b_i|,   gamma_n = n u / (1 - n u)
// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1). The implementation and the reference each
// carry such an error, so they differ by at most 2 gamma_n * sum|a b|. We require n u <= 1/100, which makes
// gamma_n <= 1.0102 n u, and use c = 2.5 in |got - ref| <= c * n * u * sum|a b|: 2 for the two results, the
// rest covers the 1/(1 - nu) factor and the rounding of sum|a b| itself (computed in double). n counts the
// bias as one more term in the forward pass; sum|a b| then includes |b|.
#include "tests/conv_tester.hpp"

#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/conv/conv_registry.hpp"

namespace convlab::testing {

namespace {

constexpr double kToleranceFactor = 2.5;  // the c above
constexpr int kSmallIntegerMagnitude = 4;
// The registered reference (ConvRole::reference): what every other implementation is checked against.
ConvImpl& reference_impl();

enum class Data { SmallIntegers, Reals };

const char* describe(Data data) { return data == Data::SmallIntegers ? "small integers" : "reals"; }

template <typename T>
struct Tensors {
  std::vector<T> x, w, b, dy;
};

template <typename T>
struct Results {
  std::vector<T> y, dx, dw, db;
};

struct Extents {
  std::vector<Index> x, w, b, y;
};

Extents extents_of(const ConvShape& s) {
  return {{s.batch, s.in_channels, s.in_height, s.in_width},
          {s.out_channels, s.in_channels, s.kernel_height, s.kernel_width},
          {s.out_channels},
          {s.batch, s.out_channels, s.out_height(), s.out_width()}};
}

// One object per implementation for the whole test run (see the header on why they are shared).
ConvImpl& cached_impl(const std::string& name) {
  static std::map<std::string, std::unique_ptr<ConvImpl>> objects;
  std::unique_ptr<ConvImpl>& object = objects[name];
  if (!object) object = make_conv_impl(name);
  return *object;
}

template <typename T>
std::vector<T> random_values(std::size_t count, Data data, std::mt19937& engine) {
  std::vector<T> values(count);
  if (data == Data::SmallIntegers) {
    std::uniform_int_distribution<int> pick(-kSmallIntegerMagnitude, kSmallIntegerMagnitude);
    for (T& value : values) value = T(pick(engine));
  } else {
    std::uniform_real_distribution<double> pick(-1.0, 1.0);
    for (T& value : values) value = T(pick(engine));
  }
  return values;
}

template <typename T>
Tensors<T> make_tensors(const ConvShape& s, Data data, std::uint32_t seed) {
  std::mt19937 engine(seed);
  Tensors<T> t;
  t.x = random_values<T>(std::size_t(s.input_size()), data, engine);
  t.w = random_values<T>(std::size_t(s.weight_size()), data, engine);
  t.b = random_values<T>(std::size_t(s.out_channels), data, engine);
  t.dy = random_values<T>(std::size_t(s.output_size()), data, engine);
  return t;
}

template <typename T>
Results<T> nan_filled(const ConvShape& s) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  return {std::vector<T>(std::size_t(s.output_size()), nan), std::vector<T>(std::size_t(s.input_size()), nan),
          std::vector<T>(std::size_t(s.weight_size()), nan), std::vector<T>(std::size_t(s.out_channels), nan)};
}

// All three passes; `with_bias` false passes null bias and bias gradient (db stays NaN).
template <typename T>
Results<T> run_passes(ConvImpl& impl, const ConvShape& s, const Tensors<T>& t, bool with_bias = true) {
  Results<T> r = nan_filled<T>(s);
  impl.forward(s, t.x.data(), t.w.data(), with_bias ? t.b.data() : nullptr, r.y.data());
  impl.backward_input(s, t.dy.data(), t.w.data(), r.dx.data());
  impl.backward_weights(s, t.x.data(), t.dy.data(), r.dw.data(), with_bias ? r.db.data() : nullptr);
  return r;
}

template <typename T>
Results<T> run_with_threads(ConvImpl& impl, const ConvShape& s, const Tensors<T>& t, int threads) {
  const int previous = omp_get_max_threads();
  omp_set_num_threads(threads);
  Results<T> r = run_passes(impl, s, t);
  omp_set_num_threads(previous);
  return r;
}

// forward_held (or backward_input_held) after hold_weights on the layer at batch 1 (so the batch may differ
// from the hold's), into a NaN-filled output; the caller's weights are overwritten with NaN after the hold,
// which must not reach it.
template <typename T>
std::vector<T> run_held(ConvImpl& impl, const ConvShape& s, const Tensors<T>& t, int threads, bool with_bias,
                        bool input_gradient = false) {
  const int previous = omp_get_max_threads();
  omp_set_num_threads(threads);
  ConvShape layer = s;
  layer.batch = 1;
  std::vector<T> weights = t.w, bias = t.b;
  impl.hold_weights(layer, weights.data(), with_bias ? bias.data() : nullptr);
  std::fill(weights.begin(), weights.end(), std::numeric_limits<T>::quiet_NaN());
  std::fill(bias.begin(), bias.end(), std::numeric_limits<T>::quiet_NaN());
  const Results<T> empty = nan_filled<T>(s);
  std::vector<T> out = input_gradient ? empty.dx : empty.y;
  if (input_gradient) impl.backward_input_held(s, t.dy.data(), out.data());
  else impl.forward_held(s, t.x.data(), out.data());
  omp_set_num_threads(previous);
  return out;
}

std::string multi_index(std::size_t flat, const std::vector<Index>& extents) {
  std::vector<Index> at(extents.size());
  for (std::size_t axis = extents.size(); axis-- > 0;) {
    at[axis] = Index(flat) % extents[axis];
    flat /= std::size_t(extents[axis]);
  }
  std::ostringstream text;
  text << "(";
  for (std::size_t axis = 0; axis < at.size(); ++axis) text << (axis ? ", " : "") << at[axis];
  return text.str() + ")";
}

// "" when every element passes `accept(got, want, i)`; otherwise how many failed and the first failure.
template <typename T, typename Accept>
std::string mismatches(const char* what, const std::vector<T>& got, const std::vector<T>& want,
                       const std::vector<Index>& extents, Accept accept, const std::vector<double>* bound = nullptr) {
  std::size_t failures = 0, first = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (accept(got[i], want[i], i)) continue;
    if (failures++ == 0) first = i;
  }
  if (failures == 0) return "";
  std::ostringstream text;
  text << std::setprecision(std::numeric_limits<T>::max_digits10) << what << ": " << failures << " of "
       << want.size() << " elements differ; first at " << multi_index(first, extents) << ": got " << got[first]
       << ", reference " << want[first];
  if (bound) text << ", |difference| " << std::abs(double(got[first]) - double(want[first])) << " > bound " << (*bound)[first];
  return text.str();
}

template <typename T>
std::string exact_mismatches(const char* what, const std::vector<T>& got, const std::vector<T>& want,
                             const std::vector<Index>& extents) {
  return mismatches(what, got, want, extents, [](T g, T w, std::size_t) { return g == w; });
}

template <typename T>
std::string bitwise_mismatches(const char* what, const std::vector<T>& got, const std::vector<T>& want,
                               const std::vector<Index>& extents) {
  return mismatches(what, got, want, extents,
                    [](T g, T w, std::size_t) { return std::memcmp(&g, &w, sizeof(T)) == 0; });
}

template <typename T>
std::string non_finite(const char* what, const std::vector<T>& got, const std::vector<Index>& extents) {
  return mismatches(what, got, got, extents, [](T g, T, std::size_t) { return std::isfinite(g); });
}

template <typename T>
std::string bounded_mismatches(const char* what, const std::vector<T>& got, const std::vector<T>& want,
                               const std::vector<Index>& extents, const std::vector<double>& bound) {
  return mismatches(
      what, got, want, extents,
      [&](T g, T w, std::size_t i) { return std::abs(double(g) - double(w)) <= bound[i]; },  // NaN fails
      &bound);
}

// Per-element tolerances c * n * u * sum|a b| for each pass (see the top of this file).
struct Bounds {
  std::vector<double> y, dx, dw, db;
};

std::vector<double> absolute(const auto& values) {
  std::vector<double> result(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) result[i] = std::abs(double(values[i]));
  return result;
}

template <typename T>
Bounds error_bounds(const ConvShape& s, const Tensors<T>& t) {
  const Tensors<double> magnitudes{absolute(t.x), absolute(t.w), absolute(t.b), absolute(t.dy)};
  Results<double> sums = run_passes(reference_impl(), s, magnitudes);  // naive loops over |a|*|b|
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double forward_terms = double(s.reduction_length() + 1);
  const double input_terms = double(s.out_channels * s.kernel_height * s.kernel_width);
  const double weight_terms = double(s.batch * s.out_height() * s.out_width());
  for (double terms : {forward_terms, input_terms, weight_terms}) REQUIRE(terms * u <= 0.01);
  const auto scale = [&](std::vector<double>& values, double terms) {
    for (double& value : values) value *= kToleranceFactor * terms * u;
    return std::move(values);
  };
  return {scale(sums.y, forward_terms), scale(sums.dx, input_terms), scale(sums.dw, weight_terms),
          scale(sums.db, weight_terms)};
}

template <typename T>
void check_type(const ConvShape& s, std::uint32_t seed, const std::vector<const ConvImplInfo*>& impls) {
  const char* type = sizeof(T) == 4 ? "float" : "double";
  const Extents e = extents_of(s);
  ConvImpl& reference = reference_impl();

  // Small-integer data: exact in float only while every partial sum stays below 2^24.
  const double largest_sum = double(kSmallIntegerMagnitude * kSmallIntegerMagnitude) *
                                 double(std::max({s.reduction_length() + 1, s.out_channels * s.kernel_height *
                                                  s.kernel_width, s.batch * s.out_height() * s.out_width()}));
  REQUIRE(largest_sum < double(1 << 24));

  for (Data data : {Data::SmallIntegers, Data::Reals}) {
    const Tensors<T> t = make_tensors<T>(s, data, seed);
    const Results<T> want = run_passes(reference, s, t);
    if (data == Data::SmallIntegers) {
      const Results<T> want_unbiased = run_passes(reference, s, t, false);
      for (const ConvImplInfo* info : impls) {
        INFO(info->name << ", " << type << ", " << describe(data) << ", " << s.describe());
        ConvImpl& impl = cached_impl(info->name);
        const Results<T> got = run_passes(impl, s, t);
        if (info->direct_sums) {
          CHECK(exact_mismatches("forward y", got.y, want.y, e.y) == "");
          CHECK(exact_mismatches("backward_input dx", got.dx, want.dx, e.x) == "");
        }
        if (info->direct_sums) CHECK(exact_mismatches("backward_weights dw", got.dw, want.dw, e.w) == "");
        CHECK(exact_mismatches("backward_weights db", got.db, want.db, e.b) == "");
        const Results<T> unbiased = run_passes(impl, s, t, false);
        if (info->direct_sums) {
          CHECK(exact_mismatches("forward y without bias", unbiased.y, want_unbiased.y, e.y) == "");
          CHECK(exact_mismatches("backward_weights dw without bias", unbiased.dw, want_unbiased.dw, e.w) == "");
        }
      }
      continue;
    }
    const Bounds bound = error_bounds(s, t);
    for (const ConvImplInfo* info : impls) {
      INFO(info->name << ", " << type << ", " << describe(data) << ", " << s.describe());
      ConvImpl& impl = cached_impl(info->name);
      const Results<T> one = run_with_threads(impl, s, t, 1);
      const Results<T> two = run_with_threads(impl, s, t, 2);
      if (info->direct_sums) {
        CHECK(bounded_mismatches("forward y", two.y, want.y, e.y, bound.y) == "");
        CHECK(bounded_mismatches("backward_input dx", two.dx, want.dx, e.x, bound.dx) == "");
      } else {
        // Held to its own derived bound in its own test (ConvImplInfo::direct_sums); here: every output
        // written (the buffers start as NaN) and the rest of the contract below.
        CHECK(non_finite("forward y", two.y, e.y) == "");
        CHECK(non_finite("backward_input dx", two.dx, e.x) == "");
        CHECK(non_finite("backward_weights dw", two.dw, e.w) == "");
      }
      if (info->direct_sums) CHECK(bounded_mismatches("backward_weights dw", two.dw, want.dw, e.w, bound.dw) == "");
      CHECK(bounded_mismatches("backward_weights db", two.db, want.db, e.b, bound.db) == "");
      CHECK(bitwise_mismatches("forward y, 1 vs 2 threads", one.y, two.y, e.y) == "");
      CHECK(bitwise_mismatches("backward_input dx, 1 vs 2 threads", one.dx, two.dx, e.x) == "");
      CHECK(bitwise_mismatches("backward_weights dw, 1 vs 2 threads", one.dw, two.dw, e.w) == "");
      CHECK(bitwise_mismatches("backward_weights db, 1 vs 2 threads", one.db, two.db, e.b) == "");
      // Held weights (inference, frozen layers): bitwise the plain passes', with and without bias.
      CHECK(bitwise_mismatches("forward_held y, 1 thread", run_held(impl, s, t, 1, true), one.y, e.y) == "");
      CHECK(bitwise_mismatches("forward_held y, 2 threads", run_held(impl, s, t, 2, true), two.y, e.y) == "");
      std::vector<T> unbiased = nan_filled<T>(s).y;
      impl.forward(s, t.x.data(), t.w.data(), nullptr, unbiased.data());
      CHECK(bitwise_mismatches("forward_held y without bias", run_held(impl, s, t, 2, false), unbiased, e.y) == "");
      CHECK(bitwise_mismatches("backward_input_held dx, 1 thread", run_held(impl, s, t, 1, true, true), one.dx, e.x) ==
            "");
      CHECK(bitwise_mismatches("backward_input_held dx, 2 threads", run_held(impl, s, t, 2, false, true), two.dx,
                               e.x) == "");
      const ConvImplInfo::ReferenceOrder& order = info->reference_order;
      if (order.forward) CHECK(bitwise_mismatches("forward y vs naive's order", two.y, want.y, e.y) == "");
      if (order.backward_input) {
        CHECK(bitwise_mismatches("backward_input dx vs naive's order", two.dx, want.dx, e.x) == "");
      }
      if (order.weight_gradient) {
        CHECK(bitwise_mismatches("backward_weights dw vs naive's order", two.dw, want.dw, e.w) == "");
      }
      if (order.bias_gradient) {
        CHECK(bitwise_mismatches("backward_weights db vs naive's order", two.db, want.db, e.b) == "");
      }
    }
  }
}

// A pass the registry says an implementation does not compute must refuse with the registry's words, and
// one it computes must not: ConvImplInfo::unsupported and the implementation agree.
template <typename T>
void check_refusals(const ConvShape& s, const ConvImplInfo& info) {
  ConvImpl& impl = cached_impl(info.name);
  const Tensors<T> t = make_tensors<T>(s, Data::Reals, 1);
  Results<T> r = nan_filled<T>(s);
  for (ConvPass pass : kConvPasses) {
    const std::string why = info.why_unsupported(s, pass);
    if (why.empty()) continue;
    INFO(info.name << " " << pass_name(pass) << " of " << s.describe() << ": " << why);
    const auto call = [&] {
      switch (pass) {
        case ConvPass::forward: impl.forward(s, t.x.data(), t.w.data(), t.b.data(), r.y.data()); break;
        case ConvPass::backward_input: impl.backward_input(s, t.dy.data(), t.w.data(), r.dx.data()); break;
        case ConvPass::backward_weights:
          impl.backward_weights(s, t.x.data(), t.dy.data(), r.dw.data(), r.db.data());
          break;
      }
    };
    CHECK_THROWS_AS(call(), ConvShapeError);
    CHECK_THROWS_WITH(call(), Catch::Contains(why));
  }
}

void check(const ConvShape& s, std::uint32_t seed, const std::vector<const ConvImplInfo*>& impls) {
  INFO("shape " << s.describe());
  REQUIRE_NOTHROW(s.validate());
  // An implementation that leaves out a pass of this layer is checked on its refusal only.
  std::vector<const ConvImplInfo*> running;
  for (const ConvImplInfo* info : impls) {
    if (info->why_unsupported(s).empty()) {
      running.push_back(info);
    } else {
      check_refusals<float>(s, *info);
      check_refusals<double>(s, *info);
    }
  }
  check_type<float>(s, seed, running);
  check_type<double>(s, seed, running);
}

ConvImpl& reference_impl() { return cached_impl(reference_implementation().name); }

}  // namespace

void ConvTester::test_all(std::string_view impl_name) const { check(shape_, seed_, {&conv_implementation(impl_name)}); }

void ConvTester::test_all_implementations() const {
  std::vector<const ConvImplInfo*> impls;
  for (const ConvImplInfo& info : conv_implementations()) {
    if (info.role != ConvRole::reference) impls.push_back(&info);
  }
  check(shape_, seed_, impls);
}

}  // namespace convlab::testing
