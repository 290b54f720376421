// Step 6: tile for the caches. Step 4 computes one block of output channels over the whole image before
// the next, so every block of channels reads the whole image again: from L1 when the image fits there (the
// lecture's 3 KB digit), from L2 when it does not (a 20-channel 24 x 24 input is 46 KB, L1 is 48 KB with
// the weights competing). Here the image is cut into bands of output rows whose input rows (all channels)
// fit in kBandBytes, and every block of channels runs over one band before the next band is read; the
// weights are read once per band instead of once per image. For layers whose image fits in L1 anyway this
// can only cost, which the measurements show too.
#include <algorithm>

#include "docs/ladder/ladder.hpp"

namespace convlab::ladder {

namespace {

constexpr Index kBandBytes = 32 << 10;  // two thirds of Zen 5's 48 KiB L1, all of Zen 4's 32 KiB

}  // namespace

// Output rows per band: a multiple of step 4's 2-row blocks, as many as keep the band's input rows within
// kBandBytes (at least 2).
Index band_rows(const ConvShape& s) {
  const Index row_bytes = s.in_channels * s.in_width * Index(sizeof(float));
  const Index input_rows = std::max<Index>(kBandBytes / std::max<Index>(row_bytes, 1), 1);
  return std::clamp<Index>((input_rows - s.kernel_height + 1) / 2 * 2, 2, std::max<Index>(s.out_height(), 1));
}

void step6_cache_tiles(const ConvShape& s, const float* x, const float* w, const float* b, float* y) {
  const Index image_size = s.in_channels * s.in_height * s.in_width;
  const Index out_image_size = s.out_channels * s.out_height() * s.out_width();
  const Index band = band_rows(s), OH = s.out_height();
  for (Index n = 0; n < s.batch; ++n)
    for (Index y_begin = 0; y_begin < OH; y_begin += band)
      channel_block_rows(s, x + n * image_size, w, b, y + n * out_image_size, 0, s.out_channels, y_begin,
                  std::min(OH, y_begin + band));
}

}  // namespace convlab::ladder
