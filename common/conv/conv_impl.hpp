// The one interface every convolution implementation provides (layout: see conv_shape.hpp).
//
// Three passes, each in float and double:
//   forward           y = conv(x, w) + b                         (bias may be null: no bias)
//   backward_input    dx = conv_transpose(dy, w)                 (dL/dx from dL/dy)
//   backward_weights  dw = correlate(x, dy), db = sum of dy       (bias_grad may be null)
// Every output buffer is overwritten, never accumulated into. Calls validate the shape first and throw
// ConvShapeError on a bad one. An implementation object may keep scratch buffers between calls (so a
// training loop does not fault in fresh pages every step); use one object per thread of control.
//
// Inference: hold_weights(shape, w, b) keeps the implementation's own copy of a layer's weights and bias,
// in the layout its kernels read: forward_held(shape, x, y) is then bitwise forward(shape, x, w, b, y), and
// backward_input_held(shape, dy, dx) bitwise backward_input(shape, dy, w, dx) (gradients with respect to
// the input of a frozen layer: saliency maps, adversarial examples). The layout change (packing) that every
// call otherwise repeats happens once per hold (for the input gradient, at its first held call); oneDNN's
// primitives and XNNPACK's operators keep their weights the same way. The held copy ignores later changes
// to `w`; the shape of a held call may differ from the held one only in its batch.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_shape.hpp"

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

  virtual void hold_weights(const ConvShape& shape, const float* weights, const float* bias) = 0;
  virtual void hold_weights(const ConvShape& shape, const double* weights, const double* bias) = 0;
  // Throws ConvShapeError when no weights of this type are held or the layer differs from the held one.
  virtual void forward_held(const ConvShape& shape, const float* input, float* output) = 0;
  virtual void forward_held(const ConvShape& shape, const double* input, double* output) = 0;
  virtual void backward_input_held(const ConvShape& shape, const float* output_grad, float* input_grad) = 0;
  virtual void backward_input_held(const ConvShape& shape, const double* output_grad, double* input_grad) = 0;

  // Which held calls of `shape` skip work that the plain ones do (weights kept packed for that pass); the
  // others run the plain pass on the held copy. The benchmarks time held calls only where they differ.
  struct HeldPacking {
    bool forward = false, backward_input = false;
  };
  virtual HeldPacking held_packing(const ConvShape& /*shape*/) const { return {}; }

  // Bytes of scratch memory the implementation needs for `shape` beyond inputs and outputs (im2col's
  // column matrix, for instance); reported by the benchmarks.
  virtual std::size_t workspace_bytes(const ConvShape& /*shape*/, std::size_t /*element_size*/) const { return 0; }
};

// Implements the six virtual calls from three member templates of Derived:
//   template <typename T> void forward_typed(const ConvShape&, const T* x, const T* w, const T* b, T* y);
//   template <typename T> void backward_input_typed(const ConvShape&, const T* dy, const T* w, T* dx);
//   template <typename T> void backward_weights_typed(const ConvShape&, const T* x, const T* dy, T* dw, T* db);
// Held weights (see above) are kept here as a plain copy; Derived may also keep them in its own layout by
// defining (hiding the defaults below):
//   template <typename T> void prepare_held_typed(const ConvShape&, const T* w, const T* b);  // after each hold
//   template <typename T> void forward_held_typed(const ConvShape&, const T* x, const T* w, const T* b, T* y);
//   template <typename T> void backward_input_held_typed(const ConvShape&, const T* dy, const T* w, T* dx);
// (w and b: the plain copy; b null when no bias was held).
template <typename Derived>
class ConvImplFromTemplates : public ConvImpl {
 public:
  void hold_weights(const ConvShape& s, const float* w, const float* b) final { hold<float>(s, w, b); }
  void hold_weights(const ConvShape& s, const double* w, const double* b) final { hold<double>(s, w, b); }
  void forward_held(const ConvShape& s, const float* x, float* y) final { run_held<float>(s, x, y); }
  void forward_held(const ConvShape& s, const double* x, double* y) final { run_held<double>(s, x, y); }
  void backward_input_held(const ConvShape& s, const float* dy, float* dx) final {
    run_held_backward_input<float>(s, dy, dx);
  }
  void backward_input_held(const ConvShape& s, const double* dy, double* dx) final {
    run_held_backward_input<double>(s, dy, dx);
  }

  template <typename T>
  void prepare_held_typed(const ConvShape&, const T*, const T*) {}
  template <typename T>
  void forward_held_typed(const ConvShape& s, const T* x, const T* w, const T* b, T* y) {
    self().template forward_typed<T>(s, x, w, b, y);
  }
  template <typename T>
  void backward_input_held_typed(const ConvShape& s, const T* dy, const T* w, T* dx) {
    self().template backward_input_typed<T>(s, dy, w, dx);
  }

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
  template <typename T>
  struct Held {
    std::optional<ConvShape> shape;  // with batch 1
    AlignedBuffer<T> weights, bias;
    bool has_bias = false;
  };

  Derived& self() { return static_cast<Derived&>(*this); }
  template <typename T>
  Held<T>& held() {
    if constexpr (sizeof(T) == sizeof(float)) return held_f32_; else return held_f64_;
  }
  static ConvShape layer_of(ConvShape s) {
    s.batch = 1;
    return s;
  }
  template <typename T>
  void hold(const ConvShape& s, const T* w, const T* b) {
    s.validate();
    Held<T>& h = held<T>();
    h.shape.reset();  // a failed hold leaves nothing held
    h.weights.resize(std::size_t(s.weight_size()));
    std::copy(w, w + s.weight_size(), h.weights.data());
    h.has_bias = b != nullptr;
    h.bias.resize(std::size_t(s.out_channels));
    if (b) std::copy(b, b + s.out_channels, h.bias.data());
    self().template prepare_held_typed<T>(s, h.weights.data(), h.has_bias ? h.bias.data() : nullptr);
    h.shape = layer_of(s);
  }
  template <typename T>
  Held<T>& held_for(const ConvShape& s, const char* call) {
    s.validate();
    Held<T>& h = held<T>();
    if (!h.shape) throw ConvShapeError(std::string(call) + ": no weights of this type are held (call hold_weights first)");
    if (!(layer_of(s) == *h.shape)) {
      throw ConvShapeError(std::string(call) + ": layer " + s.describe() + " differs from the held weights' layer " +
                           h.shape->describe() + " in more than its batch");
    }
    return h;
  }
  template <typename T>
  void run_held(const ConvShape& s, const T* x, T* y) {
    Held<T>& h = held_for<T>(s, "forward_held");
    self().template forward_held_typed<T>(s, x, h.weights.data(), h.has_bias ? h.bias.data() : nullptr, y);
  }
  template <typename T>
  void run_held_backward_input(const ConvShape& s, const T* dy, T* dx) {
    Held<T>& h = held_for<T>(s, "backward_input_held");
    self().template backward_input_held_typed<T>(s, dy, h.weights.data(), dx);
  }

  Held<float> held_f32_;
  Held<double> held_f64_;
};

}  // namespace convlab
