// See openmp_spin.hpp for why the program re-executes itself.
#include "common/machine/openmp_spin.hpp"

#include <unistd.h>

#include <cstdlib>

namespace convlab {

void bound_openmp_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", kDefaultOpenMpSpinCount, 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("GOMP_SPINCOUNT");  // exec failed (no /proc?): run as we are, with libgomp's default
}

}  // namespace convlab
