// An empty OpenMP parallel region of two threads, 100000 times: its cost per region (g++ -O2 -fopenmp).
#include <omp.h>
#include <chrono>
#include <cstdio>
int main() {
  volatile int sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto a = std::chrono::steady_clock::now();
    for (int i = 0; i < 100000; ++i) {
#pragma omp parallel num_threads(2)
      { sink = sink + omp_get_thread_num(); }
    }
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count() / 100000;
    std::printf("empty region: %.2f us\n", us);
  }
}
