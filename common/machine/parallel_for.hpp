// Loops over indices on OpenMP threads, or on the calling thread alone without entering the OpenMP runtime.
// A parallel region that runs on one thread (an `if (false)` clause included) still builds a team, which
// costs about as much as a whole small convolution call.
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "common/tensor/strided_view.hpp"  // Index

namespace convlab {

// The threads a call may use: every OpenMP thread, or one when the call runs inside an enclosing parallel
// region (the training step gives each of its parts a thread; a nested region would build a team of one).
inline int available_threads() { return omp_in_parallel() ? 1 : std::max(1, omp_get_max_threads()); }

// The largest team any parallel_for region has run on in this process (1 before the first): the threads the work
// really ran on, where omp_get_max_threads() is only how many it may ask for (OMP_THREAD_LIMIT, OMP_DYNAMIC or
// a region nested in another give fewer).
inline std::atomic<int> largest_parallel_team{1};
inline int largest_team() { return largest_parallel_team.load(std::memory_order_relaxed); }
// Called by each region's thread 0: after the first region of a size, only a load.
inline void note_team() {
  const int team = omp_get_num_threads();
  int seen = largest_parallel_team.load(std::memory_order_relaxed);
  while (team > seen && !largest_parallel_team.compare_exchange_weak(seen, team, std::memory_order_relaxed)) {
  }
}

// even:    contiguous equal shares (OpenMP static): the same indices on the same thread every call;
// dynamic: one index at a time, to whichever thread asks first (OpenMP dynamic);
// shares:  each thread walks its own contiguous share first, as `even` would give it, then takes what is left of
//          the others' shares from their far ends (ShareClaims). A thread finds the indices it ran in the last
//          call, and the cache lines they wrote, in the same place; one that loses its core for a while (the
//          machine is shared) does not hold the call up, the others finish its share.
enum class Schedule { even, dynamic, shares };

// The claims of a `shares` loop over [0, count) by `threads` threads. Every index is handed out exactly once,
// whatever the order in which threads ask and however many of them turn up (a thread whose share nobody
// owns, in a smaller team, is emptied by the others).
class ShareClaims {
 public:
  ShareClaims(Index count, int threads) : threads_(threads < 1 ? 1 : threads), shares_(new Share[std::size_t(threads_)]) {
    if (count >= (Index(1) << 31) * threads_) throw std::length_error("ShareClaims: too many indices");
    for (int t = 0; t < threads_; ++t) {
      shares_[std::size_t(t)].begin = count * t / threads_;
      shares_[std::size_t(t)].size = count * (t + 1) / threads_ - shares_[std::size_t(t)].begin;
    }
  }

  // body(i) for the indices thread `thread` claims: its own share from the front, then the others' from the back.
  template <typename Body>
  void run(int thread, const Body& body) {
    const int own = thread % threads_;
    for (Index i; (i = claim(shares_[std::size_t(own)], false)) >= 0;) body(i);
    for (int k = 1; k < threads_; ++k) {
      Share& other = shares_[std::size_t((own + k) % threads_)];
      for (Index i; (i = claim(other, true)) >= 0;) body(i);
    }
  }

 private:
  // claimed: indices taken from the front (low 32 bits) and from the back (high 32 bits). One atomic word, so
  // every claim sees both counts as they were just before it: the first `size` claims succeed, and the front
  // and back ones among them never meet.
  struct alignas(64) Share {
    std::atomic<std::uint64_t> claimed{0};
    Index begin = 0, size = 0;
  };
  static Index claim(Share& share, bool from_back) {
    const std::uint64_t before = share.claimed.fetch_add(from_back ? std::uint64_t(1) << 32 : 1, std::memory_order_relaxed);
    const Index front = Index(before & 0xFFFFFFFFu), back = Index(before >> 32);
    if (front + back >= share.size) return -1;
    return from_back ? share.begin + share.size - 1 - back : share.begin + front;
  }

  int threads_;
  std::unique_ptr<Share[]> shares_;
};

// body(i, thread) for every i < count; `thread` is the caller's OpenMP thread number (0 on one thread).
template <typename Body>
void parallel_for(Index count, int threads, Schedule schedule, const Body& body) {
  if (threads <= 1 || count <= 1) {
    for (Index i = 0; i < count; ++i) body(i, Index(0));
    return;
  }
  if (schedule == Schedule::shares) {
    ShareClaims claims(count, threads);
#pragma omp parallel num_threads(threads)
    {
      const Index thread = Index(omp_get_thread_num());
      if (thread == 0) note_team();
      claims.run(int(thread), [&](Index i) { body(i, thread); });
    }
  } else if (schedule == Schedule::dynamic) {
#pragma omp parallel num_threads(threads)
    {
      if (omp_get_thread_num() == 0) note_team();
#pragma omp for schedule(dynamic)
      for (Index i = 0; i < count; ++i) body(i, Index(omp_get_thread_num()));
    }
  } else {
#pragma omp parallel num_threads(threads)
    {
      if (omp_get_thread_num() == 0) note_team();
#pragma omp for schedule(static)
      for (Index i = 0; i < count; ++i) body(i, Index(omp_get_thread_num()));
    }
  }
}

}  // namespace convlab
