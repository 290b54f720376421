// Checks the shared gemm against a naive triple loop: exact equality on small integers, the standard
// dot-product error bound on real values, every transpose combination and edge shape, determinism across
// thread counts, beta == 0 ignoring NaN in C, and leading dimensions larger than the rows.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

#include "common/kernels/gemm.hpp"

namespace {

using convlab::Index;
using convlab::Transpose;

// Deterministic pseudo-random generator (no dependence on the standard library's distributions).
class Lcg {
 public:
  explicit Lcg(std::uint64_t seed) : state_(seed * 2862933555777941757ull + 3037000493ull) {}
  std::uint32_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return std::uint32_t(state_ >> 33);
  }
  // Uniform in [-1, 1).
  double real() { return double(next()) / double(1u << 31) - 1.0; }
  // Integer in [-4, 4].
  int small_integer() { return int(next() % 9) - 4; }

 private:
  std::uint64_t state_;
};

// A stored matrix with `rows` x `cols` logical entries and a row stride of at least cols.
template <typename T>
struct Stored {
  Index rows, cols, ld;
  std::vector<T> data;
  Stored(Index rows_, Index cols_, Index padding = 0)
      : rows(rows_), cols(cols_), ld(std::max<Index>(1, cols_ + padding)), data(std::size_t(std::max<Index>(1, rows_ * ld))) {}
  T& at(Index i, Index j) { return data[std::size_t(i * ld + j)]; }
  T at(Index i, Index j) const { return data[std::size_t(i * ld + j)]; }
};

struct Case {
  Transpose ta, tb;
  Index m, n, k;
};

template <typename T>
struct Operands {
  Stored<T> a, b;
  Operands(const Case& c, Index padding = 0)
      : a(c.ta == Transpose::No ? c.m : c.k, c.ta == Transpose::No ? c.k : c.m, padding),
        b(c.tb == Transpose::No ? c.k : c.n, c.tb == Transpose::No ? c.n : c.k, padding) {}
  T op_a(const Case& c, Index i, Index p) const { return c.ta == Transpose::No ? a.at(i, p) : a.at(p, i); }
  T op_b(const Case& c, Index p, Index j) const { return c.tb == Transpose::No ? b.at(p, j) : b.at(j, p); }
};

template <typename T, typename Fill>
Operands<T> make_operands(const Case& c, Fill fill, Index padding = 0) {
  Operands<T> ops(c, padding);
  for (auto& x : ops.a.data) x = T(fill());
  for (auto& x : ops.b.data) x = T(fill());
  return ops;
}

template <typename T>
void run_gemm(const Case& c, const Operands<T>& ops, T alpha, T beta, Stored<T>& out) {
  convlab::gemm<T>(c.ta, c.tb, c.m, c.n, c.k, alpha, ops.a.data.data(), ops.a.ld, ops.b.data.data(), ops.b.ld, beta,
                   out.data.data(), out.ld);
}

const std::vector<Index> kSizes = {1, 7, 16, 17, 63, 64, 65, 257};
const std::vector<Transpose> kBoth = {Transpose::No, Transpose::Yes};

using Dims = std::tuple<Index, Index, Index>;  // m, n, k

const char* name(Transpose t) { return t == Transpose::No ? "N" : "T"; }

// Small integers multiply and add exactly in float as long as every partial sum stays below 2^24:
// |a*b| <= 16 and k <= 11520 keep them below 2^18. So the result must equal the naive loop bit for bit.
template <typename T>
void check_exact(const Case& c, T alpha, T beta, Index padding) {
  Lcg rng(std::uint64_t(c.m * 1000003 + c.n * 1009 + c.k));
  const auto ops = make_operands<T>(c, [&] { return rng.small_integer(); }, padding);
  Stored<T> out(c.m, c.n, padding);
  for (auto& x : out.data) x = T(rng.small_integer());
  Stored<T> expected = out;
  for (Index i = 0; i < c.m; ++i) {
    for (Index j = 0; j < c.n; ++j) {
      T sum = 0;
      for (Index p = 0; p < c.k; ++p) sum += ops.op_a(c, i, p) * ops.op_b(c, p, j);
      expected.at(i, j) = alpha * sum + (beta == T(0) ? T(0) : beta * expected.at(i, j));
    }
  }
  run_gemm(c, ops, alpha, beta, out);
  Index mismatches = 0;
  for (Index i = 0; i < c.m; ++i)
    for (Index j = 0; j < c.n; ++j) mismatches += out.at(i, j) != expected.at(i, j);
  INFO(name(c.ta) << name(c.tb) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " alpha=" << alpha
                  << " beta=" << beta << " padding=" << padding);
  CHECK(mismatches == 0);
}

