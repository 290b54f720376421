// im2col convolution: strided windows view -> patch matrix -> shared gemm (see im2col_conv.hpp).
#include "impls/im2col/im2col_conv.hpp"

#include <algorithm>
#include <memory>
#include <span>

#include "common/conv_registry.hpp"
#include "common/gemm.hpp"
#include "common/strided_view.hpp"

namespace convlab {

namespace {

// Sizes that every pass needs, computed once per call.
struct Geometry {
  Index channels, height, width;   // one input image
  Index padded_height, padded_width;
  Index filters, out_pixels;       // F and P = oh * ow
  Index patch_length;              // K = C * kh * kw
  Index image_size() const { return channels * height * width; }
  Index padded_image_size() const { return channels * padded_height * padded_width; }
  Index out_image_size() const { return filters * out_pixels; }

  explicit Geometry(const ConvShape& s)
      : channels(s.in_channels), height(s.in_height), width(s.in_width),
        padded_height(s.in_height + 2 * s.pad_height), padded_width(s.in_width + 2 * s.pad_width),
        filters(s.out_channels), out_pixels(s.out_height() * s.out_width()), patch_length(s.reduction_length()) {}
};

bool has_padding(const ConvShape& s) { return s.pad_height > 0 || s.pad_width > 0; }

// The images inside a zero-bordered buffer of `count` padded images: same shape as the input chunk.
template <typename T>
StridedView<T, 4> padded_interior(std::span<T> padded, const ConvShape& s, const Geometry& g, Index count) {
  return StridedView<T, 4>(padded, {count, g.channels, g.height, g.width},
                           {g.padded_image_size(), g.padded_height * g.padded_width, g.padded_width, 1},
                           s.pad_height * g.padded_width + s.pad_width);
}

// Row-by-row copy between two views of the same (N, C, H, W) shape whose rows are contiguous.
template <typename T>
void copy_images(const StridedView<const T, 4>& from, const StridedView<T, 4>& to) {
  for (Index n = 0; n < from.shape(0); ++n)
    for (Index c = 0; c < from.shape(1); ++c)
      for (Index y = 0; y < from.shape(2); ++y) std::copy_n(&from(n, c, y, 0), from.shape(3), &to(n, c, y, 0));
}

// im2col proper: every window of the view, in the view's (n, oy, ox, c, ky, kx) order, becomes one row of
// `patches`. The view supplies all addressing; rows along kx are contiguous in the images.
template <typename T>
void copy_windows_to_patches(const StridedView<const T, 6>& windows, T* patches) {
  const Index taps = windows.shape(5);
  for (Index n = 0; n < windows.shape(0); ++n)
    for (Index oy = 0; oy < windows.shape(1); ++oy)
      for (Index ox = 0; ox < windows.shape(2); ++ox)
        for (Index c = 0; c < windows.shape(3); ++c)
          for (Index ky = 0; ky < windows.shape(4); ++ky) {
            patches = std::copy_n(&windows(n, oy, ox, c, ky, 0), taps, patches);
          }
}

// col2im: the adjoint of the copy above. Each patch element is added back onto the pixel it was read from;
// overlapping windows accumulate. `windows` must view zeroed storage.
template <typename T>
void scatter_add_patches(const T* patches, const StridedView<T, 6>& windows) {
  const Index taps = windows.shape(5);
  for (Index n = 0; n < windows.shape(0); ++n)
    for (Index oy = 0; oy < windows.shape(1); ++oy)
      for (Index ox = 0; ox < windows.shape(2); ++ox)
        for (Index c = 0; c < windows.shape(3); ++c)
          for (Index ky = 0; ky < windows.shape(4); ++ky) {
            T* row = &windows(n, oy, ox, c, ky, 0);
            for (Index kx = 0; kx < taps; ++kx) row[kx] += patches[kx];
            patches += taps;
          }
}

Window2d window_of(const ConvShape& s) { return {s.kernel_height, s.kernel_width}; }
Window2d stride_of(const ConvShape& s) { return {s.stride_height, s.stride_width}; }

// Fills the patch matrix for images [first, first + count) of `input`, going through the zero-bordered
// copy when the shape pads.
template <typename T, typename Workspace>
void fill_patches(Workspace& work, const ConvShape& s, const Geometry& g, const T* input, Index first,
                  Index count) {
  const std::span<const T> chunk(input + first * g.image_size(), std::size_t(count * g.image_size()));
  StridedView<const T, 4> images(chunk, {count, g.channels, g.height, g.width});
  if (has_padding(s)) {
    work.padded.resize(std::size_t(count * g.padded_image_size()));
    work.padded.fill(T(0));
    copy_images(images, padded_interior(work.padded.span(), s, g, count));
    images = StridedView<const T, 4>(std::span<const T>(work.padded.data(), work.padded.size()),
                                     {count, g.channels, g.padded_height, g.padded_width});
  }
  work.patches.resize(std::size_t(count * g.out_pixels * g.patch_length));
  copy_windows_to_patches(sliding_windows(images, window_of(s), stride_of(s)), work.patches.data());
}

}  // namespace

Index Im2colConv::images_per_chunk(const ConvShape& s, std::size_t element_size) const {
  const Geometry g(s);
  const std::size_t image_bytes = std::size_t(g.out_pixels * g.patch_length) * element_size;
  const std::size_t fitting = max_patch_bytes_ / std::max<std::size_t>(image_bytes, 1);
  return std::clamp<Index>(Index(std::min<std::size_t>(fitting, std::size_t(s.batch))), 1, s.batch);
}

std::size_t Im2colConv::workspace_bytes(const ConvShape& s, std::size_t element_size) const {
  s.validate();
  const Geometry g(s);
  const Index count = images_per_chunk(s, element_size);
  const Index padded = has_padding(s) ? count * g.padded_image_size() : 0;
  return std::size_t(count * g.out_pixels * g.patch_length + padded) * element_size;
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
void Im2colConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  const Geometry g(s);
  Workspace<T>& work = workspace<T>();
  const Index chunk = images_per_chunk(s, sizeof(T));
  for (Index first = 0; first < s.batch; first += chunk) {
    const Index count = std::min(chunk, s.batch - first);
    fill_patches(work, s, g, input, first, count);
    for (Index image = 0; image < count; ++image) {
      const T* patches = work.patches.data() + image * g.out_pixels * g.patch_length;
      T* y = output + (first + image) * g.out_image_size();
      gemm(Transpose::No, Transpose::Yes, g.filters, g.out_pixels, g.patch_length, T(1), weights, g.patch_length,
           patches, g.patch_length, T(0), y, g.out_pixels);
      if (!bias) continue;
      for (Index f = 0; f < g.filters; ++f) {
        T* row = y + f * g.out_pixels;
        for (Index p = 0; p < g.out_pixels; ++p) row[p] += bias[f];
      }
    }
  }
}

template <typename T>
void Im2colConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  const Geometry g(s);
  Workspace<T>& work = workspace<T>();
  const Index chunk = images_per_chunk(s, sizeof(T));
  for (Index first = 0; first < s.batch; first += chunk) {
    const Index count = std::min(chunk, s.batch - first);
    work.patches.resize(std::size_t(count * g.out_pixels * g.patch_length));
    for (Index image = 0; image < count; ++image) {
      const T* dy = output_grad + (first + image) * g.out_image_size();
      T* patch_grad = work.patches.data() + image * g.out_pixels * g.patch_length;
      gemm(Transpose::Yes, Transpose::No, g.out_pixels, g.patch_length, g.filters, T(1), dy, g.out_pixels,
           weights, g.patch_length, T(0), patch_grad, g.patch_length);
    }
    const std::span<T> dx_chunk(input_grad + first * g.image_size(), std::size_t(count * g.image_size()));
    if (has_padding(s)) {
      // Scatter onto a zeroed padded buffer, then keep its interior: border gradients belong to no pixel.
      work.padded.resize(std::size_t(count * g.padded_image_size()));
      work.padded.fill(T(0));
      const StridedView<T, 4> padded(work.padded.span(), {count, g.channels, g.padded_height, g.padded_width});
      scatter_add_patches(work.patches.data(), sliding_windows(padded, window_of(s), stride_of(s)));
      const StridedView<T, 4> interior = padded_interior(work.padded.span(), s, g, count);
      copy_images(StridedView<const T, 4>(std::span<const T>(interior.buffer()), interior.shape(),
                                          interior.strides(), interior.offset()),
                  StridedView<T, 4>(dx_chunk, {count, g.channels, g.height, g.width}));
    } else {
      std::fill(dx_chunk.begin(), dx_chunk.end(), T(0));
      const StridedView<T, 4> dx(dx_chunk, {count, g.channels, g.height, g.width});
      scatter_add_patches(work.patches.data(), sliding_windows(dx, window_of(s), stride_of(s)));
    }
  }
}

