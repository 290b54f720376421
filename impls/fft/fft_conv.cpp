// FFT convolution (see fft_conv.hpp).
//
// A data plane lies as Lh rows of Lw values; its spectrum as Lw rows (width frequencies) of Lh values (height
// frequencies), all real parts then all imaginary parts. The 2-D FFT is a 1-D FFT along the height (as
// butterflies between whole rows, so that the innermost loop runs along a row and vectorises), a transpose,
// and a 1-D FFT along the width the same way; the inverse runs the other way round. Each 1-D FFT is radix 2:
//   forward, decimation in frequency (Gentleman-Sande): for span = L/2, ..., 1, pairs (a, b) span apart:
//     a <- a + b,  b <- (a - b) w,   w = exp(-2 pi i j / (2 span))      natural order in, bit-reversed out
//   inverse, decimation in time: for span = 1, ..., L/2:
//     t = w b,  a <- a + t,  b <- a - t                                 bit-reversed in, natural order out
// with conjugated twiddles: the inverse is run as the forward-twiddle DIT on the arrays with real and
// imaginary parts swapped (swap(z) = i conj(z), so DIT(swap z) = swap(conj(F) z), exactly). Spectra stay in
// bit-reversed order: the products are pointwise. The inverse's 1 / (Lh Lw) is a power of two: exact.
// Butterflies of two zero rows (beyond the data) are skipped, and only the data's columns are transposed:
// that changes no computed value (up to the sign of a zero); the inverse transposes and finishes only the
// output's columns.
#include "impls/fft/fft_conv.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "common/conv/conv_registry.hpp"
#include "common/machine/parallel_for.hpp"

namespace convlab {

namespace {

// Output planes accumulated together (each data spectrum read once for all of them), images together (each
// weight spectrum read once for all of them), and the frequencies per pass over them (the chunk's spectra
// and accumulators stay in cache).
constexpr Index kPlaneBlock = 4;
constexpr Index kImageGroup = 8;
constexpr Index kChunk = 512;
// Calls with fewer multiply-adds than this (in the products) run on the calling thread.
constexpr double kParallelMinFmas = double(1 << 18);

Index power_of_two_at_least(Index n) {
  Index p = 1;
  while (p < n) p *= 2;
  return p;
}

Index axis_size(Index input, Index pad, Index window, Index output) {
  return power_of_two_at_least(std::max({input + pad, window, output}));
}

// ---- 1-D radix-2 transforms ----

// Rows [0, L) of `width` contiguous values each (row stride `width`): the transform along the columns.
// live[r]: whether row r may hold a nonzero (updated as the stages spread them); a butterfly of two zero
// rows is skipped (its outputs are zeros, up to the sign of zero).
template <typename T>
void dif_outer(T* re, T* im, Index L, Index width, const T* twr, const T* twi, char* live) {
  for (Index span = L / 2; span >= 1; span /= 2)
    for (Index start = 0; start < L; start += 2 * span)
      for (Index j = 0; j < span; ++j) {
        if (!live[start + j] && !live[start + j + span]) continue;
        live[start + j] = live[start + j + span] = 1;
        const T wr = twr[span + j], wi = twi[span + j];
        T* __restrict ar = re + (start + j) * width;
        T* __restrict ai = im + (start + j) * width;
        T* __restrict br = re + (start + j + span) * width;
        T* __restrict bi = im + (start + j + span) * width;
#pragma GCC ivdep
        for (Index v = 0; v < width; ++v) {
          const T xr = ar[v], xi = ai[v], yr = br[v], yi = bi[v];
          ar[v] = xr + yr;
          ai[v] = xi + yi;
          const T dr = xr - yr, di = xi - yi;
          br[v] = dr * wr - di * wi;
          bi[v] = dr * wi + di * wr;
        }
      }
}

template <typename T>
void dit_outer(T* re, T* im, Index L, Index width, const T* twr, const T* twi) {
  for (Index span = 1; span < L; span *= 2)
    for (Index start = 0; start < L; start += 2 * span)
      for (Index j = 0; j < span; ++j) {
        const T wr = twr[span + j], wi = twi[span + j];
        T* __restrict ar = re + (start + j) * width;
        T* __restrict ai = im + (start + j) * width;
        T* __restrict br = re + (start + j + span) * width;
        T* __restrict bi = im + (start + j + span) * width;
#pragma GCC ivdep
        for (Index v = 0; v < width; ++v) {
          const T yr = br[v], yi = bi[v];
          const T tr = yr * wr - yi * wi, ti = yr * wi + yi * wr;
          const T xr = ar[v], xi = ai[v];
          ar[v] = xr + tr;
          ai[v] = xi + ti;
          br[v] = xr - tr;
          bi[v] = xi - ti;
        }
      }
}

// b[c * out_stride + r] = a[r * in_stride + c] for r < rows, c < cols.
template <typename T>
void transpose(const T* __restrict a, Index rows, Index cols, Index in_stride, T* __restrict b, Index out_stride) {
  constexpr Index kBlock = 16;
  for (Index r0 = 0; r0 < rows; r0 += kBlock)
    for (Index c0 = 0; c0 < cols; c0 += kBlock) {
      const Index r1 = std::min(rows, r0 + kBlock), c1 = std::min(cols, c0 + kBlock);
      for (Index c = c0; c < c1; ++c)
        for (Index r = r0; r < r1; ++r) b[c * out_stride + r] = a[r * in_stride + c];
    }
}

// The geometry of one call: the data planes transformed, the output planes produced.
struct Geometry {
  FftSize size;
  Index batch = 1;
  Index in_planes = 1, out_planes = 1;  // per image: C and F (forward), F and C (input gradient)
  Index in_h = 1, in_w = 1;             // a data plane: the input (forward) or the output gradient
  Index shift_h = 0, shift_w = 0;       // where its element (0, 0) goes in the transform plane
  Index out_h = 1, out_w = 1;           // a result plane, from (0, 0) of the inverse transform
  Index weight_h = 1, weight_w = 1;

