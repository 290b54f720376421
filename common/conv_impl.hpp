// The one interface every convolution implementation provides (layout: see conv_shape.hpp).
//
// Three passes, each in float and double:
//   forward           y = conv(x, w) + b                         (bias may be null: no bias)
//   backward_input    dx = conv_transpose(dy, w)                 (dL/dx from dL/dy)
//   backward_weights  dw = correlate(x, dy), db = sum of dy       (bias_grad may be null)
// Every output buffer is overwritten, never accumulated into. Calls validate the shape first and throw
// ConvShapeError on a bad one. An implementation object may keep scratch buffers between calls (so a
// training loop does not fault in fresh pages every step); use one object per thread of control.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/conv_shape.hpp"

namespace convlab {

class ConvImpl {
 public:
  virtual ~ConvImpl() = default;

  virtual void forward(const ConvShape& shape, const float* input, const float* weights, const float* bias,
                       float* output) = 0;
  virtual void forward(const ConvShape& shape, const double* input, const double* weights, const double* bias,
                       double* output) = 0;

  virtual void backward_input(const ConvShape& shape, const float* output_grad, const float* weights,
                              float* input_grad) = 0;
  virtual void backward_input(const ConvShape& shape, const double* output_grad, const double* weights,
                              double* input_grad) = 0;

  virtual void backward_weights(const ConvShape& shape, const float* input, const float* output_grad,
                                float* weight_grad, float* bias_grad) = 0;
  virtual void backward_weights(const ConvShape& shape, const double* input, const double* output_grad,
                                double* weight_grad, double* bias_grad) = 0;

  // Bytes of scratch memory the implementation needs for `shape` beyond inputs and outputs (im2col's
  // column matrix, for instance); reported by the benchmarks.
  virtual std::size_t workspace_bytes(const ConvShape& /*shape*/, std::size_t /*element_size*/) const { return 0; }
};

// Implements the six virtual calls from three member templates of Derived:
//   template <typename T> void forward_typed(const ConvShape&, const T* x, const T* w, const T* b, T* y);
//   template <typename T> void backward_input_typed(const ConvShape&, const T* dy, const T* w, T* dx);
//   template <typename T> void backward_weights_typed(const ConvShape&, const T* x, const T* dy, T* dw, T* db);
template <typename Derived>
class ConvImplFromTemplates : public ConvImpl {
 public:
  void forward(const ConvShape& s, const float* x, const float* w, const float* b, float* y) final {
    s.validate();
    self().template forward_typed<float>(s, x, w, b, y);
  }
  void forward(const ConvShape& s, const double* x, const double* w, const double* b, double* y) final {
    s.validate();
    self().template forward_typed<double>(s, x, w, b, y);
  }
  void backward_input(const ConvShape& s, const float* dy, const float* w, float* dx) final {
    s.validate();
    self().template backward_input_typed<float>(s, dy, w, dx);
  }
  void backward_input(const ConvShape& s, const double* dy, const double* w, double* dx) final {
    s.validate();
    self().template backward_input_typed<double>(s, dy, w, dx);
  }
  void backward_weights(const ConvShape& s, const float* x, const float* dy, float* dw, float* db) final {
    s.validate();
    self().template backward_weights_typed<float>(s, x, dy, dw, db);
  }
  void backward_weights(const ConvShape& s, const double* x, const double* dy, double* dw, double* db) final {
    s.validate();
    self().template backward_weights_typed<double>(s, x, dy, dw, db);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace convlab
