// im2col convolution: strided windows view -> per-thread column bands -> shared gemm (see im2col_conv.hpp).
#include "impls/im2col/im2col_conv.hpp"

#include <omp.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <memory>

#include "common/conv/conv_registry.hpp"
#include "common/kernels/bias_gradient.hpp"
#include "common/kernels/gemm.hpp"
#include "common/kernels/transpose_16x16.hpp"
#include "common/machine/parallel_for.hpp"

namespace convlab {

namespace {

// The column buffer of one band (K rows x band pixels) is sized to stay in L2 next to the gemm's block of
// weights; a band keeps at least kMinBandPixels (two of the gemm's 48-wide panels) even when K is large, and
// its row stride stays below a page so that the gemm reads it in place instead of packing it.
constexpr std::size_t kColumnBytes = std::size_t(384) << 10;
constexpr Index kMinBandPixels = 96;
// Bands of several small images aim for at least kWideBandPixels (so the gemm's edge columns are a small
// share), as long as their columns stay within kMaxColumnBytes (L2) -- or within kMaxColumnBytesLargeWeights
// when the weights (F x K) are larger than L2 themselves: then every band streams the weights (and the
// weight gradient's partial sums) from L3, and a wider band is what amortises that.
constexpr Index kWideBandPixels = 384;
constexpr std::size_t kMaxColumnBytes = std::size_t(1) << 20;
constexpr std::size_t kMaxColumnBytesLargeWeights = std::size_t(8) << 20;
// Calls with fewer multiply-adds than this run on the calling thread (as in the gemm), and an image is
// split into two bands for two threads only above it.
constexpr double kParallelMinFmas = double(1 << 20);
constexpr std::size_t kPageBytes = 4096;
// Weight-gradient partial sums: at most this many fixed chunks of the (image, band) units; one when a
// partial (F x K) is large (adding it up would be a pass through memory).
// Held weights keep W^T for the input gradient; the benchmarks time that held call separately from this size on
// (below it the transposition is a few microseconds of a call).
constexpr std::size_t kHeldTransposeBytes = std::size_t(1) << 20;
constexpr Index kWeightGradChunks = 4;
constexpr std::size_t kLargePartialBytes = std::size_t(4) << 20;
// The weight gradient by channel groups: each group's columns over a whole image aim for kColumnBytes; a
// channel whose columns alone exceed kMaxColumnBytes, or fewer groups than kMinWeightGradGroups (too few to
// share evenly between threads), keep the bands.
constexpr Index kMinWeightGradGroups = 4;

// Threads the gemm may split one product between (0: all): only a large product's. Its columns (or its
// output-gradient band) were just written on this thread, and another core would first have to fetch them
// from this one's cache: on a product of a few million multiply-adds that took longer than the product.
constexpr double kSplitProductFmas = double(8 << 20);
int product_threads(Index m, Index n, Index k) { return double(m) * double(n) * double(k) >= kSplitProductFmas ? 0 : 1; }

// Threads for a call: none beyond the caller's for small calls (a fork/join would cost more than it saves).
int threads_for(const Im2colGeometry& g, Index work_items) {
  if (g.fmas() < kParallelMinFmas) return 1;
  return int(std::clamp<Index>(work_items, 1, available_threads()));
}

// The windows view's runs (n, oy, ox = 0.., c, ky, kx) of one image read input element
// [c][oy*sh + ky - ph][ox*sw + kx - pw]. Along ox, which elements fall inside the image depends only on kx:
// ox in [begin, end) (the rest is padding); along oy, only on oy and ky. Computed once per tap, not per run.
struct TapColumns {
  Index ix0;         // input column of ox = 0 (may be negative)
  Index begin, end;  // valid ox range
};

Index ceil_div(Index a, Index b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

TapColumns tap_columns(const Im2colGeometry& g, Index kx) {
  TapColumns t;
  t.ix0 = kx - g.pad_w;
  // ox*sw + ix0 in [0, W)  <=>  ox in [ceil(-ix0 / sw), ceil((W - ix0) / sw))
  t.begin = std::clamp<Index>(ceil_div(-t.ix0, g.stride_w), 0, g.out_w);
  t.end = std::clamp<Index>(ceil_div(g.in_w - t.ix0, g.stride_w), t.begin, g.out_w);
  return t;
}

// The runs are short (an output row, often 10-60 elements), so stride-1 runs are moved a full vector at a time
// with a masked last vector instead of a vector loop with a scalar remainder. Float runs at stride 2 or 3 take
// 16 elements at a time out of (or, added, into) the 2 or 3 vectors that span them (masked loads: nothing past
// the run is read) by permutes; other strided runs are gathered (scattered) by a scalar loop.
#ifdef __AVX512F__
inline __mmask16 tail_mask(float, Index count) { return __mmask16((1u << count) - 1u); }  // count <= 16
inline __mmask8 tail_mask(double, Index count) { return __mmask8((1u << count) - 1u); }   // count <= 8
inline __m512 masked_load(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512d masked_load(const double* p, __mmask8 m) { return _mm512_maskz_loadu_pd(m, p); }
inline void masked_store(float* p, __mmask16 m, __m512 v) { _mm512_mask_storeu_ps(p, m, v); }
inline void masked_store(double* p, __mmask8 m, __m512d v) { _mm512_mask_storeu_pd(p, m, v); }
inline __m512 add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
inline __m512d add(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
#endif

#ifdef __AVX512F__
// The span [0, n) of a run as masked loads of vector v (elements 16 v .. 16 v + 15): the lanes below n.
inline __mmask16 span_mask(Index n, Index v) {
  const Index lanes = std::clamp<Index>(n - 16 * v, 0, 16);
  return lanes >= 16 ? __mmask16(0xFFFF) : tail_mask(float(), lanes);
}

// A last group of a strided run shorter than this (the 17th element of a 17-wide output row) is copied or added
// one by one: cheaper than its loads and permutes.
constexpr Index kMinPermutedRun = 4;
// A group of 16 elements of a stride-S run (S = 2 or 3) and the 2 or 3 vectors its span covers: element l sits at
// span position S l, lane S l % 16 of vector S l / 16. Both directions' permute indices come from that:
// - gathering (copy_strided_run): `first` picks lane S l of the vector pair (v0, v1) while S l < 32 (0, a
//   placeholder, beyond); at stride 3 `second` keeps lanes 0..10 of that result and brings elements 11..15 in
//   from v2 (index 16 + lane selects a two-source permute's second source);
// - scattering (add_strided_run): in vector v, lane p % 16 receives element p / S for every span position p = 16 v
//   + lane that S divides (`element`, those lanes in `lanes`).
template <int S>
struct StridedGroup {
  int first[16] = {};
  int second[16] = {};
  int element[S][16] = {};
  unsigned short lanes[S] = {};
  constexpr StridedGroup() {
    for (int l = 0; l < 16; ++l) {
      const int p = S * l, v = p / 16, lane = p % 16;
      first[l] = p < 32 ? p : 0;
      second[l] = p < 32 ? l : 16 + (p - 32);
      element[v][lane] = l;
      lanes[v] = static_cast<unsigned short>(lanes[v] | (1u << lane));
    }
  }
};

// dst[i] = src[i * S] for i < count, S = 2 or 3, 16 at a time.
template <int S>
inline void copy_strided_run(const float* __restrict src, float* __restrict dst, Index count) {
  alignas(64) static constexpr StridedGroup<S> kGroup{};
  const __m512i first = _mm512_load_si512(kGroup.first), second = _mm512_load_si512(kGroup.second);
  Index i = 0;
  for (; count - i >= kMinPermutedRun; i += 16) {
    const Index n = std::min<Index>(16, count - i), span = S * (n - 1) + 1;
    const float* from = src + i * S;
    const __m512 v0 = _mm512_maskz_loadu_ps(span_mask(span, 0), from);
    const __m512 v1 = _mm512_maskz_loadu_ps(span_mask(span, 1), from + 16);
    __m512 picked = _mm512_permutex2var_ps(v0, first, v1);
    if constexpr (S == 3) {
      const __m512 v2 = _mm512_maskz_loadu_ps(span_mask(span, 2), from + 32);
      picked = _mm512_permutex2var_ps(picked, second, v2);
    }
    _mm512_mask_storeu_ps(dst + i, tail_mask(float(), n), picked);
  }
  for (; i < count; ++i) dst[i] = src[i * S];
}
#endif

template <typename T>
inline void copy_run(const T* __restrict src, Index stride, T* __restrict dst, Index count) {
#ifdef __AVX512F__
  constexpr Index L = 64 / Index(sizeof(T));
  const auto full = tail_mask(T(), L - 1) | decltype(tail_mask(T(), 1))(decltype(tail_mask(T(), 1))(1) << (L - 1));
  if (stride == 1) {
    for (Index i = 0; i < count; i += L) {
      const auto m = count - i >= L ? full : tail_mask(T(), count - i);
      masked_store(dst + i, m, masked_load(src + i, m));
    }
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (stride == 2) return copy_strided_run<2>(src, dst, count);
    if (stride == 3) return copy_strided_run<3>(src, dst, count);
  }
  for (Index i = 0; i < count; ++i) dst[i] = src[i * stride];
#else
  for (Index i = 0; i < count; ++i) dst[i] = src[i * stride];
#endif
}

// Zeros for the padding part of a run (usually 0-2 elements: inline masked stores, not a memset call).
template <typename T>
inline void zero_run(T* dst, Index count) {
#ifdef __AVX512F__
  constexpr Index L = 64 / Index(sizeof(T));
  for (Index i = 0; i < count; i += L) {
    const auto m = tail_mask(T(), std::min(L, count - i));
    if constexpr (std::is_same_v<T, float>) {
      masked_store(dst + i, m, _mm512_setzero_ps());
    } else {
      masked_store(dst + i, m, _mm512_setzero_pd());
    }
  }
#else
  for (Index i = 0; i < count; ++i) dst[i] = T(0);
#endif
}

#ifdef __AVX512F__
// dst[i * S] += src[i] for i < count, S = 2 or 3, 16 at a time: each group's elements spread to their lanes by
// a permute, added onto the vectors of the span at those lanes only (one addition per element, as one by one).
template <int S>
inline void add_strided_run(const float* __restrict src, float* __restrict dst, Index count) {
  alignas(64) static constexpr StridedGroup<S> kGroup{};
  Index i = 0;
  for (; count - i >= kMinPermutedRun; i += 16) {
    const Index n = std::min<Index>(16, count - i), span = S * (n - 1) + 1;
    const __m512 group = _mm512_maskz_loadu_ps(tail_mask(float(), n), src + i);
    float* to = dst + i * S;
#pragma GCC unroll 3
    for (int v = 0; v < S; ++v) {
      const __mmask16 m = __mmask16(kGroup.lanes[v] & span_mask(span, v));
      const __m512 spread = _mm512_maskz_permutexvar_ps(m, _mm512_load_si512(kGroup.element[v]), group);
      const __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(m, to + 16 * v), spread);
      _mm512_mask_storeu_ps(to + 16 * v, m, sum);
    }
  }
  for (; i < count; ++i) dst[i * S] += src[i];
}
#endif

template <typename T>
inline void add_run(const T* __restrict src, T* __restrict dst, Index stride, Index count) {
#ifdef __AVX512F__
  if constexpr (std::is_same_v<T, float>) {
    if (stride == 2) return add_strided_run<2>(src, dst, count);
    if (stride == 3) return add_strided_run<3>(src, dst, count);
  }
  if (stride == 1) {
    constexpr Index L = 64 / Index(sizeof(T));
    const auto full = tail_mask(T(), L - 1) | decltype(tail_mask(T(), 1))(decltype(tail_mask(T(), 1))(1) << (L - 1));
    for (Index i = 0; i < count; i += L) {
      const auto m = count - i >= L ? full : tail_mask(T(), count - i);
      masked_store(dst + i, m, add(masked_load(dst + i, m), masked_load(src + i, m)));
    }
    return;
  }
#endif
  for (Index i = 0; i < count; ++i) dst[i * stride] += src[i];
}

// The input rows [iy_first, iy_last) of one channel plane that a band reads (rows no window reaches, as with a
// stride larger than the window, skipped): requested one channel ahead, since a large image's planes come
// from memory and the row copies alone keep too few misses in flight.
template <typename T>
inline void prefetch_rows(const Im2colGeometry& g, const T* plane, Index iy_first, Index iy_last) {
  constexpr Index kLine = 64 / Index(sizeof(T));
  for (Index iy = iy_first; iy < iy_last; ++iy) {
    if (g.stride_h > g.kernel_h && (iy + g.pad_h) % g.stride_h >= g.kernel_h) continue;
    const T* line = plane + iy * g.in_w;
    for (Index x = 0; x < g.in_w; x += kLine) __builtin_prefetch(line + x);
  }
}

// im2col of one band: cols[(c*kh + ky)*kw + kx][(oy - oy0)*ow + ox] = window element, for channels
// [c_begin, c_end) (rows counted from c_begin) and output rows [oy0, oy1). Each (row, oy) is one run of the
// windows view: a copy of a contiguous input run for stride 1, a strided gather otherwise, zeros for padding.
template <typename T>
void fill_columns(const Im2colGeometry& g, const T* image, Index c_begin, Index c_end, Index oy0, Index oy1,
                  T* cols, Index ldcols) {
  T* row = cols;
  const Index ow = g.out_w, sw = g.stride_w;
  const Index iy_first = std::max<Index>(0, oy0 * g.stride_h - g.pad_h);
  const Index iy_last = std::min<Index>(g.in_h, (oy1 - 1) * g.stride_h + g.kernel_h - g.pad_h);
  for (Index c = c_begin; c < c_end; ++c) {
    const T* plane = image + c * g.in_h * g.in_w;
    if (c + 1 < c_end) prefetch_rows(g, plane + g.in_h * g.in_w, iy_first, iy_last);
    for (Index ky = 0; ky < g.kernel_h; ++ky)
      for (Index kx = 0; kx < g.kernel_w; ++kx, row += ldcols) {
        const TapColumns t = tap_columns(g, kx);
        const Index count = t.end - t.begin;
        T* dst = row;
        for (Index oy = oy0; oy < oy1; ++oy, dst += ow) {
          const Index iy = oy * g.stride_h + ky - g.pad_h;
          if (iy < 0 || iy >= g.in_h || count <= 0) {
            zero_run(dst, ow);
            continue;
          }
          zero_run(dst, t.begin);
          const T* src = plane + iy * g.in_w + t.ix0 + t.begin * sw;
          copy_run(src, sw, dst + t.begin, count);
          zero_run(dst + t.end, ow - t.end);
        }
      }
  }
}

// col2im of one band, the adjoint of fill_columns: each column element is added onto the input pixel it was
// read from (padding positions are dropped); in row order, then output-row order.
// Input rows [zero_begin, zero_end) of each channel are zeroed first (the rows no earlier band reached), so
// that a large image's gradient is cleared band by band while its lines are about to be used.
template <typename T>
void scatter_columns(const Im2colGeometry& g, const T* cols, Index ldcols, Index c_begin, Index c_end, Index oy0,
                     Index oy1, T* image_grad, Index zero_begin, Index zero_end) {
  const T* row = cols;
  const Index ow = g.out_w, sw = g.stride_w;
  for (Index c = c_begin; c < c_end; ++c) {
    T* plane = image_grad + c * g.in_h * g.in_w;
    if (zero_end > zero_begin) std::fill(plane + zero_begin * g.in_w, plane + zero_end * g.in_w, T(0));
    for (Index ky = 0; ky < g.kernel_h; ++ky)
      for (Index kx = 0; kx < g.kernel_w; ++kx, row += ldcols) {
        const TapColumns t = tap_columns(g, kx);
        const Index count = t.end - t.begin;
        if (count <= 0) continue;
        const T* src = row + t.begin;
        for (Index oy = oy0; oy < oy1; ++oy, src += ow) {
          const Index iy = oy * g.stride_h + ky - g.pad_h;
          if (iy < 0 || iy >= g.in_h) continue;
          T* __restrict dst = plane + iy * g.in_w + t.ix0 + t.begin * sw;
          add_run(src, dst, sw, count);
        }
      }
  }
}

}  // namespace

Im2colGeometry::Im2colGeometry(const ConvShape& s, std::size_t element_size, Index band_pixels_limit)
    : channels(s.in_channels), in_h(s.in_height), in_w(s.in_width), filters(s.out_channels),
      kernel_h(s.kernel_height), kernel_w(s.kernel_width), stride_h(s.stride_height), stride_w(s.stride_width),
      pad_h(s.pad_height), pad_w(s.pad_width), out_h(s.out_height()), out_w(s.out_width()),
      out_pixels(out_h * out_w), patch_length(s.reduction_length()), batch(s.batch) {
  // Band: whole output rows, as many as keep K x band within kColumnBytes (at least kMinBandPixels), with a
  // row stride below a page when K is deeper than the gemm's in-place limit; then evened out over the image.
  const Index element = Index(element_size);
  Index target = std::max<Index>(Index(kColumnBytes) / (std::max<Index>(patch_length, 1) * element), kMinBandPixels);
  if (patch_length > 64) target = std::min<Index>(target, Index(kPageBytes) / element - 16);
  if (band_pixels_limit > 0) target = std::min(target, band_pixels_limit);
  Index rows = std::clamp<Index>(target / std::max<Index>(out_w, 1), 1, std::max<Index>(out_h, 1));
  // Batch 1: two bands for two threads, if the image is worth it and the bands stay wide enough.
  if (s.batch == 1 && out_h > 1 && fmas() >= kParallelMinFmas && (out_h / 2) * out_w >= kMinBandPixels) {
    rows = std::min(rows, (out_h + 1) / 2);
  }
  bands = (out_h + rows - 1) / rows;
  band_rows = (out_h + bands - 1) / bands;
  bands = (out_h + band_rows - 1) / band_rows;
  // Whole small images per band (rounded to the nearest count), leaving at least two units for two threads.
  if (bands == 1 && batch > 1 && out_pixels > 0) {
    Index images = std::max<Index>({1, (target + out_pixels / 2) / out_pixels,
                                    (kWideBandPixels + out_pixels - 1) / out_pixels});
    const bool large_weights = std::size_t(filters * patch_length * element) > kMaxColumnBytes;
    const Index max_bytes = Index(large_weights ? kMaxColumnBytesLargeWeights : kMaxColumnBytes);
    images = std::min(images, std::max<Index>(1, max_bytes / (patch_length * element * out_pixels)));
    if (patch_length > 64) images = std::min(images, std::max<Index>(1, (Index(kPageBytes) / element - 16) / out_pixels));
    images_per_band = std::clamp<Index>(images, 1, (batch + 1) / 2);
  }
  // Padded to whole cache lines, and off multiples of 4 KiB so the gemm's rows do not share L1 sets.
  const Index line = 64 / element;
  const auto padded_stride = [&](Index pixels) {
    Index stride = (pixels + line - 1) / line * line;
    if ((stride * element) % Index(kPageBytes) == 0) stride += line;
    return stride;
  };
  column_stride = padded_stride(band_rows * out_w * images_per_band);
  // Banded, the weight gradient's product would add every band's share of all F x K sums into them (reading and
  // writing them once per band, megabytes on a deep layer) over a short depth of one band's pixels. A group of
  // channels over the whole image writes its F x (its taps) sums once per image, at the image's full depth.
  const Index channel_bytes = kernel_h * kernel_w * out_pixels * element;
  if (bands > 1 && channel_bytes > 0 && std::size_t(channel_bytes) <= kMaxColumnBytes) {
    const Index per_group = std::max<Index>(1, Index(kColumnBytes) / channel_bytes);
    const Index groups = (channels + per_group - 1) / per_group;
    if (groups >= kMinWeightGradGroups) {
      group_channels = (channels + groups - 1) / groups;
      weight_grad_groups = (channels + group_channels - 1) / group_channels;
      group_column_stride = padded_stride(out_pixels);
    }
  }
}

Index Im2colGeometry::weight_grad_chunks(std::size_t element_size) const {
  // A large partial would cost a pass through memory to add up: then one chunk, and the gemm
  // splits the (large) product between the threads itself.
  const bool large = std::size_t(filters * patch_length) * element_size > kLargePartialBytes;
  return large ? 1 : std::clamp<Index>(units(), 1, kWeightGradChunks);
}

std::size_t Im2colConv::workspace_bytes(const ConvShape& s, std::size_t element_size) const {
  s.validate();
  const Im2colGeometry g(s, element_size, band_pixels_limit_);
  const std::size_t outputs = g.images_per_band > 1 ? std::size_t(g.filters * g.column_stride) : 0;
  const std::size_t columns = (std::size_t(g.column_elements()) + outputs) * std::size_t(available_threads());
  const std::size_t transposed = std::size_t(g.patch_length * g.filters);
  const std::size_t partials =
      std::size_t(g.weight_grad_chunks(element_size) - 1) * std::size_t(g.filters * g.patch_length);
  return (columns + std::max(transposed, partials)) * element_size;
}

template <typename T>
Im2colConv::Workspace<T>& Im2colConv::workspace() {
  if constexpr (std::is_same_v<T, float>) {
    return float_workspace_;
  } else {
    return double_workspace_;
  }
}

template <typename T>
void Im2colConv::columns_for_thread(Workspace<T>& work, const Im2colGeometry& g, int threads) {
  const std::size_t per_thread = std::size_t(g.column_elements());
  if (work.columns.size() < std::size_t(threads)) work.columns.resize(std::size_t(threads));
  if (work.outputs.size() < std::size_t(threads)) work.outputs.resize(std::size_t(threads));
  for (int t = 0; t < threads; ++t) {
    work.columns[std::size_t(t)].resize(per_thread);
    if (g.images_per_band > 1) work.outputs[std::size_t(t)].resize(std::size_t(g.filters * g.column_stride));
  }
}

template <typename T>
void Im2colConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  const Im2colGeometry g(s, sizeof(T), band_pixels_limit_);
  Workspace<T>& work = workspace<T>();
  const Index units = g.units();
  const int threads = threads_for(g, units);
  columns_for_thread(work, g, std::max(threads, 1));
  const Index image_size = g.channels * g.in_h * g.in_w, out_size = g.filters * g.out_pixels;
  parallel_for(units, threads, Schedule::even, [&](Index u, Index thread) {
    const Im2colGeometry::Unit unit = g.unit(u);
    const Index p0 = unit.oy0 * g.out_w, pixels = (unit.oy1 - unit.oy0) * g.out_w;
    T* cols = work.columns[std::size_t(thread)].data();
    for (Index i = 0; i < unit.images; ++i) {
      fill_columns(g, input + (unit.first_image + i) * image_size, 0, g.channels, unit.oy0, unit.oy1,
                   cols + i * pixels, g.column_stride);
    }
    if (unit.images == 1) {
      T* y = output + unit.first_image * out_size + p0;
      gemm(Transpose::No, Transpose::No, g.filters, pixels, g.patch_length, T(1), weights, g.patch_length, cols,
           g.column_stride, T(0), y, g.out_pixels, product_threads(g.filters, pixels, g.patch_length));
      if (!bias) return;
      for (Index f = 0; f < g.filters; ++f) {
        T* row = y + f * g.out_pixels;
        for (Index p = 0; p < pixels; ++p) row[p] += bias[f];
      }
      return;
    }
    // Several whole images: the product goes to the thread's F x band buffer, then to each image's output.
    T* band_out = work.outputs[std::size_t(thread)].data();
    gemm(Transpose::No, Transpose::No, g.filters, pixels * unit.images, g.patch_length, T(1), weights,
         g.patch_length, cols, g.column_stride, T(0), band_out, g.column_stride,
         product_threads(g.filters, pixels * unit.images, g.patch_length));
    for (Index i = 0; i < unit.images; ++i)
      for (Index f = 0; f < g.filters; ++f) {
        const T* from = band_out + f * g.column_stride + i * pixels;
        T* row = output + (unit.first_image + i) * out_size + f * g.out_pixels;
        if (bias) {
          for (Index p = 0; p < pixels; ++p) row[p] = from[p] + bias[f];
        } else {
          std::copy_n(from, pixels, row);
        }
      }
  });
}

namespace {
// wt = W^T: wt[k * F + f] = weights[f * K + k]. Megabytes on a deep layer (res5a_branch2b: 9.4 MB each way),
// which on the calling thread alone took about half of that layer's input gradient at batch 1: the threads share
// it by blocks of 16 rows of wt, each block read as 16-float pieces of every filter's row (whole cache lines)
// and written whole (AVX-512 floats: 16 x 16 blocks transposed in registers).
template <typename T>
void transpose_weights(const T* weights, Index filters, Index taps, T* wt, int threads) {
  constexpr Index kBlock = 16;
  const Index blocks = (taps + kBlock - 1) / kBlock;
  const bool parallel = filters * taps >= (Index(1) << 16);
  parallel_for(blocks, parallel ? threads : 1, Schedule::even, [&](Index block, Index) {
    const Index k0 = block * kBlock, k1 = std::min(taps, k0 + kBlock);
#ifdef __AVX512F__
    if constexpr (std::is_same_v<T, float>) {
      for (Index f0 = 0; f0 < filters; f0 += kBlock)
        transpose_float_block(weights + f0 * taps + k0, taps, std::min(kBlock, filters - f0), k1 - k0,
                              wt + k0 * filters + f0, filters);
      return;
    }
#endif
    for (Index f0 = 0; f0 < filters; f0 += kBlock)
      for (Index k = k0; k < k1; ++k)
        for (Index f = f0; f < std::min(filters, f0 + kBlock); ++f) wt[k * filters + f] = weights[f * taps + k];
  });
}
}  // namespace

template <typename T>
void Im2colConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  const Im2colGeometry g(s, sizeof(T), band_pixels_limit_);
  Workspace<T>& work = workspace<T>();
  // W^T (K x F), so that each band's product reads both operands along their rows.
  work.transposed.resize(std::size_t(g.patch_length * g.filters));
  transpose_weights(weights, g.filters, g.patch_length, work.transposed.data(), threads_for(g, available_threads()));
  backward_input_from_transposed(g, output_grad, work.transposed.data(), input_grad);
}

template <typename T>
void Im2colConv::prepare_held_typed(const ConvShape&, const T*, const T*) {
  held_transposed<T>().resize(0);  // made again at the first held input gradient of these weights
}

template <typename T>
void Im2colConv::backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  const Im2colGeometry g(s, sizeof(T), band_pixels_limit_);
  AlignedBuffer<T>& wt = held_transposed<T>();
  if (wt.empty()) {
    wt.resize(std::size_t(g.patch_length * g.filters));
    transpose_weights(weights, g.filters, g.patch_length, wt.data(), threads_for(g, available_threads()));
  }
  backward_input_from_transposed(g, output_grad, wt.data(), input_grad);
}

