// The channel-blocked passes' plans (see blocked_plan.hpp). No SIMD code of its own: the arithmetic runs
// behind the function pointers of a BlockedKernels table.
#include "impls/simd/blocked_plan.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace convlab::simd {

namespace {
Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

// Cuts `count` items into bands of whole tiles: one band per thread's worth of work when the other
// dimensions (`other_units`) cannot keep `threads` busy several times over, else one band.
Index band_size(Index count, Index tile, Index other_units, int threads) {
  const Index tiles = ceil_div(count, tile);
  const Index wanted = std::clamp<Index>(ceil_div(Index(4) * threads, std::max<Index>(other_units, 1)), 1, tiles);
  return ceil_div(tiles, wanted) * tile;
}

// One image's channels copied into a zero border: `top`/`left` zero rows/columns before each plane.
template <typename T>
void copy_with_border(const T* source, Index channels, Index rows, Index cols, Index top, Index left,
                      Index padded_rows, Index padded_cols, T* dest) {
  for (Index c = 0; c < channels; ++c) {
    const T* in = source + c * rows * cols;
    T* out = dest + c * padded_rows * padded_cols;
    std::fill(out, out + top * padded_cols, T(0));
    for (Index r = 0; r < rows; ++r) {
      T* row = out + (top + r) * padded_cols;
      std::fill(row, row + left, T(0));
      std::memcpy(row + left, in + r * cols, std::size_t(cols) * sizeof(T));
      std::fill(row + left + cols, row + padded_cols, T(0));
    }
    std::fill(out + (top + rows) * padded_cols, out + padded_rows * padded_cols, T(0));
  }
}

std::optional<KernelFamily> forced_family;

std::optional<KernelFamily> family_from_environment() {
  const char* value = std::getenv(kKernelFamilyEnvVar);
  if (!value) return std::nullopt;
  const std::string text(value);
  if (text == "blocked") return KernelFamily::blocked;
  if (text == "planes") return KernelFamily::planes;
  return std::nullopt;  // "auto", empty or anything else: the rule
}
}  // namespace

ChannelGroups::ChannelGroups(Index channel_count, Index lane_count, int max_vector_count)
    : channels(channel_count), lanes(lane_count), vectors(ceil_div(channel_count, lane_count)),
      max_vectors(max_vector_count) {}

// ------------------------------------------------------------------------------------------ forward

BlockedForward::BlockedForward(const ConvShape& s, Index lanes, const Index* pixels_per_tile, int max_vectors,
                               int threads)
    : shape_(s), groups_(s.out_channels, lanes, max_vectors) {
  const Index oh = s.out_height(), ow = s.out_width();
  pads_ = s.pad_height > 0 || s.pad_width > 0;
  padded_height_ = s.in_height + 2 * s.pad_height;
  padded_width_ = s.in_width + 2 * s.pad_width;
  pixels_ = oh * ow;
  pixel_source_.resize(std::size_t(pixels_));
  pixel_dest_.resize(std::size_t(pixels_));
  for (Index oy = 0; oy < oh; ++oy)
    for (Index ox = 0; ox < ow; ++ox) {
      pixel_source_[std::size_t(oy * ow + ox)] = oy * s.stride_height * padded_width_ + ox * s.stride_width;
      pixel_dest_[std::size_t(oy * ow + ox)] = oy * ow + ox;
    }
  for (Index c = 0; c < s.in_channels; ++c)
    for (Index ky = 0; ky < s.kernel_height; ++ky)
      for (Index kx = 0; kx < s.kernel_width; ++kx)
        tap_offsets_.push_back((c * padded_height_ + ky) * padded_width_ + kx);
  const Index tile = pixels_per_tile[std::min<Index>(groups_.max_vectors, groups_.vectors) - 1];
  band_pixels_ = band_size(pixels_, tile, s.batch * groups_.count(), threads);
  bands_ = ceil_div(pixels_, band_pixels_);
}

std::size_t BlockedForward::workspace_elements() const {
  const Index packed = groups_.padded_channels() * (Index(tap_offsets_.size()) + 1);
  const Index padded = pads_ ? shape_.batch * shape_.in_channels * padded_height_ * padded_width_ : 0;
  return std::size_t(packed + padded);
}

