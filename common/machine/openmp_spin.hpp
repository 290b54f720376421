// Bounds how long idle OpenMP threads spin before they sleep, for the programs' own runs.
//
// Why: the harness forks a few parallel regions per minibatch step (gemm, tanh, conv). libgomp's default
// lets a waiting thread spin for about 300000 pause instructions (milliseconds) before it sleeps. On a
// quiet machine that costs nothing, but when the cores are shared (other jobs, a CI runner), a spinning
// thread takes the core the thread it waits for needs. Training on 12000 images at 2 threads with the
// machine shared (load average 10, `convlab train --epochs 1 --threads 2 --train-limit 12000`), one run each:
// spin 100000: 16.0 s, 10000: 2.7 s, 1000: 1.1-1.3 s, and 1.1 s at 1 thread. 1000 pauses (some
// microseconds) still bridge the shortest gaps between back-to-back regions.
// libgomp reads GOMP_SPINCOUNT once, when it is loaded, so the only way to set it from inside the program
// is to re-execute it with the variable set. The user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT always win, and a
// user who binds threads (OMP_PROC_BIND other than false, OMP_PLACES, GOMP_CPU_AFFINITY) keeps libgomp's default:
// libgomp has already bound the initial thread to one place, which a re-executed program would inherit as all
// the CPUs it may use.
#pragma once

namespace convlab {

// The spin count set when the user has chosen none (pause iterations).
inline constexpr const char* kDefaultOpenMpSpinCount = "1000";

// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set and threads are not bound, sets GOMP_SPINCOUNT and
// re-executes the running program (/proc/self/exe) with the same arguments; does not return then. Returns
// normally when the user set any of those variables, or when re-execution is impossible (the program then runs
// with libgomp's default).
// Call first thing in main, before any thread is started.
void bound_openmp_spin(char** argv);

}  // namespace convlab
