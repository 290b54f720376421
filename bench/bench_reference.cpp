// The peers' start-up check against the naive reference (see bench_reference.hpp).
#include "bench/bench_reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>

#include "common/conv/conv_registry.hpp"

namespace convlab::bench {

namespace {

std::vector<float> pseudo_random(Index count, std::uint32_t seed) {
  std::vector<float> values(static_cast<std::size_t>(count));
  std::uint32_t state = seed;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = (float(state >> 8) / float(1u << 24) - 0.5f) * 0.2f;
  }
  return values;
}

}  // namespace

const ReferenceImage& reference_forward_image(const ConvShape& shape) {
  static std::map<std::string, std::unique_ptr<ReferenceImage>> cache;
  ConvShape one = shape;
  one.batch = 1;
  std::unique_ptr<ReferenceImage>& entry = cache[one.describe()];
  if (!entry) {
    entry = std::make_unique<ReferenceImage>();
    entry->shape = one;
    entry->input = pseudo_random(one.input_size(), 11u);
    entry->weights = pseudo_random(one.weight_size(), 22u);
    entry->bias = pseudo_random(one.out_channels, 33u);
    entry->output.assign(static_cast<std::size_t>(one.output_size()), 0.0f);
    make_conv_impl(reference_implementation().name)->forward(one, entry->input.data(), entry->weights.data(), entry->bias.data(),
                                     entry->output.data());
  }
  return *entry;
}

void put_reference_images(const ReferenceImage& reference, float* input, Index batch) {
  const std::size_t size = reference.input.size();
  std::copy(reference.input.begin(), reference.input.end(), input);
  std::copy(reference.input.begin(), reference.input.end(), input + std::size_t(batch - 1) * size);
}

namespace {

std::string check_image(const ReferenceImage& reference, const float* output, Index image) {
  // Tolerance relative to the largest reference value: summation orders differ between libraries (float
  // rounding of a few units in the last place per term), while a layout or padding mistake moves values
  // by the order of the values themselves.
  float largest = 0.0f;
  for (float value : reference.output) largest = std::max(largest, std::fabs(value));
  const float tolerance = 2e-4f * std::max(largest, 1e-3f);
  std::size_t worst = 0;
  float worst_difference = 0.0f;
  for (std::size_t i = 0; i < reference.output.size(); ++i) {
    const float difference = std::fabs(output[i] - reference.output[i]);
    if (std::isnan(difference) || difference > worst_difference) {  // NaN never compares greater
      worst = i;
      worst_difference = std::isnan(difference) ? INFINITY : difference;
    }
  }
  if (worst_difference <= tolerance) return {};
  std::ostringstream message;
  message << "result differs from the naive reference: element " << worst << " of image " << image << " is "
          << output[worst] << ", expected " << reference.output[worst] << " (tolerance " << tolerance << ")";
  return message.str();
}

}  // namespace

std::string check_reference_images(const ReferenceImage& reference, const float* output, Index batch) {
  const std::size_t size = reference.output.size();
  std::string error = check_image(reference, output, 0);
  if (error.empty()) error = check_image(reference, output + std::size_t(batch - 1) * size, batch - 1);
  return error;
}

}  // namespace convlab::bench