template <typename T>
void BlockedForward::pack(const T* weights, const T* bias, BlockedScratch<T>& scratch) const {
  const Index taps = Index(tap_offsets_.size());
  const Index padded = groups_.padded_channels();
  scratch.packed.resize(std::size_t(padded * (taps + 1)));
  T* packed = scratch.packed.data();
  for (Index g = 0; g < groups_.count(); ++g) {
    const Index first = groups_.first_channel(g), width = groups_.group_vectors(g) * groups_.lanes;
    T* group = packed + first * taps;
    for (Index t = 0; t < taps; ++t)
      for (Index i = 0; i < width; ++i) {
        const Index f = first + i;
        group[t * width + i] = f < shape_.out_channels ? weights[f * taps + t] : T(0);
      }
  }
  T* packed_bias = packed + padded * taps;
  for (Index f = 0; f < padded; ++f) packed_bias[f] = bias && f < shape_.out_channels ? bias[f] : T(0);
  if (pads_) scratch.source.resize(std::size_t(shape_.batch * shape_.in_channels * padded_height_ * padded_width_));
}

template <typename T>
void BlockedForward::pad_image(const T* input, Index n, BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const Index image = s.in_channels * s.in_height * s.in_width;
  copy_with_border(input + n * image, s.in_channels, s.in_height, s.in_width, s.pad_height, s.pad_width,
                   padded_height_, padded_width_,
                   scratch.source.data() + n * s.in_channels * padded_height_ * padded_width_);
}

template <typename T>
void BlockedForward::run(const BlockedKernels<T>& kernels, const T* input, bool with_bias, T* output, Index unit,
                         const BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const Index band = unit % bands_;
  const Index g = (unit / bands_) % groups_.count();
  const Index n = unit / (bands_ * groups_.count());
  const Index taps = Index(tap_offsets_.size());
  TileJob<T> job;
  job.source = pads_ ? scratch.source.data() + n * s.in_channels * padded_height_ * padded_width_
                     : input + n * s.in_channels * s.in_height * s.in_width;
  job.pixel_source = pixel_source_.data();
  job.pixel_dest = pixel_dest_.data();
  job.tap_offsets = tap_offsets_.data();
  job.taps = taps;
  job.packed_weights = scratch.packed.data() + groups_.first_channel(g) * taps;
  job.bias = with_bias ? scratch.packed.data() + groups_.padded_channels() * taps + groups_.first_channel(g) : nullptr;
  job.dest = output + (n * s.out_channels + groups_.first_channel(g)) * pixels_;
  job.dest_channel_stride = pixels_;
  job.channels = groups_.group_channels(g);
  const Index begin = band * band_pixels_, end = std::min(pixels_, begin + band_pixels_);
  kernels.tiles[groups_.group_vectors(g) - 1](job, begin, end);
}

// ----------------------------------------------------------------------------------- backward_input