ConvImpl::HeldPacking Im2colConv::held_packing(const ConvShape& s) const {
  return {.forward = false,
          .backward_input = std::size_t(s.weight_size()) * sizeof(float) >= kHeldTransposeBytes};
}

template <typename T>
void Im2colConv::backward_input_from_transposed(const Im2colGeometry& g, const T* output_grad, const T* wt,
                                                T* input_grad) {
  Workspace<T>& work = workspace<T>();
  const Index kk = g.kernel_h * g.kernel_w;
  const Index image_size = g.channels * g.in_h * g.in_w, out_size = g.filters * g.out_pixels;
  const int max = threads_for(g, available_threads());
  if (g.images_per_band > 1) {
    // Bands of whole images: dy of the band's images gathered into the thread's F x band buffer, one product,
    // then col2im image by image. With weights too large for L2, one unit at a time, the gemm splitting W^T's
    // rows between the threads (each thread then streams half of W^T, not all of it).
    const Index units = g.units();
    const bool large_weights = std::size_t(g.filters * g.patch_length) * sizeof(T) > kLargePartialBytes;
    const int threads = large_weights ? 1 : int(std::min<Index>(max, units));
    columns_for_thread(work, g, std::max(threads, 1));
    parallel_for(units, threads, Schedule::even, [&](Index u, Index thread) {
      const Im2colGeometry::Unit unit = g.unit(u);
      T* cols = work.columns[std::size_t(thread)].data();
      T* band_dy = work.outputs[std::size_t(thread)].data();
      for (Index i = 0; i < unit.images; ++i)
        for (Index f = 0; f < g.filters; ++f) {
          std::copy_n(output_grad + (unit.first_image + i) * out_size + f * g.out_pixels, g.out_pixels,
                      band_dy + f * g.column_stride + i * g.out_pixels);
        }
      gemm(Transpose::No, Transpose::No, g.patch_length, g.out_pixels * unit.images, g.filters, T(1), wt, g.filters,
           band_dy, g.column_stride, T(0), cols, g.column_stride,
           product_threads(g.patch_length, g.out_pixels * unit.images, g.filters));
      for (Index i = 0; i < unit.images; ++i) {
        T* dx = input_grad + (unit.first_image + i) * image_size;
        scatter_columns(g, cols + i * g.out_pixels, g.column_stride, 0, g.channels, 0, g.out_h, dx, 0, g.in_h);
      }
    });
    return;
  }
  // Work items: images, each split into channel groups when there are fewer images than threads (a group's
  // rows of the column gradient scatter only onto its own channels, so no two items write the same pixel).
  const Index groups = g.batch >= max ? 1 : std::min<Index>(g.channels, (max + g.batch - 1) / g.batch);
  const Index units = g.batch * groups;
  const int threads = int(std::min<Index>(max, units));
  columns_for_thread(work, g, std::max(threads, 1));
  parallel_for(units, threads, Schedule::even, [&](Index unit, Index thread) {
    const Index n = unit / groups, group = unit % groups;
    const Index c_begin = g.channels * group / groups, c_end = g.channels * (group + 1) / groups;
    T* cols = work.columns[std::size_t(thread)].data();
    T* dx = input_grad + n * image_size;
    Index zeroed = 0;  // input rows [0, zeroed) of the group's channels are cleared
    for (Index band = 0; band < g.bands; ++band) {
      const Index oy0 = band * g.band_rows, oy1 = std::min(g.out_h, oy0 + g.band_rows);
      const Index p0 = oy0 * g.out_w, pixels = (oy1 - oy0) * g.out_w;
      gemm(Transpose::No, Transpose::No, (c_end - c_begin) * kk, pixels, g.filters, T(1), wt + c_begin * kk * g.filters,
           g.filters, output_grad + n * out_size + p0, g.out_pixels, T(0), cols, g.column_stride,
           product_threads((c_end - c_begin) * kk, pixels, g.filters));
      const Index reach = band + 1 == g.bands
                              ? g.in_h
                              : std::clamp<Index>((oy1 - 1) * g.stride_h + g.kernel_h - g.pad_h, zeroed, g.in_h);
      scatter_columns(g, cols, g.column_stride, c_begin, c_end, oy0, oy1, dx, zeroed, reach);
      zeroed = reach;
    }
  });
}