// For real data, each element must satisfy |c - c_ref| <= 2 * gamma_k * sum_p |a_ip| |b_pj| (+ the same for the
// beta term), gamma_k = k u / (1 - k u). gamma_k bounds the rounding error of any order of summing k products
// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1): it covers our blocked, lane-split, FMA order.
// The reference is itself a computed float/double sum with the same bound, so the two may differ by twice
// it. The reference is accumulated in the working precision on purpose: a long double reference would give a
// bound of gamma_k alone, but this one also checks that both results sit within the same envelope.
template <typename T>
void check_bounded(const Case& c, T alpha, T beta) {
  Lcg rng(std::uint64_t(c.m * 7 + c.n * 131 + c.k * 8191));
  const auto ops = make_operands<T>(c, [&] { return rng.real(); });
  Stored<T> out(c.m, c.n);
  for (auto& x : out.data) x = T(rng.real());
  const Stored<T> before = out;
  run_gemm(c, ops, alpha, beta, out);
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double ku = double(c.k + 2) * u;  // k products plus the alpha and beta roundings
  const double gamma = ku / (1 - ku);
  Index violations = 0;
  double worst = 0;
  for (Index i = 0; i < c.m; ++i) {
    for (Index j = 0; j < c.n; ++j) {
      T sum = 0;
      double magnitude = 0;
      for (Index p = 0; p < c.k; ++p) {
        sum += ops.op_a(c, i, p) * ops.op_b(c, p, j);
        magnitude += std::abs(double(ops.op_a(c, i, p)) * double(ops.op_b(c, p, j)));
      }
      const T reference = alpha * sum + beta * before.at(i, j);
      const double bound =
          2 * gamma * (std::abs(double(alpha)) * magnitude + std::abs(double(beta) * double(before.at(i, j))));
      const double error = std::abs(double(out.at(i, j)) - double(reference));
      worst = std::max(worst, bound > 0 ? error / bound : error);
      violations += !(error <= bound);
    }
  }
  INFO(name(c.ta) << name(c.tb) << " m=" << c.m << " n=" << c.n << " k=" << c.k << " worst error/bound=" << worst);
  CHECK(violations == 0);
}

}  // namespace

TEST_CASE("gemm is exact on small integers for every shape and transpose", "[gemm]") {
  for (Transpose ta : kBoth) {
    for (Transpose tb : kBoth) {
      for (Index m : kSizes) {
        for (Index n : kSizes) {
          for (Index k : {Index(1), Index(17), Index(64), Index(257)}) {
            check_exact<float>({ta, tb, m, n, k}, 1.0f, 0.0f, 0);
          }
        }
      }
    }
  }
}

TEST_CASE("gemm is exact on the network's skinny and deep shapes", "[gemm]") {
  for (Transpose ta : kBoth) {
    for (Transpose tb : kBoth) {
      for (Index n : {Index(10), Index(50)}) {
        check_exact<float>({ta, tb, 64, n, 11520}, 1.0f, 0.0f, 0);
        check_exact<double>({ta, tb, 7, n, 11520}, 1.0, 1.0, 0);
        check_exact<float>({ta, tb, 65, n, 300}, 2.0f, -1.0f, 0);
        check_exact<float>({ta, tb, n, 200, 64}, 1.0f, 1.0f, 0);
        check_exact<float>({ta, tb, 64, 576, 25}, 1.0f, 0.0f, 0);  // im2col per image
      }
    }
  }
}

TEST_CASE("gemm honours alpha, beta and leading dimensions wider than the rows", "[gemm]") {
  for (Transpose ta : kBoth) {
    for (Transpose tb : kBoth) {
      for (Index padding : {Index(1), Index(13)}) {
        check_exact<float>({ta, tb, 17, 65, 33}, 3.0f, 2.0f, padding);
        check_exact<double>({ta, tb, 63, 50, 300}, -1.0, 0.5, padding);
      }
      check_exact<double>({ta, tb, 9, 10, 7}, 0.0, 2.0, 0);  // alpha == 0: C scaled by beta only
      check_exact<float>({ta, tb, 9, 10, 0}, 1.0f, 3.0f, 0);  // k == 0
    }
  }
}