BlockedBackwardInput::BlockedBackwardInput(const ConvShape& s, Index lanes, const Index* pixels_per_tile,
                                           int max_vectors, int threads)
    : shape_(s), groups_(s.in_channels, lanes, max_vectors) {
  const Index oh = s.out_height(), ow = s.out_width();
  const Index sh = s.stride_height, sw = s.stride_width, kh = s.kernel_height, kw = s.kernel_width;
  // Output-gradient rows an input pixel reaches: (iy + pad - ky) / stride, from -ceil((kh-1)/sh) up to
  // (H-1+pad)/sh; a zero border covers the ones outside [0, oh).
  top_ = ceil_div(kh - 1, sh);
  left_ = ceil_div(kw - 1, sw);
  grad_height_ = top_ + std::max(oh, (s.in_height - 1 + s.pad_height) / sh + 1);
  grad_width_ = left_ + std::max(ow, (s.in_width - 1 + s.pad_width) / sw + 1);
  const Index grad_plane = grad_height_ * grad_width_;
  const Index padded_channels = groups_.padded_channels();
  const Index tile = pixels_per_tile[std::min<Index>(groups_.max_vectors, groups_.vectors) - 1];
  const Index phases = sh * sw;
  packed_begin_.push_back(0);
  for (Index ry = 0; ry < sh; ++ry)
    for (Index rx = 0; rx < sw; ++rx) {
      phase_pixel_begin_.push_back(Index(pixel_source_.size()));
      phase_tap_begin_.push_back(Index(tap_offsets_.size()));
      // Taps in naive's order (out channel, window row, window column), only this phase's.
      for (Index f = 0; f < s.out_channels; ++f)
        for (Index ky = ry; ky < kh; ky += sh)
          for (Index kx = rx; kx < kw; kx += sw)
            tap_offsets_.push_back(f * grad_plane - (ky - ry) / sh * grad_width_ - (kx - rx) / sw);
      const Index taps = Index(tap_offsets_.size()) - phase_tap_begin_.back();
      packed_begin_.push_back(packed_begin_.back() + taps * padded_channels);
      // Input pixels of this phase: (iy + pad) mod stride = (ry, rx); the first tap (ry, rx) reads
      // output-gradient pixel ((iy + pad - ry) / sh, (ix + pad - rx) / sw).
      for (Index iy = (ry - s.pad_height % sh + sh) % sh; iy < s.in_height; iy += sh)
        for (Index ix = (rx - s.pad_width % sw + sw) % sw; ix < s.in_width; ix += sw) {
          const Index oy = (iy + s.pad_height - ry) / sh, ox = (ix + s.pad_width - rx) / sw;
          pixel_source_.push_back(taps ? (oy + top_) * grad_width_ + ox + left_ : 0);
          pixel_dest_.push_back(iy * s.in_width + ix);
        }
    }
  phase_pixel_begin_.push_back(Index(pixel_source_.size()));
  phase_tap_begin_.push_back(Index(tap_offsets_.size()));
  for (Index phase = 0; phase < phases; ++phase) {
    const Index begin = phase_pixel_begin_[std::size_t(phase)], end = phase_pixel_begin_[std::size_t(phase) + 1];
    if (begin == end) continue;
    const Index band = band_size(end - begin, tile, s.batch * groups_.count() * phases, threads);
    for (Index g = 0; g < groups_.count(); ++g)
      for (Index b = begin; b < end; b += band) phase_units_.push_back({phase, g, b, std::min(end, b + band)});
  }
}

std::size_t BlockedBackwardInput::workspace_elements() const {
  return std::size_t(packed_begin_.back() + shape_.batch * shape_.out_channels * grad_height_ * grad_width_);
}

template <typename T>
void BlockedBackwardInput::pack(const T* weights, BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const Index sh = s.stride_height, sw = s.stride_width, kh = s.kernel_height, kw = s.kernel_width;
  scratch.packed.resize(std::size_t(packed_begin_.back()));
  scratch.source.resize(std::size_t(s.batch * s.out_channels * grad_height_ * grad_width_));
  Index phase = 0;
  for (Index ry = 0; ry < sh; ++ry)
    for (Index rx = 0; rx < sw; ++rx, ++phase) {
      const Index taps = phase_tap_begin_[std::size_t(phase) + 1] - phase_tap_begin_[std::size_t(phase)];
      T* packed = scratch.packed.data() + packed_begin_[std::size_t(phase)];
      for (Index g = 0; g < groups_.count(); ++g) {
        const Index first = groups_.first_channel(g), width = groups_.group_vectors(g) * groups_.lanes;
        T* out = packed + first * taps;
        for (Index f = 0; f < s.out_channels; ++f)
          for (Index ky = ry; ky < kh; ky += sh)
            for (Index kx = rx; kx < kw; kx += sw, out += width)
              for (Index i = 0; i < width; ++i) {
                const Index c = first + i;
                out[i] = c < s.in_channels ? weights[((f * s.in_channels + c) * kh + ky) * kw + kx] : T(0);
              }
      }
    }
}

