// Element-wise activations and the softmax, shared by every layer of the network.
#pragma once

#include "common/tensor/strided_view.hpp"

namespace convlab {

// out[i] = tanh(in[i]); in and out may alias.
template <typename T>
void tanh_forward(const T* in, T* out, Index count);

// in_grad[i] = out_grad[i] * (1 - out[i]^2), from tanh's output; buffers may alias.
template <typename T>
void tanh_backward(const T* out, const T* out_grad, T* in_grad, Index count);

// Row-wise softmax of a rows x cols matrix, stable against overflow (subtracts each row's maximum).
template <typename T>
void softmax_rows(const T* logits, T* probabilities, Index rows, Index cols);

}  // namespace convlab
