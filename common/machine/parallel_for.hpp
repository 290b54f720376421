// Loops over indices on OpenMP threads, or on the calling thread alone without entering the OpenMP runtime.
// A parallel region that runs on one thread (an `if (false)` clause included) still builds a team, which
// costs about as much as a whole small convolution call.
#pragma once

#include <omp.h>

#include "common/tensor/strided_view.hpp"  // Index

namespace convlab {

enum class Schedule { even, dynamic };  // contiguous equal shares (OpenMP static), or one index at a time

// body(i, thread) for every i < count; `thread` is the caller's OpenMP thread number (0 on one thread).
template <typename Body>
void parallel_for(Index count, int threads, Schedule schedule, const Body& body) {
  if (threads <= 1 || count <= 1) {
    for (Index i = 0; i < count; ++i) body(i, Index(0));
    return;
  }
  if (schedule == Schedule::dynamic) {
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (Index i = 0; i < count; ++i) body(i, Index(omp_get_thread_num()));
  } else {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (Index i = 0; i < count; ++i) body(i, Index(omp_get_thread_num()));
  }
}

}  // namespace convlab
