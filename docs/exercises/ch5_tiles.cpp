// Chapter 5, exercise 1: how step 6 cuts the lecture's layer and the second layer at batch 64 into tiles:
// rows per band, bands per image, tiles in all, and the bytes of input one band reads.
#include <algorithm>
#include <cstdio>

#include "docs/ladder/ladder.hpp"

int main() {
  convlab::ConvShape lecture, second;
  lecture.batch = second.batch = 64;
  lecture.out_channels = 20;
  lecture.in_height = lecture.in_width = 28;
  lecture.kernel_height = lecture.kernel_width = 5;
  second.in_channels = 20;
  second.in_height = second.in_width = 24;
  second.out_channels = 50;
  second.kernel_height = second.kernel_width = 5;
  for (const convlab::ConvShape& s : {lecture, second}) {
    const convlab::Index band = convlab::ladder::band_rows(s), bands = (s.out_height() + band - 1) / band;
    const convlab::Index band_input = s.in_channels * (band + s.kernel_height - 1) * s.in_width * 4;
    std::printf("%s: %td rows per band, %td band(s) per image, %td tiles, %td bytes of input per band\n",
                s.describe().c_str(), band, bands, bands * s.batch, band_input);
  }
}
