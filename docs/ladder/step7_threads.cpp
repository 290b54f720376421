// Step 7: threads. The tiles of step 6 (one image x one band of output rows) are independent, so OpenMP
// hands them to the cores: a static schedule in tile order, the same kernel per tile, and therefore the
// same numbers whatever the thread count. With fewer tiles than cores (one small image) the second core
// has nothing to do; impls/openmp also splits channels then.
#include <algorithm>

#include "docs/ladder/ladder.hpp"

namespace convlab::ladder {

void step7_threads(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index image_size = s.in_channels * s.in_height * s.in_width;
  const Index out_image_size = s.out_channels * s.out_height() * s.out_width();
  const Index band = band_rows(s), OH = s.out_height();
  const Index bands = (OH + band - 1) / band, tiles = s.batch * bands;
#pragma omp parallel for schedule(static)
  for (Index tile = 0; tile < tiles; ++tile) {
    const Index n = tile / bands, y_begin = (tile % bands) * band;
    channel_block_rows(s, x + n * image_size, w, b, y + n * out_image_size, 0, s.out_channels, y_begin,
                std::min(OH, y_begin + band));
  }
}

}  // namespace convlab::ladder