template <typename T>
void BlockedBackwardInput::pad_image(const T* output_grad, Index n, BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const Index oh = s.out_height(), ow = s.out_width();
  copy_with_border(output_grad + n * s.out_channels * oh * ow, s.out_channels, oh, ow, top_, left_, grad_height_,
                   grad_width_, scratch.source.data() + n * s.out_channels * grad_height_ * grad_width_);
}

template <typename T>
void BlockedBackwardInput::run(const BlockedKernels<T>& kernels, T* input_grad, Index unit,
                               const BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const PhaseUnit& piece = phase_units_[std::size_t(unit % Index(phase_units_.size()))];
  const Index n = unit / Index(phase_units_.size());
  const Index tap_begin = phase_tap_begin_[std::size_t(piece.phase)];
  const Index taps = phase_tap_begin_[std::size_t(piece.phase) + 1] - tap_begin;
  const Index plane = s.in_height * s.in_width;
  TileJob<T> job;
  job.source = scratch.source.data() + n * s.out_channels * grad_height_ * grad_width_;
  job.pixel_source = pixel_source_.data();
  job.pixel_dest = pixel_dest_.data();
  job.tap_offsets = tap_offsets_.data() + tap_begin;
  job.taps = taps;
  job.packed_weights =
      scratch.packed.data() + packed_begin_[std::size_t(piece.phase)] + groups_.first_channel(piece.group) * taps;
  job.dest = input_grad + (n * s.in_channels + groups_.first_channel(piece.group)) * plane;
  job.dest_channel_stride = plane;
  job.channels = groups_.group_channels(piece.group);
  kernels.tiles[groups_.group_vectors(piece.group) - 1](job, piece.begin, piece.end);
}

// --------------------------------------------------------------------------------- backward_weights

BlockedBackwardWeights::BlockedBackwardWeights(const ConvShape& s, Index lanes, const Index* taps_per_tile,
                                               int max_vectors, int threads)
    : shape_(s), groups_(s.out_channels, lanes, max_vectors) {
  const Index oh = s.out_height(), ow = s.out_width();
  pads_ = s.pad_height > 0 || s.pad_width > 0;
  padded_height_ = s.in_height + 2 * s.pad_height;
  padded_width_ = s.in_width + 2 * s.pad_width;
  pixels_ = oh * ow;
  for (Index oy = 0; oy < oh; ++oy)
    for (Index ox = 0; ox < ow; ++ox)
      pixel_source_.push_back(oy * s.stride_height * padded_width_ + ox * s.stride_width);
  for (Index c = 0; c < s.in_channels; ++c)
    for (Index ky = 0; ky < s.kernel_height; ++ky)
      for (Index kx = 0; kx < s.kernel_width; ++kx)
        tap_offsets_.push_back((c * padded_height_ + ky) * padded_width_ + kx);
  taps_ = Index(tap_offsets_.size());
  // Chunks depend on the shape alone (never on the thread count), so the sums' order does too; at most
  // 16, and fewer when the per-chunk sums of a large layer would not fit in 4 Mi elements.
  const Index partial = groups_.padded_channels() * (taps_ + 1);
  chunks_ = std::clamp<Index>(std::min<Index>(s.batch, 16), 1, std::max<Index>(1, (Index(1) << 22) / partial));
  const Index tile = taps_per_tile[std::min<Index>(groups_.max_vectors, groups_.vectors) - 1];
  band_taps_ = band_size(taps_, tile, chunks_ * groups_.count(), threads);
  tap_bands_ = ceil_div(taps_, band_taps_);
}

std::size_t BlockedBackwardWeights::workspace_elements() const {
  const Index padded = pads_ ? shape_.batch * shape_.in_channels * padded_height_ * padded_width_ : 0;
  const Index blocked = shape_.batch * groups_.padded_channels() * pixels_;
  return std::size_t(padded + blocked + chunks_ * groups_.padded_channels() * (taps_ + 1));
}

template <typename T>
void BlockedBackwardWeights::size_scratch(BlockedScratch<T>& scratch) const {
  if (pads_) scratch.source.resize(std::size_t(shape_.batch * shape_.in_channels * padded_height_ * padded_width_));
  scratch.blocked_grad.resize(std::size_t(shape_.batch * groups_.padded_channels() * pixels_));
  scratch.partials.resize(std::size_t(chunks_ * groups_.padded_channels() * (taps_ + 1)));
}

