// See openmp_spin.hpp for why the program re-executes itself.
#include "common/machine/openmp_spin.hpp"

#include <strings.h>
#include <unistd.h>

#include <cstdlib>

namespace convlab {

namespace {
// Whether the user asked libgomp to bind threads to places. It then binds this (the initial) thread to the first
// place as it loads, before main; a re-executed program would inherit that one place as its whole affinity mask,
// and every thread of every team would share one CPU (measured: the 2-thread forward pass at half speed).
bool openmp_binds_threads() {
  const char* bind = std::getenv("OMP_PROC_BIND");
  if (bind != nullptr && strcasecmp(bind, "false") != 0) return true;
  return std::getenv("OMP_PLACES") != nullptr || std::getenv("GOMP_CPU_AFFINITY") != nullptr;
}
}  // namespace

void bound_openmp_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (openmp_binds_threads()) return;
  if (setenv("GOMP_SPINCOUNT", kDefaultOpenMpSpinCount, 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("GOMP_SPINCOUNT");  // exec failed (no /proc?): run as we are, with libgomp's default
}

}  // namespace convlab
