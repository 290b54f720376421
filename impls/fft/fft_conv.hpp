// fft: convolution by the convolution theorem, for stride-1 layers with any window and any padding.
//
// What it does differently: every input plane and every weight plane is zero-padded to a transform plane of
// Lh x Lw points (powers of two, per axis the smallest >= max(i + p, k, o): just large enough that the
// circular correlation the DFT computes does not wrap data onto the outputs), transformed by a 2-D FFT;
// per output plane the spectra are multiplied pointwise and summed over the channels, and one inverse FFT
// gives the whole plane. Forward: Y[n][f] = sum_c conj(W[f][c]) X[n][c]; input gradient: DX[n][c] =
// sum_f W[f][c] DY[n][f] (a full convolution: the output gradient placed shifted by -p, no flip needed).
// Why and when it is faster: per (image, filter, channel) the pointwise product costs Lh Lw complex
// multiply-adds, about 4 i o real ones against i o kh kw for a direct sum; the transforms, O(Lh Lw log(Lh Lw))
// each, are paid once per input plane, weight plane and output plane, not per channel pair. So it pays for
// large windows (kh kw well above 4 plus the transforms' share), and loses on 3x3 or small channel counts.
// Why its error differs: every output is computed from every input through the transforms, so its rounding
// error is normwise (bounded per output plane by u log2(Lh Lw) times norms of the operands; derived in
// tests/test_fft.cpp, computed by impls/fft/fft_bound.hpp), not per output: an output much smaller than its
// plane (a cancelling sum, a quiet corner) carries an error of the size of the plane's large ones.
//
// The FFT is this file's own radix-2 (decimation in frequency forward, natural order in, bit-reversed out;
// decimation in time inverse, bit-reversed in, natural out: the pointwise products never need the
// permutation), computed in T with twiddles rounded once from long double; not FFTW or pocketfft: the
// project's dependency list is fixed, and a known radix-2 algorithm is what the error bound is derived for.
// Spectra of the weights are computed once per call (held weights keep them), of the inputs once per image
// and channel, into buffers kept in the object. OpenMP over planes: each output plane is summed over the
// channels in one fixed order by one thread, so 1 and 2 threads give bitwise-identical results.
// backward_weights is not FFT: it is simd's direct kernels (ConvImplInfo::delegates says so). By FFT it
// would cost about what forward does (dw[f][c] = the first kh x kw points of the inverse of sum_n
// conj(DY[n][f]) X[n][c], the same transform size); the tester already holds a non-direct implementation's
// weight gradient to its own test (as Winograd's), so what is missing is that pass and its bound.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/conv/conv_impl.hpp"
#include "common/tensor/aligned_buffer.hpp"

namespace convlab {

// The transform plane of a stride-1 layer (both passes use the same): per axis the smallest power of two
// >= max(input + padding, window, output).
struct FftSize {
  Index height = 1, width = 1;
  Index points() const { return height * width; }
};
FftSize fft_transform_size(const ConvShape& s);

// Limits, so that no layer allocates gigabytes: points of one transform plane, and bytes of the spectra of
// one call (inputs and weights), counted in double whatever the type (the refusal depends on the layer
// only); held weights keep one more copy of the weights' spectra.
inline constexpr Index kFftMaxPlanePoints = Index(1) << 20;
inline constexpr double kFftMaxSpectrumBytes = 512.0 * 1024 * 1024;
double fft_spectrum_bytes(const ConvShape& s);

// "" when FFT convolution computes forward and backward_input of `s`; otherwise why not, naming the layer
// (stride 1 is needed, and the limits above).
std::string fft_unsupported(const ConvShape& s);

class FftConv final : public ConvImplFromTemplates<FftConv> {
 public:
  FftConv();

  template <typename T>
  void forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);
  template <typename T>
  void backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                              T* bias_grad);

  template <typename T>
  void prepare_held_typed(const ConvShape& s, const T* weights, const T* bias);
  template <typename T>
  void forward_held_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output);
  template <typename T>
  void backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad);

  HeldPacking held_packing(const ConvShape& s) const override;
  std::size_t workspace_bytes(const ConvShape& s, std::size_t element_size) const override;

 private:
  template <typename T>
  struct Twiddles {
    Index length = 0;
    std::vector<T> re, im;  // [span + j] = exp(-2 pi i j / (2 span)), span = 1, 2, ..., length / 2, j < span
  };
  template <typename T>
  struct Workspace {
    Twiddles<T> rows, cols;         // for Lh (along a column) and Lw (along a row)
    AlignedBuffer<T> weights;       // F x C spectra of a plain call: each Lw x Lh real parts, then imaginary
    AlignedBuffer<T> held;          // the held weights' spectra
    AlignedBuffer<T> data;          // N x C (forward) or N x F (input gradient) spectra
    std::vector<AlignedBuffer<T>> scratch;  // per thread: accumulators of a block of output planes, a plane
    std::vector<std::vector<char>> live;    // per thread: which rows of a plane may be nonzero
  };
  template <typename T>
  Workspace<T>& workspace();
  template <typename T>
  void transform_weights(const ConvShape& s, const T* weights, AlignedBuffer<T>& spectra);
  template <typename T>
  void run(const ConvShape& s, bool input_gradient, const T* data, const T* weight_spectra, const T* bias, T* out);

  std::unique_ptr<ConvImpl> weight_gradient_;  // simd
  Workspace<float> float_workspace_;
  Workspace<double> double_workspace_;
};

}  // namespace convlab
