// The ladder's steps in order (see ladder.hpp).
#include "docs/ladder/ladder.hpp"

namespace convlab::ladder {

const std::vector<Step>& steps() {
  static const std::vector<Step> all = {
      {"0_naive", "plain loops in the order of the math", step0_naive, -1},
      {"1_vector_columns", "a vector of neighbouring outputs along a row; leftover columns one by one",
       step1_vector_columns, 0},
      {"2_masked_tails", "leftover columns as one masked vector", step2_masked_tails, 1},
      {"3_register_rows", "4 output rows x 2 vectors in registers: each broadcast weight feeds 8 FMAs",
       step3_register_rows, 2},
      {"4_channel_block", "4 output channels x 2 rows x 2 vectors: each loaded input vector feeds 4 FMAs",
       step4_channel_block, 3},
      {"5_slide_rows",
       "3 channels x 4 rows x 2 vectors walking down the input rows: each load feeds up to 12 FMAs, each "
       "broadcast 2 (not kept: steps 6 and 7 build on step 4)",
       step5_slide_rows, 4},
      {"6_cache_tiles", "step 4 over bands of output rows whose input fits in L1, every channel block per band",
       step6_cache_tiles, 4},
      {"7_threads", "the bands of all images shared among the cores (OpenMP, static)", step7_threads, 6, true},
  };
  return all;
}

bool supports(const ConvShape& s) {
  return s.stride_height == 1 && s.stride_width == 1 && s.pad_height == 0 && s.pad_width == 0 &&
         s.out_height() > 0 && s.out_width() > 0;
}

}  // namespace convlab::ladder