template <typename T>
void Im2colConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                        T* bias_grad) {
  const Im2colGeometry g(s, sizeof(T), band_pixels_limit_);
  Workspace<T>& work = workspace<T>();
  if (g.weight_grad_groups > 1) weight_grad_by_groups(work, g, input, output_grad, weight_grad);
  else weight_grad_by_bands(work, g, input, output_grad, weight_grad);
  if (bias_grad) bias_gradient_in_naive_order(s, output_grad, bias_grad, threads_for(g, available_threads()));
}

template <typename T>
void Im2colConv::weight_grad_by_bands(Workspace<T>& work, const Im2colGeometry& g, const T* input,
                                      const T* output_grad, T* weight_grad) {
  const Index units = g.units();
  const Index chunks = g.weight_grad_chunks(sizeof(T));
  const Index partial_size = g.filters * g.patch_length;
  work.transposed.resize(std::size_t((chunks - 1) * partial_size));
  const int threads = threads_for(g, chunks);
  columns_for_thread(work, g, std::max(threads, 1));
  const Index image_size = g.channels * g.in_h * g.in_w, out_size = g.filters * g.out_pixels;
  // Chunk k sums the units [units*k/chunks, units*(k+1)/chunks) in order into its own partial (chunk 0
  // straight into weight_grad); the partials are then added in chunk order. Neither depends on the thread
  // count.
  parallel_for(chunks, threads, Schedule::even, [&](Index chunk, Index thread) {
    T* partial = chunk == 0 ? weight_grad : work.transposed.data() + (chunk - 1) * partial_size;
    T* cols = work.columns[std::size_t(thread)].data();
    const Index first = units * chunk / chunks, last = units * (chunk + 1) / chunks;
    for (Index u = first; u < last; ++u) {
      const Im2colGeometry::Unit unit = g.unit(u);
      const Index p0 = unit.oy0 * g.out_w, pixels = (unit.oy1 - unit.oy0) * g.out_w;
      for (Index i = 0; i < unit.images; ++i) {
        fill_columns(g, input + (unit.first_image + i) * image_size, 0, g.channels, unit.oy0, unit.oy1,
                     cols + i * pixels, g.column_stride);
      }
      const T* dy = output_grad + unit.first_image * out_size + p0;
      Index ld_dy = g.out_pixels;
      if (unit.images > 1) {  // the band's images' dy side by side in the thread's F x band buffer
        T* band_dy = work.outputs[std::size_t(thread)].data();
        for (Index i = 0; i < unit.images; ++i)
          for (Index f = 0; f < g.filters; ++f) {
            std::copy_n(output_grad + (unit.first_image + i) * out_size + f * g.out_pixels, g.out_pixels,
                        band_dy + f * g.column_stride + i * g.out_pixels);
          }
        dy = band_dy;
        ld_dy = g.column_stride;
      }
      gemm(Transpose::No, Transpose::Yes, g.filters, g.patch_length, pixels * unit.images, T(1), dy, ld_dy, cols,
           g.column_stride, u == first ? T(0) : T(1), partial, g.patch_length,
           product_threads(g.filters, g.patch_length, pixels * unit.images));
    }
  });
  if (chunks > 1) {
    const T* partials = work.transposed.data();
    const int add_threads = partial_size >= (Index(1) << 16) ? available_threads() : 1;
    parallel_for(partial_size, add_threads, Schedule::even, [&](Index i, Index) {
      T sum = weight_grad[i];
      for (Index k = 1; k < chunks; ++k) sum += partials[(k - 1) * partial_size + i];
      weight_grad[i] = sum;
    });
  }
}

