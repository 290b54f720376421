#include <catch2/catch.hpp>
#include <numeric>
#include <vector>

#include "common/tensor/strided_view.hpp"

using convlab::Index;
using convlab::StridedView;
using convlab::ViewError;

TEST_CASE("the lecture's 2x3x4 array has strides (12s, 4s, s)", "[view]") {
  std::vector<double> values(24);
  std::iota(values.begin(), values.end(), 0.0);
  const StridedView<double, 3> array(std::span<double>(values), {2, 3, 4});
  const Index s = sizeof(double);
  CHECK(array.byte_strides() == std::array<Index, 3>{12 * s, 4 * s, s});
  CHECK(array(1, 2, 3) == 23.0);
}

TEST_CASE("the lecture's windows view (2,2,3,2,2) with strides (12s,4s,1s,4s,s)", "[view]") {
  std::vector<double> values(24);
  std::iota(values.begin(), values.end(), 0.0);
  const Index s = sizeof(double);
  // As the lecture wrote it, with byte strides...
  const auto by_hand = convlab::as_strided<double, 5>(std::span<double>(values), {2, 2, 3, 2, 2},
                                                      {12 * s, 4 * s, 1 * s, 4 * s, s});
  // ... and as sliding_windows builds it.
  const StridedView<double, 3> images(std::span<double>(values), {2, 3, 4});
  const auto windows = convlab::sliding_windows(images, {2, 2}, {1, 1});
  CHECK(windows.shape() == by_hand.shape());
  CHECK(windows.byte_strides() == by_hand.byte_strides());
  CHECK(windows(1, 0, 1, 0, 0) == 13.0);
  CHECK(windows(1, 0, 1, 0, 1) == 14.0);
  CHECK(windows(1, 0, 1, 1, 0) == 17.0);
  CHECK(windows(1, 0, 1, 1, 1) == 18.0);
  CHECK(windows.data() == values.data());  // no copy was made
}

TEST_CASE("10x10 windows of a 28x28 digit form a 19x19 grid", "[view]") {
  std::vector<float> digit(28 * 28);
  std::iota(digit.begin(), digit.end(), 0.0f);
  const StridedView<float, 3> images(std::span<float>(digit), {1, 28, 28});
  const auto windows = convlab::sliding_windows(images, {10, 10}, {1, 1});
  CHECK(windows.shape() == std::array<Index, 5>{1, 19, 19, 10, 10});
  CHECK(windows(0, 18, 18, 9, 9) == digit.back());
  CHECK(windows(0, 3, 5, 2, 7) == digit[(3 + 2) * 28 + 5 + 7]);
  const auto strided = convlab::sliding_windows(images, {10, 10}, {4, 4});
  CHECK(strided.shape() == std::array<Index, 5>{1, 5, 5, 10, 10});
  CHECK(strided(0, 1, 2, 0, 0) == digit[4 * 28 + 8]);
}

TEST_CASE("a view that would reach outside its buffer is an error", "[view]") {
  std::vector<float> values(24);
  std::span<float> buffer(values);
  CHECK_NOTHROW(StridedView<float, 2>(buffer, {6, 4}, {4, 1}));
  CHECK_THROWS_AS((StridedView<float, 2>(buffer, {7, 4}, {4, 1})), ViewError);
  CHECK_THROWS_AS((StridedView<float, 2>(buffer, {2, 2}, {4, 1}, 24)), ViewError);
  CHECK_THROWS_AS((StridedView<float, 1>(buffer, {3}, {-1}, 1)), ViewError);
  CHECK_NOTHROW(StridedView<float, 1>(buffer, {3}, {-1}, 2));
  CHECK_THROWS_AS((StridedView<float, 2>(buffer, {2, 2}, {Index(1) << 62, 1})), ViewError);
  CHECK_THROWS_AS((convlab::as_strided<float, 1>(buffer, {2}, {6})), ViewError);  // not whole elements
  const StridedView<float, 3> images(buffer, {1, 4, 6});
  CHECK_THROWS_AS(convlab::sliding_windows(images, {5, 2}, {1, 1}), ViewError);
  CHECK_THROWS_AS(convlab::sliding_windows(images, {2, 2}, {0, 1}), ViewError);
  CHECK_THROWS_AS(images.at(0, 4, 0), ViewError);
}

TEST_CASE("an empty view over an empty buffer is allowed", "[view]") {
  std::span<float> nothing;
  const StridedView<float, 2> empty(nothing, {0, 5});
  CHECK(empty.size() == 0);
}