  Geometry(const ConvShape& s, bool input_gradient) : size(fft_transform_size(s)) {
    batch = s.batch;
    weight_h = s.kernel_height;
    weight_w = s.kernel_width;
    if (!input_gradient) {
      in_planes = s.in_channels;
      out_planes = s.out_channels;
      in_h = s.in_height;
      in_w = s.in_width;
      shift_h = s.pad_height;  // the padded input, (p, p) in the plane; the wrap-around lands in zeros
      shift_w = s.pad_width;
      out_h = s.out_height();
      out_w = s.out_width();
    } else {
      in_planes = s.out_channels;
      out_planes = s.in_channels;
      in_h = s.out_height();
      in_w = s.out_width();
      shift_h = (size.height - s.pad_height) % size.height;  // -p, circularly
      shift_w = (size.width - s.pad_width) % size.width;
      out_h = s.in_height;
      out_w = s.in_width;
    }
  }
  Index points() const { return size.points(); }
  double fmas() const {
    return double(batch) * double(in_planes) * double(out_planes) * double(points()) * 4.0;
  }
};

template <typename T>
void build_twiddles(Index L, std::vector<T>& re, std::vector<T>& im) {
  constexpr long double pi = 3.141592653589793238462643383279502884L;
  re.assign(std::size_t(std::max<Index>(L, 2)), T(0));
  im.assign(re.size(), T(0));
  for (Index span = 1; span < L; span *= 2)
    for (Index j = 0; j < span; ++j) {
      T wr, wi;
      if (j == 0) {
        wr = T(1), wi = T(0);
      } else if (2 * j == span) {  // exp(-i pi / 2), exactly
        wr = T(0), wi = T(-1);
      } else {
        const long double angle = -pi * static_cast<long double>(j) / static_cast<long double>(span);
        wr = T(std::cos(angle));
        wi = T(std::sin(angle));
      }
      re[std::size_t(span + j)] = wr;
      im[std::size_t(span + j)] = wi;
    }
}

// The forward 2-D transform of one h x w plane `src` (row stride w) placed at (shift_h, shift_w), circularly,
// into the spectrum `dst`: Lw rows (width frequencies) of Lh values (height frequencies), all real parts,
// then all imaginary parts. Along the height first, on the plane as it lies (vectorised along its rows, the
// zero rows skipped), in `temp` (2 Lh Lw values); then transposed into dst and along the width (vectorised
// along the height frequencies, the zero columns skipped). `live`: max(Lh, Lw) flags.
template <typename T>
void forward_plane(const T* src, Index h, Index w, Index shift_h, Index shift_w, FftSize size, const T* row_twr,
                   const T* row_twi, const T* col_twr, const T* col_twi, T* temp, char* live, T* dst) {
  const Index Lh = size.height, Lw = size.width, n = Lh * Lw;
  T* re = temp;
  T* im = temp + n;
  std::fill_n(temp, 2 * n, T(0));
  const Index first = std::min(w, Lw - shift_w);  // columns before the wrap
  std::fill_n(live, Lh, char(0));
  for (Index r = 0; r < h; ++r) {
    live[(r + shift_h) % Lh] = 1;
    T* row = re + ((r + shift_h) % Lh) * Lw;
    std::copy_n(src + r * w, first, row + shift_w);
    std::copy_n(src + r * w + first, w - first, row);
  }
  dif_outer(re, im, Lh, Lw, row_twr, row_twi, live);
  // Only the columns that hold data are nonzero: [shift_w, shift_w + first) and [0, w - first).
  std::fill_n(dst, 2 * n, T(0));
  transpose(re + shift_w, Lh, first, Lw, dst + shift_w * Lh, Lh);
  transpose(im + shift_w, Lh, first, Lw, dst + n + shift_w * Lh, Lh);
  transpose(re, Lh, w - first, Lw, dst, Lh);
  transpose(im, Lh, w - first, Lw, dst + n, Lh);
  std::fill_n(live, Lw, char(0));
  for (Index c = 0; c < w; ++c) live[(c + shift_w) % Lw] = 1;
  dif_outer(dst, dst + n, Lw, Lh, col_twr, col_twi, live);
}

// The inverse of a spectrum `plane` (layout as forward_plane's dst; overwritten), scaled by 1/N, its rows
// below out_h and columns below out_w written to `out` (row stride out_w) plus `bias` if set. Along the width
// first (the forward-twiddle DIT on the swapped parts: the real part lands in the real array), then the
// columns below out_w transposed into `temp` (2 Lh out_w values) and along the height.
template <typename T>
void inverse_plane(T* plane, FftSize size, Index out_h, Index out_w, const T* row_twr, const T* row_twi,
                   const T* col_twr, const T* col_twi, T* temp, const T* bias, T* out) {
  const Index Lh = size.height, Lw = size.width, n = Lh * Lw;
  T* re = plane;
  T* im = plane + n;
  dit_outer(im, re, Lw, Lh, col_twr, col_twi);
  T* tre = temp;
  T* tim = temp + Lh * out_w;
  transpose(re, out_w, Lh, Lh, tre, out_w);
  transpose(im, out_w, Lh, Lh, tim, out_w);
  dit_outer(tim, tre, Lh, out_w, row_twr, row_twi);
  const T scale = T(1) / T(n);
  if (bias) {
    const T add = *bias;
    for (Index i = 0; i < out_h * out_w; ++i) out[i] = tre[i] * scale + add;
  } else {
    for (Index i = 0; i < out_h * out_w; ++i) out[i] = tre[i] * scale;
  }
}

}  // namespace

FftSize fft_transform_size(const ConvShape& s) {
  return {axis_size(s.in_height, s.pad_height, s.kernel_height, s.out_height()),
          axis_size(s.in_width, s.pad_width, s.kernel_width, s.out_width())};
}

double fft_spectrum_bytes(const ConvShape& s) {
  const FftSize size = fft_transform_size(s);
  const double planes = double(s.batch) * double(std::max(s.in_channels, s.out_channels)) +
                        double(s.in_channels) * double(s.out_channels);
  return planes * 2.0 * double(size.points()) * double(sizeof(double));
}

std::string fft_unsupported(const ConvShape& s) {
  std::ostringstream text;
  if (s.stride_height != 1 || s.stride_width != 1) {
    text << "FFT convolution needs stride 1; this layer (" << s.describe() << ") has stride " << s.stride_height;
    if (s.stride_width != s.stride_height) text << "x" << s.stride_width;
    return text.str();
  }
  const FftSize size = fft_transform_size(s);
  if (size.points() > kFftMaxPlanePoints) {
    text << "FFT convolution allows transform planes of at most " << kFftMaxPlanePoints << " points; this layer ("
         << s.describe() << ") needs " << size.height << "x" << size.width;
    return text.str();
  }
  if (fft_spectrum_bytes(s) > kFftMaxSpectrumBytes) {
    text << "FFT convolution keeps at most " << kFftMaxSpectrumBytes / (1024 * 1024)
         << " MiB of spectra; this layer (" << s.describe() << ") needs " << std::ceil(fft_spectrum_bytes(s) / (1024 * 1024))
         << " MiB (" << size.height << "x" << size.width << " planes for its inputs and weights, in double)";
    return text.str();
  }
  return {};
}

FftConv::FftConv() : weight_gradient_(make_conv_impl("simd")) {}

template <typename T>
FftConv::Workspace<T>& FftConv::workspace() {
  if constexpr (sizeof(T) == sizeof(float)) return float_workspace_; else return double_workspace_;
}

namespace {
void require_supported(const ConvShape& s) {
  const std::string reason = fft_unsupported(s);
  if (!reason.empty()) throw ConvShapeError(reason);
}

template <typename Work>
void prepare_scratch(Work& work, int threads, Index elements, Index flags) {
  if (work.scratch.size() < std::size_t(threads)) work.scratch.resize(std::size_t(threads));
  if (work.live.size() < std::size_t(threads)) work.live.resize(std::size_t(threads));
  for (int t = 0; t < threads; ++t) {
    work.scratch[std::size_t(t)].resize(std::size_t(elements));
    if (work.live[std::size_t(t)].size() < std::size_t(flags)) work.live[std::size_t(t)].resize(std::size_t(flags));
  }
}

template <typename T>
void ensure_twiddles(Index L, Index& length, std::vector<T>& re, std::vector<T>& im) {
  if (length == L) return;
  build_twiddles(L, re, im);
  length = L;
}
}  // namespace

// The F x C weight spectra (each w[f][c] placed at (0, 0)).
template <typename T>
void FftConv::transform_weights(const ConvShape& s, const T* weights, AlignedBuffer<T>& spectra) {
  Workspace<T>& work = workspace<T>();
  const FftSize size = fft_transform_size(s);
  ensure_twiddles(size.height, work.rows.length, work.rows.re, work.rows.im);
  ensure_twiddles(size.width, work.cols.length, work.cols.re, work.cols.im);
  const Index planes = s.out_channels * s.in_channels, n = size.points();
  const Index kh = s.kernel_height, kw = s.kernel_width;
  spectra.resize(std::size_t(planes * 2 * n));
  const double work_estimate = double(planes) * double(n) * 8.0;
  const int threads = work_estimate < kParallelMinFmas ? 1 : available_threads();
  prepare_scratch(work, threads, 2 * n, std::max(size.height, size.width));
  parallel_for(planes, threads, Schedule::dynamic, [&](Index p, Index thread) {
    forward_plane(weights + p * kh * kw, kh, kw, 0, 0, size, work.rows.re.data(), work.rows.im.data(),
                  work.cols.re.data(), work.cols.im.data(), work.scratch[std::size_t(thread)].data(),
                  work.live[std::size_t(thread)].data(), spectra.data() + p * 2 * n);
  });
}

// forward (input_gradient false: data = x, out = y, bias may be set) or backward_input (data = dy, out = dx)
// of `s`, with the weights' spectra already computed.
template <typename T>
void FftConv::run(const ConvShape& s, bool input_gradient, const T* data, const T* W, const T* bias, T* out) {
  const Geometry g(s, input_gradient);
  Workspace<T>& work = workspace<T>();
  const FftSize size = g.size;
  const Index n = g.points();
  ensure_twiddles(size.height, work.rows.length, work.rows.re, work.rows.im);
  ensure_twiddles(size.width, work.cols.length, work.cols.re, work.cols.im);
  const T* row_twr = work.rows.re.data();
  const T* row_twi = work.rows.im.data();
  const T* col_twr = work.cols.re.data();
  const T* col_twi = work.cols.im.data();
  const int threads = g.fmas() < kParallelMinFmas ? 1 : available_threads();

  // Spectra of the data planes.
  const Index data_planes = g.batch * g.in_planes;
  work.data.resize(std::size_t(data_planes * 2 * n));
  T* D = work.data.data();
  const Index group = std::min(kImageGroup, g.batch);
  prepare_scratch(work, threads, (group * kPlaneBlock + 1) * 2 * n, std::max(size.height, size.width));
  parallel_for(data_planes, threads, Schedule::dynamic, [&](Index p, Index thread) {
    forward_plane(data + p * g.in_h * g.in_w, g.in_h, g.in_w, g.shift_h, g.shift_w, size, row_twr, row_twi, col_twr,
                  col_twi, work.scratch[std::size_t(thread)].data(), work.live[std::size_t(thread)].data(),
                  D + p * 2 * n);
  });

  // Per task, a block of up to kPlaneBlock output planes o for a group of up to kImageGroup images: products
  // summed over the channels k in increasing order, a chunk of frequencies at a time (the chunk's weight and
  // data spectra stay in cache across the block and the group), then one inverse transform per plane. Weight
  // spectrum of output plane o and channel k: forward o = f, k = c, W[f C + c] used conjugated; input
  // gradient o = c, k = f, W[f C + c] as it is. The tasks depend on the layer only.
  const Index C = s.in_channels;
  const Index w_stride_o = input_gradient ? 1 : C, w_stride_k = input_gradient ? C : 1;
  const Index plane_blocks = (g.out_planes + kPlaneBlock - 1) / kPlaneBlock;
  const Index image_groups = (g.batch + kImageGroup - 1) / kImageGroup;
  const int used = int(std::min<Index>(threads, plane_blocks * image_groups));
  parallel_for(plane_blocks * image_groups, used, Schedule::dynamic, [&](Index task, Index thread) {
    const Index o0 = (task % plane_blocks) * kPlaneBlock, count = std::min(kPlaneBlock, g.out_planes - o0);
    const Index n0 = (task / plane_blocks) * kImageGroup, images = std::min(kImageGroup, g.batch - n0);
    // Accumulator of image n0 + m, plane o0 + b: acc + (m kPlaneBlock + b) 2n (real parts), + n (imaginary).
    T* acc = work.scratch[std::size_t(thread)].data();
    const auto plane = [&](Index m, Index b) { return acc + (m * kPlaneBlock + b) * 2 * n; };
    for (Index k0 = 0; k0 < n; k0 += kChunk) {
      const Index len = std::min(kChunk, n - k0);
      for (Index m = 0; m < images; ++m)
        for (Index b = 0; b < count; ++b) {
          std::fill_n(plane(m, b) + k0, len, T(0));
          std::fill_n(plane(m, b) + n + k0, len, T(0));
        }
      for (Index k = 0; k < g.in_planes; ++k)
        for (Index b = 0; b < count; ++b) {
          const T* __restrict wr = W + ((o0 + b) * w_stride_o + k * w_stride_k) * 2 * n + k0;
          const T* __restrict wi = wr + n;
          for (Index m = 0; m < images; ++m) {
            const T* __restrict xr = D + ((n0 + m) * g.in_planes + k) * 2 * n + k0;
            const T* __restrict xi = xr + n;
            T* __restrict ar = plane(m, b) + k0;
            T* __restrict ai = ar + n;
            if (input_gradient) {
#pragma GCC ivdep
              for (Index q = 0; q < len; ++q) {
                ar[q] += wr[q] * xr[q] - wi[q] * xi[q];
                ai[q] += wr[q] * xi[q] + wi[q] * xr[q];
              }
            } else {
#pragma GCC ivdep
              for (Index q = 0; q < len; ++q) {
                ar[q] += wr[q] * xr[q] + wi[q] * xi[q];
                ai[q] += wr[q] * xi[q] - wi[q] * xr[q];
              }
            }
          }
        }
    }
    T* temp = acc + group * kPlaneBlock * 2 * n;
    for (Index m = 0; m < images; ++m)
      for (Index b = 0; b < count; ++b) {
        const Index o = o0 + b;
        inverse_plane(plane(m, b), size, g.out_h, g.out_w, row_twr, row_twi, col_twr, col_twi, temp,
                      bias ? bias + o : nullptr, out + ((n0 + m) * g.out_planes + o) * g.out_h * g.out_w);
      }
  });
}

template <typename T>
void FftConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  require_supported(s);
  Workspace<T>& work = workspace<T>();
  transform_weights(s, weights, work.weights);
  run(s, false, input, work.weights.data(), bias, output);
}

