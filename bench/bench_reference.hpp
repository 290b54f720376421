// Checks a peer's forward result against convlab's naive reference before the peer may report a time: a
// peer set up wrongly (weights in the wrong layout, padding on the wrong side) runs just as fast as a right
// one, so only its numbers tell.
//
// The check uses the first image of the batch only, so the reference stays cheap on large shapes while
// the peer runs exactly the primitive that is timed (whole batch, same thread count).
#pragma once

#include <string>
#include <vector>

#include "common/conv_shape.hpp"

namespace convlab::bench {

// One image's worth of a forward pass: input (C x H x W), weights (F x C x kh x kw), bias (F) and the naive
// reference's output (F x oh x ow), all in convlab's layouts. Values lie in [-0.1, 0.1), like every other
// benchmark operand.
struct ReferenceImage {
  ConvShape shape;  // batch 1
  std::vector<float> input, weights, bias, output;
};

// The reference for `shape`'s geometry (its batch is ignored); computed on first use, then cached.
const ReferenceImage& reference_forward_image(const ConvShape& shape);

// Empty when `output` (image 0 of a peer's result, F x oh x ow) matches the reference within a float
// rounding tolerance; otherwise one line saying where and by how much it differs.
std::string check_against_reference(const ReferenceImage& reference, const float* output);

}  // namespace convlab::bench
