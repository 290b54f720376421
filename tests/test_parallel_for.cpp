// parallel_for and ShareClaims (common/machine/parallel_for.hpp): every index runs exactly once under each
// schedule, on one thread or several, whatever the order in which threads claim, and when fewer threads turn
// up than the shares were cut for.
#include <omp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <vector>

#include "common/machine/parallel_for.hpp"

namespace {

using convlab::Index;
using convlab::ShareClaims;

std::vector<int> counts_of(const std::vector<std::atomic<int>>& runs) {
  std::vector<int> counts;
  for (const auto& r : runs) counts.push_back(r.load());
  return counts;
}

}  // namespace

TEST_CASE("ShareClaims: a thread walks its own share from the front, then the others' from the back", "[parallel_for]") {
  ShareClaims claims(10, 2);  // shares [0, 5) and [5, 10)
  std::vector<Index> order;
  claims.run(1, [&](Index i) { order.push_back(i); });
  // Thread 1 alone: its share in order, then thread 0's from its end.
  CHECK(order == std::vector<Index>{5, 6, 7, 8, 9, 4, 3, 2, 1, 0});
  std::vector<Index> none;
  claims.run(0, [&](Index i) { none.push_back(i); });
  CHECK(none.empty());
}

TEST_CASE("ShareClaims: claims interleaved between an owner and a thief meet without overlap", "[parallel_for]") {
  for (Index count : {Index(1), Index(2), Index(7), Index(64), Index(1001)}) {
    for (int threads : {1, 2, 3, 4}) {
      for (int stop_after : {0, 1, 3, 50}) {
        // Thread 0 runs stop_after of its indices, then thread `threads - 1` runs everything it can, then thread 0
        // again: the thief must take the rest of share 0 from its back and leave what thread 0 already ran.
        ShareClaims claims(count, threads);
        std::vector<int> runs(std::size_t(count), 0);
        int taken = 0;
        struct Stop {};
        try {
          claims.run(0, [&](Index i) {
            ++runs[std::size_t(i)];
            if (++taken == stop_after) throw Stop{};
          });
        } catch (const Stop&) {
        }
        for (int t = threads - 1; t >= 0; --t) claims.run(t, [&](Index i) { ++runs[std::size_t(i)]; });
        INFO("count " << count << ", threads " << threads << ", thread 0 stopped after " << stop_after);
        CHECK(runs == std::vector<int>(std::size_t(count), 1));
      }
    }
  }
}

TEST_CASE("parallel_for: every index once under every schedule, on as many threads as asked or fewer", "[parallel_for]") {
  for (auto schedule : {convlab::Schedule::even, convlab::Schedule::dynamic, convlab::Schedule::shares}) {
    for (Index count : {Index(0), Index(1), Index(5), Index(333)}) {
      for (int threads : {1, 2, 3, 8}) {
        std::vector<std::atomic<int>> runs(static_cast<std::size_t>(count));
        std::atomic<int> bad_thread_numbers{0};  // Catch2's checks are not for worker threads
        convlab::parallel_for(count, threads, schedule, [&](Index i, Index thread) {
          if (thread < 0 || thread >= threads) bad_thread_numbers.fetch_add(1);
          runs[std::size_t(i)].fetch_add(1);
        });
        INFO("schedule " << int(schedule) << ", count " << count << ", threads " << threads);
        CHECK(counts_of(runs) == std::vector<int>(std::size_t(count), 1));
        CHECK(bad_thread_numbers.load() == 0);
      }
    }
  }
  // A team smaller than the shares (OpenMP may give fewer threads than asked): the others' shares still run.
  std::vector<std::atomic<int>> runs(97);
  ShareClaims claims(97, 4);
#pragma omp parallel num_threads(2)
  claims.run(omp_get_thread_num(), [&](Index i) { runs[std::size_t(i)].fetch_add(1); });
  CHECK(counts_of(runs) == std::vector<int>(97, 1));
}