TEST_CASE("gemm stays within the dot-product error bound on real values", "[gemm]") {
  for (Transpose ta : kBoth) {
    for (Transpose tb : kBoth) {
      for (const auto& [m, n, k] : std::vector<Dims>{{17, 65, 257}, {64, 50, 11520}, {64, 576, 25}, {50, 300, 64},
                                                     {1, 1, 1}, {63, 10, 1000}}) {
        check_bounded<float>({ta, tb, m, n, k}, 1.0f, 0.0f);
        check_bounded<float>({ta, tb, m, n, k}, 0.5f, -1.5f);
        check_bounded<double>({ta, tb, m, n, k}, 1.0, 1.0);
      }
    }
  }
}

TEST_CASE("gemm with beta == 0 ignores NaN in C", "[gemm]") {
  for (Transpose ta : kBoth) {
    for (Transpose tb : kBoth) {
      for (Index k : {Index(0), Index(5), Index(300)}) {
        const Case c{ta, tb, 19, 53, k};
        Lcg rng(42);
        const auto ops = make_operands<float>(c, [&] { return rng.small_integer(); }, 3);
        Stored<float> out(c.m, c.n, 3);
        for (auto& x : out.data) x = std::numeric_limits<float>::quiet_NaN();
        run_gemm(c, ops, 1.0f, 0.0f, out);
        Index nans = 0;
        for (Index i = 0; i < c.m; ++i)
          for (Index j = 0; j < c.n; ++j) nans += std::isnan(out.at(i, j));
        INFO(name(ta) << name(tb) << " k=" << k);
        CHECK(nans == 0);
        // The padding columns beyond n are not C's: they must be left alone.
        CHECK(std::isnan(out.at(0, c.n)));
      }
    }
  }
}

TEST_CASE("gemm gives bitwise-identical results on 1 and 2 threads", "[gemm]") {
  const int saved = omp_get_max_threads();
  for (Transpose ta : kBoth) {
    for (Transpose tb : kBoth) {
      for (const auto& [m, n, k] :
           std::vector<Dims>{{64, 50, 11520}, {64, 11520, 50}, {50, 11520, 64}, {11520, 50, 64}, {257, 129, 1000}}) {
        const Case c{ta, tb, m, n, k};
        Lcg rng(7);
        const auto ops = make_operands<float>(c, [&] { return rng.real(); });
        Stored<float> one(m, n), two(m, n);
        for (std::size_t i = 0; i < one.data.size(); ++i) one.data[i] = two.data[i] = float(rng.real());
        omp_set_num_threads(1);
        run_gemm(c, ops, 0.75f, 1.25f, one);
        omp_set_num_threads(2);
        run_gemm(c, ops, 0.75f, 1.25f, two);
        INFO(name(ta) << name(tb) << " m=" << m << " n=" << n << " k=" << k);
        CHECK(one.data == two.data);
      }
    }
  }
  omp_set_num_threads(saved);
}

TEST_CASE("gemm rejects inconsistent arguments", "[gemm]") {
  std::vector<float> a(100), b(100), c(100);
  CHECK_THROWS_AS(convlab::gemm<float>(Transpose::No, Transpose::No, -1, 2, 2, 1.0f, a.data(), 2, b.data(), 2, 0.0f,
                                       c.data(), 2),
                  std::invalid_argument);
  CHECK_THROWS_AS(convlab::gemm<float>(Transpose::No, Transpose::No, 3, 4, 5, 1.0f, a.data(), 4, b.data(), 4, 0.0f,
                                       c.data(), 4),
                  std::invalid_argument);
  CHECK_THROWS_AS(convlab::gemm<float>(Transpose::No, Transpose::No, 3, 4, 5, 1.0f, a.data(), 5, b.data(), 4, 0.0f,
                                       c.data(), 3),
                  std::invalid_argument);
}

