#include "common/activations.hpp"

#include <algorithm>
#include <cmath>

namespace convlab {

template <typename T>
void tanh_forward(const T* in, T* out, Index count) {
  for (Index i = 0; i < count; ++i) out[i] = std::tanh(in[i]);
}

template <typename T>
void tanh_backward(const T* out, const T* out_grad, T* in_grad, Index count) {
  for (Index i = 0; i < count; ++i) in_grad[i] = out_grad[i] * (T(1) - out[i] * out[i]);
}

template <typename T>
void softmax_rows(const T* logits, T* probabilities, Index rows, Index cols) {
  for (Index r = 0; r < rows; ++r) {
    const T* row = logits + r * cols;
    T* result = probabilities + r * cols;
    const T largest = *std::max_element(row, row + cols);
    T total = 0;
    for (Index c = 0; c < cols; ++c) total += (result[c] = std::exp(row[c] - largest));
    for (Index c = 0; c < cols; ++c) result[c] /= total;
  }
}

template void tanh_forward<float>(const float*, float*, Index);
template void tanh_forward<double>(const double*, double*, Index);
template void tanh_backward<float>(const float*, const float*, float*, Index);
template void tanh_backward<double>(const double*, const double*, double*, Index);
template void softmax_rows<float>(const float*, float*, Index, Index);
template void softmax_rows<double>(const double*, double*, Index, Index);

}  // namespace convlab