template <typename T>
void FftConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  require_supported(s);
  Workspace<T>& work = workspace<T>();
  transform_weights(s, weights, work.weights);
  run<T>(s, true, output_grad, work.weights.data(), nullptr, input_grad);
}

template <typename T>
void FftConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                     T* bias_grad) {
  weight_gradient_->backward_weights(s, input, output_grad, weight_grad, bias_grad);
}

template <typename T>
void FftConv::prepare_held_typed(const ConvShape& s, const T* weights, const T*) {
  if (!fft_unsupported(s).empty()) return;  // the held calls refuse the layer
  transform_weights(s, weights, workspace<T>().held);
}

template <typename T>
void FftConv::forward_held_typed(const ConvShape& s, const T* input, const T*, const T* bias, T* output) {
  require_supported(s);
  run(s, false, input, workspace<T>().held.data(), bias, output);
}

template <typename T>
void FftConv::backward_input_held_typed(const ConvShape& s, const T* output_grad, const T*, T* input_grad) {
  require_supported(s);
  run<T>(s, true, output_grad, workspace<T>().held.data(), nullptr, input_grad);
}

ConvImpl::HeldPacking FftConv::held_packing(const ConvShape& s) const {
  if (!fft_unsupported(s).empty()) return {};
  return {true, true};
}