namespace {
// A (m x k) packed for gemm_packed_a, the last panel's rows past m filled with NaN (they must reach no element).
template <typename T>
std::vector<T> packed(const Stored<T>& a) {
  std::vector<T> out(std::size_t(convlab::gemm_packed_a_elements(a.rows, a.cols)), std::numeric_limits<T>::quiet_NaN());
  for (Index i = 0; i < a.rows; ++i)
    for (Index p = 0; p < a.cols; ++p) out[std::size_t(convlab::gemm_packed_a_offset(i, p, a.cols))] = a.at(i, p);
  return out;
}

// Each element of C as gemm_packed_a promises to compute it: one multiply-add chain over each block of 128 depths
// in order, the block sums added to C one after the other. Fused or not as the build's vector multiply-add is
// (xsimd's AVX-512 fma is a multiply and an add that only contraction fuses, which the sanitizer build's -O1
// leaves apart), so the test accepts either chain, element by element: both orders and roundings are fixed.
template <typename T>
T rounded_product(T x, T y) {
  volatile T product = x * y;  // rounded on its own, never contracted into the addition
  return product;
}
template <typename T>
T chained_sum(const Stored<T>& a, const Stored<T>& b, Index i, Index j, bool fused) {
  constexpr Index kBlock = 128;
  T total = 0;
  for (Index p0 = 0; p0 < a.cols; p0 += kBlock) {
    T sum = 0;
    for (Index p = p0; p < std::min(a.cols, p0 + kBlock); ++p)
      sum = fused ? std::fma(a.at(i, p), b.at(p, j), sum) : rounded_product(a.at(i, p), b.at(p, j)) + sum;
    total = p0 == 0 ? sum : total + sum;
  }
  return total;
}

template <typename T>
void check_packed(Index m, Index n, Index k, Index padding) {
  Lcg rng(std::uint64_t(m * 31 + n * 1013 + k * 7 + padding));
  Stored<T> a(m, k), b(k, n, padding), out(m, n, padding), plain(m, n, padding);
  for (auto& x : a.data) x = T(rng.real());
  for (auto& x : b.data) x = T(rng.real());
  std::fill(out.data.begin(), out.data.end(), std::numeric_limits<T>::quiet_NaN());
  const std::vector<T> a_packed = packed(a);
  convlab::gemm_packed_a<T>(m, n, k, a_packed.data(), b.data.data(), b.ld, out.data.data(), out.ld);
  convlab::gemm<T>(Transpose::No, Transpose::No, m, n, k, T(1), a.data.data(), a.ld, b.data.data(), b.ld, T(0),
                   plain.data.data(), plain.ld, 1);
  constexpr Index kLanes = 64 / Index(sizeof(T));
  Index chain_mismatches = 0, gemm_mismatches = 0, touched_padding = 0;
  for (Index i = 0; i < m; ++i) {
    for (Index j = 0; j < n; ++j) {
      const T value = out.at(i, j);
      chain_mismatches += !(value == chained_sum(a, b, i, j, true) || value == chained_sum(a, b, i, j, false));
      // The whole-vector columns: gemm's own outer-product kernel, the same bits.
      if (j < n / kLanes * kLanes) gemm_mismatches += !(out.at(i, j) == plain.at(i, j));
    }
    for (Index j = n; j < out.ld; ++j) touched_padding += !std::isnan(out.at(i, j));
  }
  INFO("m=" << m << " n=" << n << " k=" << k << " padding=" << padding << " " << sizeof(T) << "-byte values");
  CHECK(chain_mismatches == 0);
  CHECK(gemm_mismatches == 0);
  CHECK(touched_padding == 0);
}
}  // namespace

TEST_CASE("gemm_packed_a sums every element as one chain per depth block, as gemm does", "[gemm]") {
  for (Index m : {1, 7, 8, 9, 17, 64, 65}) {
    for (Index n : {1, 5, 15, 16, 17, 47, 48, 49, 64, 97}) {
      for (Index k : {1, 17, 128, 129, 300}) {
        check_packed<float>(m, n, k, n % 3 == 0 ? 5 : 0);
        if (m % 8 == 1) check_packed<double>(m, n, k, 0);
      }
    }
  }
}

TEST_CASE("gemm_packed_a rejects a B it cannot read in place and writes nothing for k == 0 but zeros", "[gemm]") {
  std::vector<float> a(8 * 4, 1.0f), b(4 * 2048, 1.0f), c(8 * 16, std::numeric_limits<float>::quiet_NaN());
  CHECK_THROWS_AS(convlab::gemm_packed_a<float>(8, 16, 4, a.data(), b.data(), 1024, c.data(), 16), std::invalid_argument);
  CHECK_THROWS_AS(convlab::gemm_packed_a<float>(8, 16, 4, a.data(), b.data(), 8, c.data(), 16), std::invalid_argument);
  convlab::gemm_packed_a<float>(8, 16, 0, a.data(), b.data(), 16, c.data(), 16);
  CHECK(std::all_of(c.begin(), c.end(), [](float x) { return x == 0.0f; }));
}