template <typename T>
void Im2colConv::weight_grad_by_groups(Workspace<T>& work, const Im2colGeometry& g, const T* input,
                                       const T* output_grad, T* weight_grad) {
  // Each group of channels is one thread's from the first image to the last: its F x (its taps) block of the
  // weight gradient sums the images in order, each image's product at its full depth, and no two threads
  // write the same sum (so no partials, and nothing depends on the thread count).
  const Index kk = g.kernel_h * g.kernel_w;
  const Index image_size = g.channels * g.in_h * g.in_w, out_size = g.filters * g.out_pixels;
  const int threads = threads_for(g, g.weight_grad_groups);
  columns_for_thread(work, g, std::max(threads, 1));
  parallel_for(g.weight_grad_groups, threads, Schedule::dynamic, [&](Index group, Index thread) {
    const Index c0 = group * g.group_channels, c1 = std::min(g.channels, c0 + g.group_channels);
    T* cols = work.columns[std::size_t(thread)].data();
    for (Index n = 0; n < g.batch; ++n) {
      fill_columns(g, input + n * image_size, c0, c1, 0, g.out_h, cols, g.group_column_stride);
      gemm(Transpose::No, Transpose::Yes, g.filters, (c1 - c0) * kk, g.out_pixels, T(1), output_grad + n * out_size,
           g.out_pixels, cols, g.group_column_stride, n == 0 ? T(0) : T(1), weight_grad + c0 * kk, g.patch_length,
           threads > 1 ? 1 : product_threads(g.filters, (c1 - c0) * kk, g.out_pixels));
    }
  });
}


