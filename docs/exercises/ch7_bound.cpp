// Chapter 7, exercise 1: the tolerance convlab's cross-check allows for one output of the lecture's layer
// (n = 25 products) whose products' absolute values add up to 10, in float and in double.
#include <cstdio>
#include <limits>

int main() {
  const int n = 25;
  const double sum_abs = 10.0, c = 2.5;
  const double u_float = std::numeric_limits<float>::epsilon() / 2, u_double = std::numeric_limits<double>::epsilon() / 2;
  std::printf("float:  c n u sum|wx| = 2.5 * 25 * %.3g * 10 = %.3g\n", u_float, c * n * u_float * sum_abs);
  std::printf("double: c n u sum|wx| = 2.5 * 25 * %.3g * 10 = %.3g\n", u_double, c * n * u_double * sum_abs);
}