template <typename T>
void BlockedBackwardWeights::prepare_image(const T* input, const T* output_grad, Index n,
                                           BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  if (pads_) {
    copy_with_border(input + n * s.in_channels * s.in_height * s.in_width, s.in_channels, s.in_height, s.in_width,
                     s.pad_height, s.pad_width, padded_height_, padded_width_,
                     scratch.source.data() + n * s.in_channels * padded_height_ * padded_width_);
  }
  const Index lanes = groups_.lanes;
  const T* grad = output_grad + n * s.out_channels * pixels_;
  T* blocked = scratch.blocked_grad.data() + n * groups_.padded_channels() * pixels_;
  for (Index v = 0; v < groups_.vectors; ++v) {
    T* out = blocked + v * pixels_ * lanes;
    for (Index l = 0; l < lanes; ++l) {
      const Index f = v * lanes + l;
      if (f < s.out_channels) {
        const T* in = grad + f * pixels_;
        for (Index p = 0; p < pixels_; ++p) out[p * lanes + l] = in[p];
      } else {
        for (Index p = 0; p < pixels_; ++p) out[p * lanes + l] = T(0);
      }
    }
  }
}

template <typename T>
void BlockedBackwardWeights::run(const BlockedKernels<T>& kernels, const T* input, Index unit,
                                 BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const Index band = unit % tap_bands_;
  const Index g = (unit / tap_bands_) % groups_.count();
  const Index chunk = unit / (tap_bands_ * groups_.count());
  const Index lanes = groups_.lanes;
  const Index width = groups_.group_vectors(g) * lanes;
  const Index tap_begin = band * band_taps_, tap_end = std::min(taps_, tap_begin + band_taps_);
  T* partial = scratch.partials.data() + chunk * groups_.padded_channels() * (taps_ + 1) +
               groups_.first_channel(g) * taps_ + tap_begin * width;
  std::fill(partial, partial + (tap_end - tap_begin) * width, T(0));
  WeightTileJob<T> job;
  job.pixel_source = pixel_source_.data();
  job.pixels = pixels_;
  job.tap_offsets = tap_offsets_.data() + tap_begin;
  job.taps = tap_end - tap_begin;
  job.vector_stride = pixels_ * lanes;
  job.partial = partial;
  for (Index n = chunk_begin(chunk); n < chunk_begin(chunk + 1); ++n) {
    job.source = pads_ ? scratch.source.data() + n * s.in_channels * padded_height_ * padded_width_
                       : input + n * s.in_channels * s.in_height * s.in_width;
    job.output_grad = scratch.blocked_grad.data() + (n * groups_.vectors + groups_.first_vector(g)) * pixels_ * lanes;
    kernels.weight_tiles[groups_.group_vectors(g) - 1](job);
  }
  if (band != 0) return;
  // The bias gradient of the group's channels, lane by lane over the chunk's images and pixels in order
  // (elementwise, so the compiler vectorises it without reordering any sum).
  T* bias = scratch.partials.data() + chunk * groups_.padded_channels() * (taps_ + 1) +
            groups_.padded_channels() * taps_ + groups_.first_channel(g);
  std::fill(bias, bias + width, T(0));
  for (Index n = chunk_begin(chunk); n < chunk_begin(chunk + 1); ++n)
    for (Index v = 0; v < groups_.group_vectors(g); ++v) {
      const T* grad = scratch.blocked_grad.data() + (n * groups_.vectors + groups_.first_vector(g) + v) * pixels_ * lanes;
      T* sums = bias + v * lanes;
      for (Index p = 0; p < pixels_; ++p)
        for (Index l = 0; l < lanes; ++l) sums[l] += grad[p * lanes + l];
    }
}

