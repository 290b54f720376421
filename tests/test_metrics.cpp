// Percent correct and the lecture-format confusion matrix.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "common/nn/metrics.hpp"

TEST_CASE("percent correct counts matches", "[metrics]") {
  const std::vector<std::uint8_t> targets = {0, 1, 2, 2, 1, 0, 2, 2};
  const std::vector<std::uint8_t> predicted = {0, 1, 2, 1, 1, 2, 2, 0};
  CHECK(convlab::percent_correct(predicted, targets) == 62.5);
  CHECK_THROWS_WITH(convlab::percent_correct(std::vector<std::uint8_t>{1}, targets),
                    "metrics: 1 predictions for 8 targets");
  CHECK_THROWS_WITH(convlab::percent_correct({}, {}), "metrics: percent correct of no examples");
}

TEST_CASE("confusion matrix prints in the lecture's format", "[metrics]") {
  // Class 0: 2 samples (1 right, 1 as 2); class 1: 2 right; class 2: 4 samples (2 right, 1 as 1, 1 as 0).
  const std::vector<std::uint8_t> targets = {0, 1, 2, 2, 1, 0, 2, 2};
  const std::vector<std::uint8_t> predicted = {0, 1, 2, 1, 1, 2, 2, 0};
  const convlab::ConfusionMatrix matrix(3, predicted, targets);
  CHECK(matrix.count(2, 1) == 1);
  CHECK(matrix.row_total(2) == 4);
  CHECK(matrix.percent(0, 2) == 50.0);
  // Python: print('   ', '%5d' per class), '    ' + '------' * 3, rows '{:2d} |' + '{:5.1f}' or '  0  '.
  CHECK(matrix.format() ==
        "       0    1    2\n"
        "    ------------------\n"
        " 0 | 50.0  0   50.0\n"
        " 1 |  0  100.0  0  \n"
        " 2 | 25.0 25.0 50.0\n");
  convlab::ConfusionMatrix thirds(3);
  thirds.add(0, 0);
  thirds.add(0, 1);
  thirds.add(0, 1);
  CHECK(thirds.format().substr(thirds.format().find(" 0 |"), 20) == " 0 | 33.3 66.7  0  \n");
  CHECK_THROWS_WITH(thirds.add(3, 0), "confusion matrix: class pair (3, 0) outside 0..2");
}