template <typename T>
void Im2colConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                        T* bias_grad) {
  const Geometry g(s);
  Workspace<T>& work = workspace<T>();
  const Index chunk = images_per_chunk(s, sizeof(T));
  for (Index first = 0; first < s.batch; first += chunk) {
    const Index count = std::min(chunk, s.batch - first);
    fill_patches(work, s, g, input, first, count);
    for (Index image = 0; image < count; ++image) {
      const T* dy = output_grad + (first + image) * g.out_image_size();
      const T* patches = work.patches.data() + image * g.out_pixels * g.patch_length;
      const T keep = (first + image == 0) ? T(0) : T(1);  // the first image overwrites, the rest accumulate
      gemm(Transpose::No, Transpose::No, g.filters, g.patch_length, g.out_pixels, T(1), dy, g.out_pixels, patches,
           g.patch_length, keep, weight_grad, g.patch_length);
    }
  }
  if (!bias_grad) return;
  for (Index f = 0; f < g.filters; ++f) {
    T sum = 0;
    for (Index n = 0; n < s.batch; ++n) {
      const T* row = output_grad + n * g.out_image_size() + f * g.out_pixels;
      for (Index p = 0; p < g.out_pixels; ++p) sum += row[p];
    }
    bias_grad[f] = sum;
  }
}

ConvImplInfo im2col_conv_info() {
  return {"im2col", "lecture's method: strided windows view copied to a patch matrix, one gemm per image",
          CONVLAB_IMPL_BUILD_FLAGS, true, [] { return std::make_unique<Im2colConv>(); },
          {.bias_gradient = true}};
}

}  // namespace convlab