template <typename T>
void BlockedBackwardWeights::finish(T* weight_grad, T* bias_grad, BlockedScratch<T>& scratch) const {
  const ConvShape& s = shape_;
  const Index chunk_size = groups_.padded_channels() * (taps_ + 1);
  // The chunks' sums added in chunk order, element by element, into chunk 0's.
  T* total = scratch.partials.data();
  for (Index k = 1; k < chunks_; ++k) {
    const T* partial = scratch.partials.data() + k * chunk_size;
    for (Index e = 0; e < chunk_size; ++e) total[e] += partial[e];
  }
  for (Index g = 0; g < groups_.count(); ++g) {
    const Index first = groups_.first_channel(g), width = groups_.group_vectors(g) * groups_.lanes;
    const T* group = total + first * taps_;
    for (Index i = 0; i < groups_.group_channels(g); ++i) {
      T* out = weight_grad + (first + i) * taps_;
      for (Index t = 0; t < taps_; ++t) out[t] = group[t * width + i];
    }
  }
  if (bias_grad) std::copy(total + groups_.padded_channels() * taps_, total + groups_.padded_channels() * taps_ + s.out_channels, bias_grad);
}

// ------------------------------------------------------------------------------------- whole passes

template <typename T>
void blocked_forward(const BlockedKernels<T>& kernels, const ConvShape& s, const T* input, const T* weights,
                     const T* bias, T* output, BlockedScratch<T>& scratch, int threads) {
  const BlockedForward plan(s, kernels.lanes, kernels.pixels_per_tile, kernels.max_vectors, threads);
  plan.pack(weights, bias, scratch);
  const Index per_image = plan.units_per_image();
  if (threads <= 1) {  // image by image, so a padded copy is used while it is in cache
    for (Index n = 0; n < s.batch; ++n) {
      if (plan.pads()) plan.pad_image(input, n, scratch);
      for (Index u = 0; u < per_image; ++u) plan.run(kernels, input, bias != nullptr, output, n * per_image + u, scratch);
    }
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    if (plan.pads()) {
#pragma omp for schedule(static)
      for (Index n = 0; n < s.batch; ++n) plan.pad_image(input, n, scratch);
    }
#pragma omp for schedule(dynamic)
    for (Index unit = 0; unit < s.batch * per_image; ++unit)
      plan.run(kernels, input, bias != nullptr, output, unit, scratch);
  }
}

template <typename T>
void blocked_backward_input(const BlockedKernels<T>& kernels, const ConvShape& s, const T* output_grad,
                            const T* weights, T* input_grad, BlockedScratch<T>& scratch, int threads) {
  const BlockedBackwardInput plan(s, kernels.lanes, kernels.pixels_per_tile, kernels.max_vectors, threads);
  plan.pack(weights, scratch);
  const Index per_image = plan.units_per_image();
  if (threads <= 1) {
    for (Index n = 0; n < s.batch; ++n) {
      plan.pad_image(output_grad, n, scratch);
      for (Index u = 0; u < per_image; ++u) plan.run(kernels, input_grad, n * per_image + u, scratch);
    }
    return;
  }
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(static)
    for (Index n = 0; n < s.batch; ++n) plan.pad_image(output_grad, n, scratch);
#pragma omp for schedule(dynamic)
    for (Index unit = 0; unit < s.batch * per_image; ++unit) plan.run(kernels, input_grad, unit, scratch);
  }
}

template <typename T>
void blocked_backward_weights(const BlockedKernels<T>& kernels, const ConvShape& s, const T* input,
                              const T* output_grad, T* weight_grad, T* bias_grad, BlockedScratch<T>& scratch,
                              int threads) {
  const BlockedBackwardWeights plan(s, kernels.lanes, kernels.taps_per_tile, kernels.max_vectors, threads);
  plan.size_scratch(scratch);
#pragma omp parallel num_threads(std::max(threads, 1)) if (threads > 1)
  {
#pragma omp for schedule(static)
    for (Index n = 0; n < s.batch; ++n) plan.prepare_image(input, output_grad, n, scratch);
#pragma omp for schedule(dynamic)
    for (Index unit = 0; unit < plan.units(); ++unit) plan.run(kernels, input, unit, scratch);
  }
  plan.finish(weight_grad, bias_grad, scratch);
}

