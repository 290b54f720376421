// Chapter 8: Winograd's F(2, 3) on one row. Two outputs of a 3-tap window cost 6 multiplications done
// directly, 4 after transforming the window and the 4 inputs it covers; the transforms cost additions
// (and halvings, exact in binary), and rounding happens in them too.
#include <cstdio>

int main() {
  const double d[4] = {1, 2, 4, 8};   // four inputs: the two outputs' windows overlap
  const double g[3] = {1, 10, 100};   // one 3-tap window
  int direct_products = 0;
  double direct[2];
  for (int o = 0; o < 2; ++o) {
    direct[o] = 0;
    for (int k = 0; k < 3; ++k, ++direct_products) direct[o] += g[k] * d[o + k];
  }
  // The window's transform G g (computed once per window, reused for every tile of the image):
  const double u[4] = {g[0], (g[0] + g[1] + g[2]) / 2, (g[0] - g[1] + g[2]) / 2, g[2]};
  // The inputs' transform B^T d (once per tile, reused for every output channel):
  const double v[4] = {d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]};
  // The only multiplications that depend on both: one per transformed point.
  double m[4];
  int winograd_products = 0;
  for (int i = 0; i < 4; ++i, ++winograd_products) m[i] = u[i] * v[i];
  // The outputs' transform A^T m:
  const double y[2] = {m[0] + m[1] + m[2], m[1] - m[2] - m[3]};
  std::printf("direct:   y = [%g, %g] with %d multiplications\n", direct[0], direct[1], direct_products);
  std::printf("winograd: y = [%g, %g] with %d multiplications (u = [%g, %g, %g, %g], v = [%g, %g, %g, %g])\n",
              y[0], y[1], winograd_products, u[0], u[1], u[2], u[3], v[0], v[1], v[2], v[3]);
  std::printf("in 2-D, F(2x2, 3x3): %d multiplications for 4 outputs instead of %d; F(4x4, 3x3): %d for 16 "
              "instead of %d\n", 4 * 4, 4 * 9, 6 * 6, 16 * 9);
}