template void Im2colConv::forward_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void Im2colConv::forward_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                                double*);
template void Im2colConv::backward_input_typed<float>(const ConvShape&, const float*, const float*, float*);
template void Im2colConv::backward_input_typed<double>(const ConvShape&, const double*, const double*, double*);
template void Im2colConv::prepare_held_typed<float>(const ConvShape&, const float*, const float*);
template void Im2colConv::prepare_held_typed<double>(const ConvShape&, const double*, const double*);
template void Im2colConv::backward_input_held_typed<float>(const ConvShape&, const float*, const float*, float*);
template void Im2colConv::backward_input_held_typed<double>(const ConvShape&, const double*, const double*,
                                                            double*);
template void Im2colConv::backward_weights_typed<float>(const ConvShape&, const float*, const float*, float*,
                                                        float*);
template void Im2colConv::backward_weights_typed<double>(const ConvShape&, const double*, const double*, double*,
                                                         double*);

ConvImplInfo im2col_conv_info() {
  return {.name = "im2col",
          .summary = "lecture's method: strided windows view copied to per-thread column bands, one gemm per band",
          .build_flags = CONVLAB_IMPL_BUILD_FLAGS,
          .uses_threads = true,
          .make = [] { return std::make_unique<Im2colConv>(); },
          .reference_order = {.bias_gradient = true}};
}

}  // namespace convlab
