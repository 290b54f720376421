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

#include "common/conv/conv_impl.hpp"

namespace convlab {

// How this build of naive rounds each term of its sums: as one fused multiply-add (gcc contracts
// `sum += w * x` into an FMA on a target with FMA, -march=native here, when nothing stands between the
// multiply and the add), as a multiply and then an add (no FMA in the target), or either, depending on
// pass and type. Found by running naive itself on two terms whose
// fused and unfused sums differ. An implementation that sums in naive's order is bitwise equal to it only
// when it rounds the same way.
enum class TermRounding { fused, separate, mixed };
TermRounding naive_term_rounding();

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
