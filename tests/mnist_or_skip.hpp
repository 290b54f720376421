// Tests that read MNIST (tagged [mnist]) start with CONVLAB_REQUIRE_MNIST(): without the files that
// scripts/install.sh fetches, the test stops there and prints "SKIPPED: <where it looked>", which ctest counts
// as a skip rather than a pass or a failure (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt).
#pragma once

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "common/data/datasets.hpp"

namespace convlab::testing {

// Why the MNIST training and test files cannot be found, or nothing when both can.
inline std::optional<std::string> mnist_missing() {
  try {
    locate_dataset("mnist", DatasetSplit::train);
    locate_dataset("mnist", DatasetSplit::test);
  } catch (const DatasetError& error) {
    return std::string(error.what());
  }
  return std::nullopt;
}

}  // namespace convlab::testing

#define CONVLAB_REQUIRE_MNIST()                                             \
  do {                                                                      \
    if (const auto missing = convlab::testing::mnist_missing()) {          \
      WARN("SKIPPED: " << *missing);                                        \
      return;                                                               \
    }                                                                       \
  } while (false)
