// The forward pass built up one idea at a time, as chapters 4 and 5 tell it. Each step is a complete
// kernel in its own file that adds one idea to the step before; convlab_bench times every step
// (ladder/<step>/forward/<shape>/float/batch:<N>/threads:<T>) and ctest checks every step against step 0,
// bit for bit. The ladder keeps to the simplest layer - stride 1, no padding, float, NCHW - so that each
// file shows its idea and nothing else; impls/simd and impls/openmp are where the same ideas meet every
// stride, padding, type and pass.
#pragma once

#include <string>
#include <vector>

#include "common/conv/conv_shape.hpp"

namespace convlab::ladder {

using Kernel = void (*)(const ConvShape& shape, const float* input, const float* weights, const float* bias,
                        float* output);

struct Step {
  std::string name;  // "0_naive", "1_vector_columns", ...
  std::string idea;  // one line: what this step adds
  Kernel kernel;
  int builds_on = -1;  // the number of the step this one adds its idea to (-1: none)
  bool uses_threads = false;
};

// In order, step 0 first.
const std::vector<Step>& steps();

// Stride 1, no padding: the layers the ladder's kernels compute.
bool supports(const ConvShape& shape);

// Step 4's register blocks over output channels [f_begin, f_end) and output rows [y_begin, y_end) of one
// image (input and output point at the image), which steps 6 and 7 reuse.
void channel_block_rows(const ConvShape& shape, const float* image, const float* weights, const float* bias,
                        float* output_image, Index f_begin, Index f_end, Index y_begin, Index y_end);

// Step 6's band height: output rows per tile (steps 6 and 7).
Index band_rows(const ConvShape& shape);

void step0_naive(const ConvShape&, const float*, const float*, const float*, float*);
void step1_vector_columns(const ConvShape&, const float*, const float*, const float*, float*);
void step2_masked_tails(const ConvShape&, const float*, const float*, const float*, float*);
void step3_register_rows(const ConvShape&, const float*, const float*, const float*, float*);
void step4_channel_block(const ConvShape&, const float*, const float*, const float*, float*);
void step5_slide_rows(const ConvShape&, const float*, const float*, const float*, float*);
void step6_cache_tiles(const ConvShape&, const float*, const float*, const float*, float*);
void step7_threads(const ConvShape&, const float*, const float*, const float*, float*);

}  // namespace convlab::ladder
