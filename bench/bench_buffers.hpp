// Benchmark operands that are allocated and touched once, outside every timed loop, then reused by all
// later benchmarks (this VM charges about 11 us for each freshly touched 4 KiB page).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/tensor/aligned_buffer.hpp"

namespace convlab::bench {

template <typename T>
class TouchedBuffer {
 public:
  // At least `count` elements holding small pseudo-random values; grows (and touches) only when needed.
  T* get(std::size_t count) {
    if (count > buffer_.size()) {
      buffer_.resize(count);
      std::uint32_t state = 12345u + std::uint32_t(count);
      for (std::size_t i = 0; i < count; ++i) {
        state = state * 1664525u + 1013904223u;
        buffer_[i] = T(double(state >> 8) / double(1u << 24) - 0.5) * T(0.2);
      }
    }
    return buffer_.data();
  }

 private:
  AlignedBuffer<T> buffer_;
};

// The operands of every pass. What a pass reads is never written by another pass (results go to their
// own buffers), so values stay in the same range for the whole run instead of shrinking towards
// denormals (slow on some paths) through chains of passes.
template <typename T>
struct ConvOperands {
  TouchedBuffer<T> input, output_grad, weights, bias;              // read
  TouchedBuffer<T> output, input_grad, weight_grad, bias_grad;     // written
  static ConvOperands& get() {
    static ConvOperands operands;
    return operands;
  }
};

}  // namespace convlab::bench