std::size_t FftConv::workspace_bytes(const ConvShape& s, std::size_t element_size) const {
  if (!fft_unsupported(s).empty()) return 0;
  const Index n = fft_transform_size(s).points();
  const Index planes = s.batch * std::max(s.in_channels, s.out_channels) + s.in_channels * s.out_channels +
                       Index(available_threads()) * (kPlaneBlock * std::min(kImageGroup, s.batch) + 1);
  return std::size_t(planes * 2 * n) * element_size;
}

template void FftConv::forward_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void FftConv::forward_typed<double>(const ConvShape&, const double*, const double*, const double*, double*);
template void FftConv::backward_input_typed<float>(const ConvShape&, const float*, const float*, float*);
template void FftConv::backward_input_typed<double>(const ConvShape&, const double*, const double*, double*);
template void FftConv::backward_weights_typed<float>(const ConvShape&, const float*, const float*, float*, float*);
template void FftConv::backward_weights_typed<double>(const ConvShape&, const double*, const double*, double*,
                                                      double*);
template void FftConv::prepare_held_typed<float>(const ConvShape&, const float*, const float*);
template void FftConv::prepare_held_typed<double>(const ConvShape&, const double*, const double*);
template void FftConv::forward_held_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void FftConv::forward_held_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                                  double*);
template void FftConv::backward_input_held_typed<float>(const ConvShape&, const float*, const float*, float*);
template void FftConv::backward_input_held_typed<double>(const ConvShape&, const double*, const double*, double*);

ConvImplInfo fft_conv_info() {
  return {.name = "fft",
          .summary = "FFT convolution: pointwise products of 2-D radix-2 spectra, for large windows (stride 1 only)",
          .build_flags = CONVLAB_IMPL_BUILD_FLAGS,
          .uses_threads = true,
          .make = [] { return std::make_unique<FftConv>(); },
          .unsupported = [](const ConvShape& s, ConvPass pass) {
            return pass == ConvPass::backward_weights ? std::string() : fft_unsupported(s);
          },
          .delegates = "weight gradient: simd's direct kernels",
          .delegated_passes = {ConvPass::backward_weights},
          .direct_sums = false,
          .error_bound = {.kind = ConvErrorBoundKind::fft_plane}};
}

}  // namespace convlab
