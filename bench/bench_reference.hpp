// Checks a peer's forward result against convlab's naive reference before the peer may report a time: a
// peer set up wrongly (weights in the wrong layout, padding on the wrong side) runs just as fast as a right
// one, so only its numbers tell.
//
// The reference computes one image, so it stays cheap on large shapes, while the peer runs exactly the
// call that is timed (whole batch, same thread count) with that image as the batch's first and last: a
// mistake in the batch stride shows in the last.
#pragma once

#include <string>
#include <vector>

#include "common/conv/conv_shape.hpp"

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

// Copies the reference's input image into the first and the last image of an NCHW batch.
void put_reference_images(const ReferenceImage& reference, float* input, Index batch);

// Empty when the first and the last image of `output` (a peer's NCHW result for the whole batch) match the
// reference within a float rounding tolerance; otherwise one line saying where and by how much it differs.
std::string check_reference_images(const ReferenceImage& reference, const float* output, Index batch);

}  // namespace convlab::bench
