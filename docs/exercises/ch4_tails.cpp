// Chapter 4, exercise 1: with 16-lane vectors (AVX-512, float), how many vectors does one output row take,
// and how many lanes of the last one hold real outputs, for the lecture's rows (24), the second layer's (20),
// a 7 x 7 layer's (7) and a row of 32?
#include <cstdio>
#include <initializer_list>

int main() {
  const int lanes = 16;
  for (int width : {24, 20, 7, 32}) {
    const int vectors = (width + lanes - 1) / lanes, last = width - (vectors - 1) * lanes;
    std::printf("row of %2d: %d vector(s), %2d of the last one's %d lanes used (%d masked off)\n", width, vectors,
                last, lanes, lanes - last);
  }
}
