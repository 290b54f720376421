// naive: the reference. Plain loops in the order of the math, one output element at a time, no tricks.
//
// Every other implementation is checked against this one. Its summation order is part of the contract:
//   y[n,f,oy,ox]  = (sum over c, ky, kx in increasing order, starting from zero) + b[f]
//   dx[n,c,iy,ix] = sum over f, ky, kx in increasing order of dy[n,f,oy,ox] * w[f,c,ky,kx]
//   dw[f,c,ky,kx] = sum over n, oy, ox in increasing order of dy[n,f,oy,ox] * x[n,c,iy,ix]
//   db[f]         = sum over n, oy, ox in increasing order of dy[n,f,oy,ox]
// where iy = oy*stride - pad + ky; terms that fall in the zero padding are skipped.
// It is slow because it recomputes index arithmetic and bounds tests for every product and reads the
// input with poor locality; it is single-threaded on purpose.
#pragma once

#include "common/conv_impl.hpp"

namespace convlab {

// Whether each term of naive's sums is one fused multiply-add (one rounding), as gcc contracts
// `sum += w * x` on a target with FMA (-march=native here; the flag -ffp-contract=fast is explicit in
// impls/naive/CMakeLists.txt), or a multiply and an add (two roundings). An implementation that sums in
// naive's order is bitwise equal to it only when it rounds the same way.
bool naive_fuses_multiply_add();

class NaiveConv final : public ConvImplFromTemplates<NaiveConv> {
 public:
  template <typename T>
  void forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);
};

}  // namespace convlab