namespace {
template <typename T>
std::size_t workspace_elements(const ConvShape& s, const BlockedKernels<T>& kernels, int threads) {
  const BlockedForward forward(s, kernels.lanes, kernels.pixels_per_tile, kernels.max_vectors, threads);
  const BlockedBackwardInput backward(s, kernels.lanes, kernels.pixels_per_tile, kernels.max_vectors, threads);
  const BlockedBackwardWeights weights(s, kernels.lanes, kernels.taps_per_tile, kernels.max_vectors, threads);
  return std::max({forward.workspace_elements(), backward.workspace_elements(), weights.workspace_elements()});
}
}  // namespace

std::size_t blocked_workspace_bytes(const ConvShape& s, const BlockedTable& table, std::size_t element_size,
                                    int threads) {
  const std::size_t elements = element_size == sizeof(float) ? workspace_elements(s, table.f32, threads)
                                                             : workspace_elements(s, table.f64, threads);
  return elements * element_size;
}

const BlockedTable& blocked_table(Arch arch) {
  switch (arch) {
    case Arch::sse2: return blocked_table_sse2();
    case Arch::avx2: return blocked_table_avx2();
    case Arch::avx512f: return blocked_table_avx512f();
  }
  return blocked_table_sse2();
}


// ------------------------------------------------------------------------------------ family choice

void force_kernel_family(std::optional<KernelFamily> family) { forced_family = family; }

KernelFamily choose_kernel_family(const ConvShape& s, ConvPass pass, Index lanes) {
  if (forced_family) return *forced_family;
  if (const auto from_environment = family_from_environment()) return *from_environment;
  // The channel-blocked kernels fill a vector with channels: worth it when there are enough of them to
  // fill most of its lanes. The column-vector kernels need a stride-1 row to fill theirs.
  const Index vector_channels = pass == ConvPass::backward_input ? s.in_channels : s.out_channels;
  const Index reduced_channels = pass == ConvPass::backward_input ? s.out_channels : s.in_channels;
  const bool strided = s.stride_width > 1;
  if (vector_channels * 2 < lanes) return KernelFamily::planes;
  return strided || reduced_channels >= 4 ? KernelFamily::blocked : KernelFamily::planes;
}

#define CONVLAB_BLOCKED_INSTANTIATE(T)                                                                        \
  template void BlockedForward::pack<T>(const T*, const T*, BlockedScratch<T>&) const;                       \
  template void BlockedForward::pad_image<T>(const T*, Index, BlockedScratch<T>&) const;                     \
  template void BlockedForward::run<T>(const BlockedKernels<T>&, const T*, bool, T*, Index,                  \
                                       const BlockedScratch<T>&) const;                                      \
  template void BlockedBackwardInput::pack<T>(const T*, BlockedScratch<T>&) const;                            \
  template void BlockedBackwardInput::pad_image<T>(const T*, Index, BlockedScratch<T>&) const;                \
  template void BlockedBackwardInput::run<T>(const BlockedKernels<T>&, T*, Index, const BlockedScratch<T>&)   \
      const;                                                                                                 \
  template void BlockedBackwardWeights::size_scratch<T>(BlockedScratch<T>&) const;                           \
  template void blocked_forward<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*, const T*, T*, \
                                   BlockedScratch<T>&, int);                                                 \
  template void blocked_backward_input<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*, T*,  \
                                          BlockedScratch<T>&, int);                                          \
  template void blocked_backward_weights<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*, T*, \
                                            T*, BlockedScratch<T>&, int);                                    \
  template void BlockedBackwardWeights::prepare_image<T>(const T*, const T*, Index, BlockedScratch<T>&) const; \
  template void BlockedBackwardWeights::run<T>(const BlockedKernels<T>&, const T*, Index, BlockedScratch<T>&)  \
      const;                                                                                                 \
  template void BlockedBackwardWeights::finish<T>(T*, T*, BlockedScratch<T>&) const;
CONVLAB_BLOCKED_INSTANTIATE(float)
CONVLAB_BLOCKED_INSTANTIATE(double)
#undef CONVLAB_BLOCKED_INSTANTIATE

}  // namespace convlab::simd
