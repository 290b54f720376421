// The channel-blocked passes' plans (see blocked_plan.hpp). No SIMD code of its own: the arithmetic runs
// behind the function pointers of a BlockedKernels table.
#include "impls/simd/blocked_plan.hpp"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <immintrin.h>
#include <omp.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/machine/parallel_for.hpp"

namespace convlab::simd {

namespace {
Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

// A long reduction runs in tap blocks whose packed weights fit in this much cache (an eighth of the
// 1 MiB L2 of this machine kind's cores, next to the image and a band's sums), rather than streaming
// every tap's weights from L3 for every pixel tile. Its pixel bands are then cut to at most
// kMaxBlockedBandPixels, so the band's sums stay in L2 between blocks.
constexpr Index kWeightBlockBytes = Index(128) << 10;
constexpr Index kMaxBlockedBandPixels = 384;
// Input bytes a forward band of several channel groups may read (sized for doubles; half of the 1 MiB L2).
constexpr Index kBandSourceBytes = Index(512) << 10;
// The weight gradient's tap tiles take the channel-blocked output gradient in bands of this many bytes.
constexpr Index kGradBandBytes = Index(256) << 10;
// A weight gradient of one chunk is unpacked this many taps at a time (a multiple of every kernel's taps per
// tile, 3, 4, 6 and 8, and three 64-byte lines of floats per channel).
constexpr Index kUnpackTaps = 48;
// A weight gradient larger than this (L2) is unpacked with non-temporal stores: its lines would be evicted
// before anything read them, so reading each for ownership first is wasted traffic.
constexpr Index kStreamUnpackBytes = Index(1) << 20;
// On one thread, sums of one chunk larger than this (L2) are unpacked by their units too: finish() would read
// them back from memory. Smaller ones are left to finish(), which reads them from L2.
constexpr Index kOneThreadUnpackBytes = Index(1) << 20;
// Images above this size are read from beyond L2 (1 MiB on Zen 4 and 5) by the weight gradient's tiles.
constexpr Index kPrefetchImageBytes = Index(1) << 20;

// Cuts `count` items into bands of whole tiles: one band per thread's worth of work when the other
// dimensions (`other_units`) cannot keep `threads` busy several times over, else one band; never more
// than `max_count` items, and with few units in all, a number of them the threads share evenly. Every band
// of a unit whose weights outgrow L2 (`weights_stream`) reads all of them again from L3: then only as many
// bands as the threads need, not several per thread for balance.
Index band_size(Index count, Index tile, Index other_units, int threads, Index max_count, bool weights_stream) {
  const Index tiles = ceil_div(count, tile);
  const Index units_wanted = (weights_stream ? Index(1) : Index(4)) * threads;
  const Index by_threads = ceil_div(units_wanted, std::max<Index>(other_units, 1));
  const Index by_size = ceil_div(count, std::max(tile, max_count / tile * tile));
  Index wanted = std::clamp<Index>(std::max(by_threads, by_size), 1, tiles);
  // Few units in all: a count the threads share evenly (three bands on two threads keep one idle for a third
  // of the call).
  const Index others = std::max<Index>(other_units, 1);
  const auto bands_for = [&](Index w) { return ceil_div(tiles, ceil_div(tiles, w)); };
  while (wanted < tiles) {
    const Index units = others * bands_for(wanted);
    if (units >= Index(4) * threads || units % threads == 0) break;
    ++wanted;
  }
  return ceil_div(tiles, wanted) * tile;
}

// Taps per block for a group of `width` channels of T; the whole list when it fits.
template <typename T>
Index tap_block(Index width) {
  return std::max<Index>(1, kWeightBlockBytes / (width * Index(sizeof(T))));
}

// Whether a list of `taps` taps for groups of up to `vectors` vectors of `lanes` doubles (the larger type)
// may need blocks: then bands are capped.
bool may_block(Index taps, Index vectors, Index lanes) { return taps > tap_block<double>(vectors * lanes); }

// Runs job over pixels [begin, end) in tap blocks of `block` taps (sums between blocks in `sums`).
template <typename T>
void run_tap_blocks(void (*tiles)(const TileJob<T>&, Index, Index), TileJob<T> job, Index width, Index begin,
                    Index end, T* sums) {
  Index block = tap_block<T>(width);
  // Blocks of whole windows, so that a tile skipping border rows finds every window's runs in one block.
  if (job.window_taps) block = std::max(job.window_taps, block / job.window_taps * job.window_taps);
  if (job.taps <= block) {
    tiles(job, begin, end);
    return;
  }
  const Index taps = job.taps;
  const Index* offsets = job.tap_offsets;
  const T* weights = job.packed_weights;
  job.partial_sums = sums;
  for (Index t = 0; t < taps; t += block) {
    job.taps = std::min(block, taps - t);
    job.tap_offsets = offsets + t;
    job.packed_weights = weights + t * width;
    job.first_block = t == 0;
    job.last_block = t + block >= taps;
    tiles(job, begin, end);
  }
}

// One image's channels copied into a zero border: `top`/`left` zero rows/columns before each plane.
// Rows of a small image are a few dozen bytes: three library calls per row (fill, copy, fill) cost more than
// the copy, so each padded row is written by inline loops (kept from being turned back into calls).
// The image usually comes from L3 (the pass before it, or the weights streaming through L2, evicted it), and
// the copy waited on its loads: each row also prefetches the image kCopyPrefetchBytes ahead.
constexpr std::uintptr_t kCopyPrefetchBytes = 4096;
constexpr Index kCopyWideRowBytes = 64;  // a vector of AVX-512
template <typename T>
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void copy_with_border(
    const T* source, Index channels, Index rows, Index cols, Index top, Index left, Index padded_rows,
    Index padded_cols, T* dest) {
  const Index right = left + cols;
  const bool wide_rows = cols * Index(sizeof(T)) >= kCopyWideRowBytes;
  for (Index c = 0; c < channels; ++c) {
    const T* in = source + c * rows * cols;
    T* out = dest + c * padded_rows * padded_cols;
    for (Index e = 0; e < top * padded_cols; ++e) out[e] = T(0);
    for (Index r = 0; r < rows; ++r) {
      T* row = out + (top + r) * padded_cols;
      const T* from = in + r * cols;
      // Formed as an integer: past the image's last rows it points beyond it (a prefetch never faults).
      __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(from) + kCopyPrefetchBytes));
      // A row of at least a vector: three loops (zeros, the image's row, zeros). One loop that selects zero or
      // the image per element becomes a masked load per vector, which ran the copy several times slower from
      // memory; on shorter rows, whose images are small and in cache, that one loop costs less than three
      // (docs/performance.md, "Padded images copied without masked loads").
      if (wide_rows) {
        for (Index j = 0; j < left; ++j) row[j] = T(0);
        for (Index j = 0; j < cols; ++j) row[left + j] = from[j];
        for (Index j = right; j < padded_cols; ++j) row[j] = T(0);
      } else {
        for (Index j = 0; j < padded_cols; ++j) row[j] = j >= left && j < right ? from[j - left] : T(0);
      }
    }
    for (Index e = (top + rows) * padded_cols; e < padded_rows * padded_cols; ++e) out[e] = T(0);
  }
}

std::optional<KernelFamily> forced_family;

std::optional<KernelFamily> family_from_environment() {
  const char* value = std::getenv(kKernelFamilyEnvVar);
  const std::string text = value ? value : "";
  if (text == "blocked") return KernelFamily::blocked;
  if (text == "planes") return KernelFamily::planes;
  if (text.empty() || text == "auto") return std::nullopt;
  throw std::invalid_argument(std::string(kKernelFamilyEnvVar) + "='" + text +
                              "': expected blocked, planes or auto");
}

// Packing megabytes of weights is worth both cores; a few KiB are not worth waking the second.
bool parallel_pack(Index elements, int threads) { return threads > 1 && elements >= (Index(64) << 10); }

// parallel_for on `threads` threads when `parallel`, else on the calling thread.
template <typename Body>
void for_each_index(Index count, bool parallel, int threads, const Body& body) {
  parallel_for(count, parallel ? threads : 1, Schedule::dynamic, body);
}

// Image-major when the batch shares evenly over the threads (see blocked_plan.hpp).
bool image_major(Index items, int threads) {
  return threads <= 1 || items >= Index(4) * threads || (items >= threads && items % threads == 0);
}

// Whether a layer's packed weights outweigh its batch of images so far (the deep layers of small images, such
// as 512 channels of 7 x 7) that the weights, not the images, should stay in cache: they are megabytes, past
// L2, and image by image every image would stream all of them from L3 again.
bool weights_first(Index weight_bytes, Index batch_bytes) {
  return weight_bytes >= (Index(1) << 20) && weight_bytes >= 2 * batch_bytes;
}

RunOrder run_order(Index batch, int threads, Index weight_bytes, Index image_bytes) {
  if (weights_first(weight_bytes, batch * image_bytes)) return RunOrder::weights_first;
  return image_major(batch, threads) ? RunOrder::image_by_image : RunOrder::shared_units;
}
}  // namespace

ChannelGroups::ChannelGroups(Index channel_count, Index lane_count, int max_vector_count)
    : channels(channel_count), lanes(lane_count), vectors(ceil_div(channel_count, lane_count)),
      max_vectors(max_vector_count) {}

// ------------------------------------------------------------------------------------ input windows

InputWindows::InputWindows(const ConvShape& s) : shape_(s) {
  const Index oh = s.out_height(), ow = s.out_width(), kh = s.kernel_height, kw = s.kernel_width;
  // Only a padded layer's images are copied (into a zero border). An unpadded image is read in place, even one
  // of a batch that streams from memory: copying such images into a slot that stays in L2 first (for
  // overlapping windows, 128 KiB to 1 MiB images) was measured slower than the tiles' own prefetches
  // (docs/performance.md, "Unpadded images of a batch read in place").
  padded_ = s.pad_height > 0 || s.pad_width > 0;
  padded_height_ = s.in_height + 2 * s.pad_height;
  padded_width_ = s.in_width + 2 * s.pad_width;
  for (Index oy = 0; oy < oh; ++oy)
    for (Index ox = 0; ox < ow; ++ox) pixel_source_.push_back(oy * s.stride_height * padded_width_ + ox * s.stride_width);
  for (Index c = 0; c < s.in_channels; ++c)
    for (Index ky = 0; ky < kh; ++ky)
      for (Index kx = 0; kx < kw; ++kx) tap_offsets_.push_back((c * padded_height_ + ky) * padded_width_ + kx);
}

Index InputWindows::slot_elements() const { return padded_ ? shape_.in_channels * padded_height_ * padded_width_ : 0; }

template <typename T>
const T* InputWindows::prepare(const T* input, Index n, T* slot) const {
  const ConvShape& s = shape_;
  const T* image = input + n * s.in_channels * s.in_height * s.in_width;
  if (!padded_) return image;
  copy_with_border(image, s.in_channels, s.in_height, s.in_width, s.pad_height, s.pad_width, padded_height_,
                   padded_width_, slot);
  return slot;
}

// ------------------------------------------------------------------------------------------ forward

namespace {
// Window rows [begin, end) of output row y that lie inside the image (the rest read the zero border).
struct RowRange {
  Index begin, end;
};
RowRange window_rows_inside(const ConvShape& s, Index y) {
  const Index top = y * s.stride_height - s.pad_height;  // the window's first input row
  return {std::clamp<Index>(-top, 0, s.kernel_height), std::clamp<Index>(s.in_height - top, 0, s.kernel_height)};
}
// Window columns [begin, end) of output column x that lie inside the image.
RowRange window_columns_inside(const ConvShape& s, Index x) {
  const Index left = x * s.stride_width - s.pad_width;  // the window's first input column
  return {std::clamp<Index>(-left, 0, s.kernel_width), std::clamp<Index>(s.in_width - left, 0, s.kernel_width)};
}

// Multiply-add slots a forward pass spends per channel vector when its pixels, row by row, are cut into tiles of
// `tile` (a short last tile still runs whole), each running the window rows inside the image for any of its
// pixels (TileJob::window_taps; every row when the layer does not pad rows).
Index forward_tap_slots(const ConvShape& s, Index tile) {
  const Index ow = s.out_width(), pixels = s.out_height() * ow;
  Index slots = 0;
  for (Index p0 = 0; p0 < pixels; p0 += tile) {
    RowRange rows{s.kernel_height, 0};
    for (Index y = p0 / ow; y <= (std::min(pixels, p0 + tile) - 1) / ow; ++y) {
      const RowRange inside = window_rows_inside(s, y);
      rows = {std::min(rows.begin, inside.begin), std::max(rows.end, inside.end)};
    }
    slots += tile * std::max<Index>(0, rows.end - rows.begin);
  }
  return slots * s.kernel_width * s.in_channels;
}

// Row tiles pay where they line up with the output rows (width a multiple of 7) and spend fewer multiply-add
// slots than the ordinary tiles of the widest group: their pixels all share the padded window rows (res5a's 7 x 7
// images: 19 of every 21 window rows instead of nearly all, and no part of a tile wasted per image). A layer of
// up to row_tile_max_vectors vectors keeps its groups whole in row tiles, and any saving pays (inception_5x5_f48:
// 14 x 14 outputs in 28 tiles of 7, not 25 of 8 with a short last one, whose two bands of 13 and 12 tiles also
// shared badly); a wider one gives up a vector per group for them, which costs about a twentieth.
bool row_tiles_pay(const ConvShape& s, const Index* pixels_per_tile, Index lanes, int max_vectors, Index row_tile,
                   int row_tile_max_vectors) {
  const Index vectors = ceil_div(s.out_channels, lanes);
  if (row_tile <= 0 || vectors < 2 || s.out_width() % row_tile != 0) return false;
  const Index ordinary_tile = pixels_per_tile[std::min<Index>(max_vectors, vectors) - 1];
  const double saved = double(forward_tap_slots(s, row_tile)) / double(forward_tap_slots(s, ordinary_tile));
  return vectors <= row_tile_max_vectors ? saved < 1.0 : saved < 0.95;
}
}  // namespace

namespace {
// A forward tile reads its group's packed weights tap by tap beside the image rows its window covers. Where the
// widest group's weights overflow half of L1 but two vectors' fit (resnet's conv1: 147 taps are 37.6 KB of
// float weights for 4 vectors, 18.8 KB for 2), groups of two vectors keep them in L1 between tiles; with
// more taps they stream from L2 whatever the width, and the widest group reuses each broadcast most.
constexpr Index kL1GroupWeightBytes = Index(24) << 10;
int forward_group_vectors(const ConvShape& s, Index lanes, int max_vectors, Index element_bytes) {
  const Index tap_bytes = s.in_channels * s.kernel_height * s.kernel_width * lanes * element_bytes;
  if (max_vectors > 2 && tap_bytes * max_vectors > kL1GroupWeightBytes && tap_bytes * 2 <= kL1GroupWeightBytes)
    return 2;
  return max_vectors;
}
}  // namespace

BlockedForward::BlockedForward(const ConvShape& s, const Index* pixels_per_tile, Index lanes, int max_vectors,
                               int threads, Index element_bytes, Index row_tile_pixels, int row_tile_max_vectors)
    : shape_(s),
      row_tiles_(row_tiles_pay(s, pixels_per_tile, lanes, max_vectors, row_tile_pixels, row_tile_max_vectors)),
      groups_(s.out_channels, lanes,
              forward_group_vectors(s, lanes, row_tiles_ ? std::min(max_vectors, row_tile_max_vectors) : max_vectors,
                                    element_bytes)),
      windows_(s) {
  order_ = run_order(s.batch, threads, packed_elements() * element_bytes, image_elements() * element_bytes);
  pixels_ = s.out_height() * s.out_width();
  for (Index p = 0; p < pixels_; ++p) pixel_dest_.push_back(p);
  // Window rows inside the image per output pixel, when the layer pads rows (TileJob::window_taps).
  if (s.pad_height > 0) {
    for (Index p = 0; p < pixels_; ++p) {
      const RowRange rows = window_rows_inside(s, p / s.out_width());
      pixel_row_begin_.push_back(rows.begin);
      pixel_row_end_.push_back(rows.end);
    }
  }
  if (s.pad_width > 0) {
    for (Index p = 0; p < pixels_; ++p) {
      const RowRange columns = window_columns_inside(s, p % s.out_width());
      pixel_column_begin_.push_back(columns.begin);
      pixel_column_end_.push_back(columns.end);
    }
  }
  const Index tile = row_tiles_ ? row_tile_pixels : pixels_per_tile[std::min<Index>(groups_.max_vectors, groups_.vectors) - 1];
  const Index other_units = image_major(s.batch, threads) ? Index(4) * threads : s.batch * groups_.count();
  blocks_ = may_block(Index(windows_.tap_offsets().size()), groups_.max_vectors, lanes);
  Index max_band = blocks_ ? kMaxBlockedBandPixels : pixels_;
  // Several channel groups each read the whole image: on an image larger than L2 every group would fetch
  // it again from L3. Image by image, the units go band by band instead (every group of a band before the
  // next band), with bands whose input rows stay in L2 until the band's last group has read them. (Weights
  // first, a thread's run of units must keep to one group, each packed once: group-major.)
  band_major_ = order_ == RunOrder::image_by_image && groups_.count() > 1;
  if (band_major_) {
    const Index row_bytes = s.in_channels * (s.in_width + 2 * s.pad_width) * Index(sizeof(double));
    const Index input_rows = std::max<Index>(1, kBandSourceBytes / row_bytes);
    const Index output_rows = std::max<Index>(1, (input_rows - s.kernel_height) / s.stride_height + 1);
    max_band = std::min(max_band, std::max(tile, output_rows * s.out_width() / tile * tile));
  }
  band_pixels_ = band_size(pixels_, tile, other_units, threads, max_band, blocks_);
  bands_ = ceil_div(pixels_, band_pixels_);
}

Index BlockedForward::slot_elements() const { return windows_.slot_elements(); }

template <typename T>
void BlockedForward::pack_piece(const BlockedKernels<T>& kernels, const T* weights, const T* bias, Index g,
                                T* packed) const {
  const Index taps = Index(windows_.tap_offsets().size());
  const Index first = groups_.first_channel(g), width = groups_.group_vectors(g) * groups_.lanes;
  const Index real = groups_.group_channels(g);
  T* group = packed + first * taps;
  kernels.transpose(weights + first * taps, taps, real, taps, group, width);
  for (Index t = 0; t < taps; ++t) std::fill(group + t * width + real, group + (t + 1) * width, T(0));
  T* group_bias = packed + groups_.padded_channels() * taps + first;
  for (Index f = 0; f < width; ++f) group_bias[f] = bias && f < real ? bias[first + f] : T(0);
}

template <typename T>
const T* BlockedForward::prepare_image(const T* input, Index n, T* slot) const {
  return windows_.prepare(input, n, slot);
}

template <typename T>
void BlockedForward::run(const BlockedKernels<T>& kernels, const T* source, const T* packed, bool with_bias,
                         T* output, Index n, Index unit, T* sums) const {
  const Index band = band_of(unit), g = unit_piece(unit);
  const Index taps = Index(windows_.tap_offsets().size());
  TileJob<T> job;
  job.source = source;
  job.pixel_source = windows_.pixel_source();
  job.pixel_dest = pixel_dest_.data();
  job.tap_offsets = windows_.tap_offsets().data();
  job.taps = taps;
  job.packed_weights = packed + groups_.first_channel(g) * taps;
  job.bias = with_bias ? packed + groups_.padded_channels() * taps + groups_.first_channel(g) : nullptr;
  job.dest = output + (n * shape_.out_channels + groups_.first_channel(g)) * pixels_;
  job.dest_channel_stride = pixels_;
  job.channels = groups_.group_channels(g);
  if (!pixel_row_begin_.empty() || !pixel_column_begin_.empty()) {
    job.window_taps = shape_.kernel_height * shape_.kernel_width;
    job.window_columns = shape_.kernel_width;
  }
  if (!pixel_row_begin_.empty()) {
    job.pixel_row_begin = pixel_row_begin_.data();
    job.pixel_row_end = pixel_row_end_.data();
  }
  if (!pixel_column_begin_.empty()) {
    job.pixel_column_begin = pixel_column_begin_.data();
    job.pixel_column_end = pixel_column_end_.data();
  }
  job.row_pixels = shape_.out_width();
  job.source_step = shape_.stride_width;
  const Index begin = band * band_pixels_, end = std::min(pixels_, begin + band_pixels_);
  const Index vectors = groups_.group_vectors(g);
  run_tap_blocks(row_tiles_ ? kernels.row_tiles[vectors - 1] : kernels.tiles[vectors - 1], job,
                 vectors * groups_.lanes, begin, end, sums);
}

// ----------------------------------------------------------------------------------- backward_input

BlockedBackwardInput::BlockedBackwardInput(const ConvShape& s, const Index* pixels_per_tile, Index lanes,
                                           int max_vectors, int threads, Index element_bytes)
    : shape_(s), groups_(s.in_channels, lanes, max_vectors) {
  const Index oh = s.out_height(), ow = s.out_width();
  const Index sh = s.stride_height, sw = s.stride_width, kh = s.kernel_height, kw = s.kernel_width;
  // Output-gradient rows an input pixel reaches: (iy + pad - ky) / stride, from -ceil((kh-1)/sh) up to
  // (H-1+pad)/sh; a zero border covers the ones outside [0, oh). Columns alike.
  top_ = ceil_div(kh - 1, sh);
  left_ = ceil_div(kw - 1, sw);
  grad_height_ = top_ + std::max(oh, (s.in_height - 1 + s.pad_height) / sh + 1);
  grad_width_ = left_ + std::max(ow, (s.in_width - 1 + s.pad_width) / sw + 1);
  in_place_ = top_ == 0 && left_ == 0 && grad_height_ == oh && grad_width_ == ow;
  const Index grad_plane = grad_height_ * grad_width_;
  const Index tile = pixels_per_tile[std::min<Index>(groups_.max_vectors, groups_.vectors) - 1];
  const Index phases = sh * sw;
  const Index other_units = image_major(s.batch, threads) ? Index(4) * threads : s.batch * groups_.count() * phases;
  blocks_ = may_block(s.out_channels * ceil_div(kh, sh) * ceil_div(kw, sw), groups_.max_vectors, lanes);
  packed_begin_.push_back(0);
  for (Index ry = 0; ry < sh; ++ry)
    for (Index rx = 0; rx < sw; ++rx) {
      const Index phase = ry * sw + rx;
      phase_tap_begin_.push_back(Index(tap_offsets_.size()));
      // Taps in naive's order (out channel, window row, window column), only this phase's.
      for (Index f = 0; f < s.out_channels; ++f)
        for (Index ky = ry; ky < kh; ky += sh)
          for (Index kx = rx; kx < kw; kx += sw)
            tap_offsets_.push_back(f * grad_plane - (ky - ry) / sh * grad_width_ - (kx - rx) / sw);
      const Index taps = Index(tap_offsets_.size()) - phase_tap_begin_.back();
      packed_begin_.push_back(packed_begin_.back() + taps * groups_.padded_channels());
      // Input pixels of this phase: (iy + pad) mod stride = (ry, rx); the first tap (ry, rx) reads
      // output-gradient pixel ((iy + pad - ry) / sh, (ix + pad - rx) / sw). A phase no tap reaches
      // (a window smaller than the stride) still writes its pixels: zeros.
      // Tap (out channel, i, j) of the phase reads output-gradient pixel (oy - i, ox - j): the window rows and
      // columns of each pixel that stay inside [0, oh) x [0, ow), for the tiles to leave out the others.
      const Index window_rows = ceil_div(kh - ry, sh), window_columns = ceil_div(kw - rx, sw);
      const auto inside = [](Index at, Index size, Index window) {
        return RowRange{std::clamp<Index>(at - size + 1, 0, window), std::clamp<Index>(at + 1, 0, window)};
      };
      const Index begin = Index(pixel_source_.size());
      const Index first_column = (rx - s.pad_width % sw + sw) % sw;
      phase_pixel_begin_.push_back(begin);
      phase_row_pixels_.push_back(first_column < s.in_width ? ceil_div(s.in_width - first_column, sw) : 0);
      for (Index iy = (ry - s.pad_height % sh + sh) % sh; iy < s.in_height; iy += sh)
        for (Index ix = first_column; ix < s.in_width; ix += sw) {
          const Index oy = (iy + s.pad_height - ry) / sh, ox = (ix + s.pad_width - rx) / sw;
          pixel_source_.push_back(taps ? (oy + top_) * grad_width_ + ox + left_ : 0);
          pixel_dest_.push_back(iy * s.in_width + ix);
          if (in_place_) continue;
          const RowRange rows = inside(oy, oh, window_rows), columns = inside(ox, ow, window_columns);
          pixel_row_begin_.push_back(rows.begin);
          pixel_row_end_.push_back(rows.end);
          pixel_column_begin_.push_back(columns.begin);
          pixel_column_end_.push_back(columns.end);
        }
      const Index end = Index(pixel_source_.size());
      if (begin == end) continue;
      if (taps == 0) {  // a window narrower than the stride: prepare_image zeroes these pixels
        has_empty_phase_ = true;
        continue;
      }
      const Index band =
          band_size(end - begin, tile, other_units, threads, blocks_ ? kMaxBlockedBandPixels : end - begin, blocks_);
      max_band_pixels_ = std::max(max_band_pixels_, band);
      for (Index g = 0; g < groups_.count(); ++g)
        for (Index b = begin; b < end; b += band) units_.push_back({phase, g, b, std::min(end, b + band)});
    }
  phase_tap_begin_.push_back(Index(tap_offsets_.size()));
  order_ = run_order(s.batch, threads, packed_elements() * element_bytes, image_elements() * element_bytes);
}

template <typename T>
void BlockedBackwardInput::pack_piece(const BlockedKernels<T>& kernels, const T* weights, Index piece,
                                      T* packed) const {
  const ConvShape& s = shape_;
  const Index sh = s.stride_height, sw = s.stride_width, kh = s.kernel_height, kw = s.kernel_width;
  const Index phase = piece / groups_.count(), g = piece % groups_.count();
  const Index ry = phase / sw, rx = phase % sw;
  const Index taps = phase_tap_begin_[std::size_t(phase) + 1] - phase_tap_begin_[std::size_t(phase)];
  const Index first = groups_.first_channel(g), width = groups_.group_vectors(g) * groups_.lanes;
  const Index real = groups_.group_channels(g);
  T* out = packed + packed_begin_[std::size_t(phase)] + first * taps;
  // Out channel by out channel: its taps' rows of the packed group (a few KiB) stay in L1 while each
  // input channel's window is read in order. At stride 1 the one phase holds every tap in window order: the
  // group's windows, one per row, transposed.
  if (sh == 1 && sw == 1) {
    const Index window = kh * kw;
    for (Index f = 0; f < s.out_channels; ++f, out += window * width) {
      kernels.transpose(weights + (f * s.in_channels + first) * window, window, real, window, out, width);
      for (Index t = 0; t < window; ++t) std::fill(out + t * width + real, out + (t + 1) * width, T(0));
    }
    return;
  }
  for (Index f = 0; f < s.out_channels; ++f) {
    for (Index i = 0; i < real; ++i) {
      const T* window = weights + (f * s.in_channels + first + i) * kh * kw;
      T* column = out + i;
      for (Index ky = ry; ky < kh; ky += sh)
        for (Index kx = rx; kx < kw; kx += sw, column += width) *column = window[ky * kw + kx];
    }
    const Index f_taps = ceil_div(kh - ry, sh) * ceil_div(kw - rx, sw);
    for (Index t = 0; t < f_taps; ++t, out += width) std::fill(out + real, out + width, T(0));
  }
}

template <typename T>
void BlockedBackwardInput::clear_image(T* input_grad, Index n, Index part, Index parts) const {
  if (!has_empty_phase_) return;
  const Index image = shape_.in_channels * shape_.in_height * shape_.in_width;
  std::fill(input_grad + n * image + image * part / parts, input_grad + n * image + image * (part + 1) / parts, T(0));
}

template <typename T>
const T* BlockedBackwardInput::prepare_image(const T* output_grad, Index n, T* slot) const {
  const ConvShape& s = shape_;
  const Index oh = s.out_height(), ow = s.out_width();
  if (in_place_) return output_grad + n * s.out_channels * oh * ow;
  copy_with_border(output_grad + n * s.out_channels * oh * ow, s.out_channels, oh, ow, top_, left_, grad_height_,
                   grad_width_, slot);
  return slot;
}

template <typename T>
void BlockedBackwardInput::run(const BlockedKernels<T>& kernels, const T* source, const T* packed, T* input_grad,
                               Index n, Index unit, T* sums) const {
  const ConvShape& s = shape_;
  const Unit& piece = units_[std::size_t(unit)];
  const Index tap_begin = phase_tap_begin_[std::size_t(piece.phase)];
  const Index taps = phase_tap_begin_[std::size_t(piece.phase) + 1] - tap_begin;
  const Index plane = s.in_height * s.in_width;
  TileJob<T> job;
  job.source = source;
  job.pixel_source = pixel_source_.data();
  job.pixel_dest = pixel_dest_.data();
  job.tap_offsets = tap_offsets_.data() + tap_begin;
  job.taps = taps;
  job.packed_weights = packed + packed_begin_[std::size_t(piece.phase)] + groups_.first_channel(piece.group) * taps;
  job.dest = input_grad + (n * s.in_channels + groups_.first_channel(piece.group)) * plane;
  job.dest_channel_stride = plane;
  job.channels = groups_.group_channels(piece.group);
  if (!pixel_row_begin_.empty()) {
    // The phase's taps come in runs of its window, (window row, window column), one run per out channel; its
    // pixels row by row, consecutive ones reading consecutive output-gradient pixels.
    const Index ry = piece.phase / s.stride_width, rx = piece.phase % s.stride_width;
    job.window_columns = ceil_div(s.kernel_width - rx, s.stride_width);
    job.window_taps = ceil_div(s.kernel_height - ry, s.stride_height) * job.window_columns;
    job.pixel_row_begin = pixel_row_begin_.data();
    job.pixel_row_end = pixel_row_end_.data();
    job.pixel_column_begin = pixel_column_begin_.data();
    job.pixel_column_end = pixel_column_end_.data();
    job.row_pixels = phase_row_pixels_[std::size_t(piece.phase)];
    job.row_origin = phase_pixel_begin_[std::size_t(piece.phase)];
    job.source_step = 1;
    job.wide_row_runs = false;
  }
  run_tap_blocks(kernels.tiles[groups_.group_vectors(piece.group) - 1], job,
                 groups_.group_vectors(piece.group) * groups_.lanes, piece.begin, piece.end, sums);
}

// --------------------------------------------------------------------------------- backward_weights

namespace {
// sums[l] += grad[p * L + l] over pixels p in order, lane by lane: with L known the sums stay in registers (a
// loop of runtime width kept them in memory, one store-to-load chain per pixel) and each lane still adds its
// pixels in the same order.
template <int L, typename T>
void add_pixel_lanes(const T* grad, Index pixels, T* sums) {
  T acc[L];
  for (int l = 0; l < L; ++l) acc[l] = sums[l];
  for (Index p = 0; p < pixels; ++p)
    for (int l = 0; l < L; ++l) acc[l] += grad[p * L + l];
  for (int l = 0; l < L; ++l) sums[l] = acc[l];
}
}  // namespace

BlockedBackwardWeights::BlockedBackwardWeights(const ConvShape& s, const Index* taps_per_tile, Index lanes,
                                               int max_vectors, int threads, Index element_bytes)
    : shape_(s), groups_(s.out_channels, lanes, max_vectors),
      windows_(s) {
  pixels_ = s.out_height() * s.out_width();
  taps_ = Index(windows_.tap_offsets().size());
  // Chunks depend on the shape alone (never on the thread count), and so does the order of every sum; at
  // most 16, and fewer when the per-chunk sums of a large layer would exceed 1 Mi elements in all (adding
  // chunk sums of megabytes costs more than the images they let the threads take in parallel).
  chunks_ = std::clamp<Index>(std::min<Index>(s.batch, 16), 1, std::max<Index>(1, (Index(1) << 20) / chunk_elements()));
  const Index tile = taps_per_tile[std::min<Index>(groups_.max_vectors, groups_.vectors) - 1];
  const Index other_units = image_major(chunks_, threads) ? Index(4) * threads : chunks_ * groups_.count();
  band_taps_ = band_size(taps_, tile, other_units, threads, taps_, false);
  tap_bands_ = ceil_div(taps_, band_taps_);
  // A 1x1 window's taps are one channel plane each: a tile's taps read that many separate streams, which the
  // hardware prefetchers do not keep up with once the image no longer fits in L2.
  const Index image_bytes = s.in_channels * s.in_height * s.in_width * element_bytes;
  prefetch_source_ = s.kernel_height * s.kernel_width == 1 && image_bytes > kPrefetchImageBytes;
  unpack_by_unit_ = chunks_ == 1 && (threads > 1 || chunk_elements() * element_bytes > kOneThreadUnpackBytes);
  stream_unpack_ = unpack_by_unit_ && s.weight_size() * element_bytes > kStreamUnpackBytes;
}

Index BlockedBackwardWeights::slot_elements() const {
  return windows_.slot_elements() + groups_.padded_channels() * pixels_;
}

template <typename T>
void BlockedBackwardWeights::prepare_image(const BlockedKernels<T>& kernels, const T* input, const T* output_grad,
                                           Index n, T* slot) const {
  const ConvShape& s = shape_;
  windows_.prepare(input, n, slot);
  const Index lanes = groups_.lanes;
  const T* grad = output_grad + n * s.out_channels * pixels_;
  T* blocked = slot + windows_.slot_elements();
  // Vector v: its channels' planes ([lane][pixel]) transposed to [pixel][lane]; lanes past the last channel 0.
  for (Index v = 0; v < groups_.vectors; ++v) {
    T* out = blocked + v * pixels_ * lanes;
    const Index real = std::min(lanes, s.out_channels - v * lanes);
    kernels.transpose(grad + v * lanes * pixels_, pixels_, real, pixels_, out, lanes);
    if (real < lanes)
      for (Index p = 0; p < pixels_; ++p) std::fill(out + p * lanes + real, out + (p + 1) * lanes, T(0));
  }
}

template <typename T>
void BlockedBackwardWeights::run(const BlockedKernels<T>& kernels, const T* input, const T* slot, Index n,
                                 Index chunk, Index unit, T* partials, T* weight_grad) const {
  const ConvShape& s = shape_;
  const Index band = unit % tap_bands_, g = unit / tap_bands_;
  const Index lanes = groups_.lanes;
  const Index width = groups_.group_vectors(g) * lanes;
  const Index tap_begin = band * band_taps_, tap_end = std::min(taps_, tap_begin + band_taps_);
  T* chunk_sums = partials + chunk * chunk_elements();
  T* sums = chunk_sums + groups_.first_channel(g) * taps_ + tap_begin * width;
  const bool first_image = n == chunk_begin(chunk);
  const T* blocked = slot + windows_.slot_elements() + groups_.first_vector(g) * pixels_ * lanes;
  WeightTileJob<T> job;
  job.source = windows_.slot_elements() ? slot : input + n * s.in_channels * s.in_height * s.in_width;
  job.tap_offsets = windows_.tap_offsets().data() + tap_begin;
  job.taps = tap_end - tap_begin;
  job.vector_stride = pixels_ * lanes;
  job.partial = sums;
  job.prefetch_source = prefetch_source_;
  // Pixel band by pixel band, every tap tile over one band before the next, so a band of the blocked
  // output gradient stays in L2 while all the taps read it (a large image's would not). Each tap's sum
  // still runs over the pixels in order: its partial sum is stored and reloaded exactly between bands.
  const Index band_pixels = std::max<Index>(1, kGradBandBytes / (width * Index(sizeof(T))));
  const auto tiles = kernels.weight_tiles[groups_.group_vectors(g) - 1];
  const bool unpack = unpacks_by_unit() && n + 1 == chunk_begin(chunk + 1);
  for (Index p = 0; p < pixels_; p += band_pixels) {
    job.pixel_source = windows_.pixel_source() + p;
    job.pixels = std::min(band_pixels, pixels_ - p);
    job.output_grad = blocked + p * lanes;
    job.start = first_image && p == 0;
    if (!unpack || p + band_pixels < pixels_) {
      tiles(job);
      continue;
    }
    // The last band makes the sums final: kUnpackTaps taps at a time, each slice is unpacked into the weight
    // gradient straight after its tiles, from L1 (and each channel's run of taps written as whole lines).
    // Sums that start and end in this band (one image, one band) need no place of their own in the partials.
    const auto unpack_slice = stream_unpack_ ? kernels.transpose_streaming : kernels.transpose;
    alignas(64) T staged[kUnpackTaps * kMaxTileVectors * (64 / sizeof(T))];
    assert(kUnpackTaps * width <= Index(std::size(staged)));
    for (Index t0 = tap_begin; t0 < tap_end; t0 += kUnpackTaps) {
      const Index t1 = std::min(tap_end, t0 + kUnpackTaps);
      WeightTileJob<T> slice = job;
      slice.tap_offsets = windows_.tap_offsets().data() + t0;
      slice.taps = t1 - t0;
      slice.partial = job.start ? staged : sums + (t0 - tap_begin) * width;
      tiles(slice);
      unpack_slice(slice.partial, width, t1 - t0, groups_.group_channels(g),
                   weight_grad + groups_.first_channel(g) * taps_ + t0, taps_);
    }
    if (stream_unpack_) _mm_sfence();
  }
  if (band != 0) return;
  // The bias gradient of the group's channels, lane by lane over the chunk's images and pixels in order
  // (elementwise, so the compiler vectorises it without reordering any sum).
  T* bias = chunk_sums + bias_offset() + groups_.first_channel(g);
  if (first_image) std::fill(bias, bias + width, T(0));
  for (Index v = 0; v < groups_.group_vectors(g); ++v) {
    const T* grad = blocked + v * pixels_ * lanes;
    T* lane_sums = bias + v * lanes;
    switch (lanes) {
      case 16: add_pixel_lanes<16>(grad, pixels_, lane_sums); break;
      case 8: add_pixel_lanes<8>(grad, pixels_, lane_sums); break;
      case 4: add_pixel_lanes<4>(grad, pixels_, lane_sums); break;
      case 2: add_pixel_lanes<2>(grad, pixels_, lane_sums); break;
      default:
        for (Index p = 0; p < pixels_; ++p)
          for (Index l = 0; l < lanes; ++l) lane_sums[l] += grad[p * lanes + l];
    }
  }
}

template <typename T>
void BlockedBackwardWeights::finish(const BlockedKernels<T>& kernels, T* partials, T* weight_grad, T* bias_grad,
                                    int threads) const {
  // Units that unpacked their own sums (one chunk) leave only the bias to copy.
  if (!unpacks_by_unit()) {
    const Index size = chunk_elements();
    T* total = partials;  // chunk 0's sums; the others are added in order, element by element
    // Megabytes of sums on a wide layer: both cores add and unpack them (each element's chunk order unchanged).
    const bool parallel = parallel_pack(size, threads);
    constexpr Index kSpan = 4096;
    for_each_index(ceil_div(size, kSpan), parallel, threads, [&](Index span, Index) {
      const Index e0 = span * kSpan, e1 = std::min(size, e0 + kSpan);
      for (Index k = 1; k < chunks_; ++k) {
        const T* partial = partials + k * size;
        for (Index e = e0; e < e1; ++e) total[e] += partial[e];
      }
    });
    // Unpacked in spans of taps, so that a layer of one channel group still keeps both cores busy.
    constexpr Index kTapSpan = 1024;
    const Index spans = ceil_div(taps_, kTapSpan);
    for_each_index(groups_.count() * spans, parallel, threads, [&](Index job, Index) {
      const Index g = job / spans, t0 = job % spans * kTapSpan, t1 = std::min(taps_, t0 + kTapSpan);
      const Index first = groups_.first_channel(g), width = groups_.group_vectors(g) * groups_.lanes;
      kernels.transpose(total + first * taps_ + t0 * width, width, t1 - t0, groups_.group_channels(g),
                        weight_grad + first * taps_ + t0, taps_);
    });
  }
  if (bias_grad) std::copy_n(partials + bias_offset(), shape_.out_channels, bias_grad);  // chunk 0's, the total
}

template <typename Plan>
template <typename T>
const Plan& CachedPlan<Plan>::get(const ConvShape& shape, const BlockedKernels<T>& kernels, int threads) {
  if (!plan_ || !(shape_ == shape) || kernels_ != &kernels || threads_ != threads) {
    // The forward pass and the input gradient cut pixels into tiles, the weight gradient taps.
    if constexpr (std::is_same_v<Plan, BlockedBackwardWeights>)
      plan_.emplace(shape, kernels.taps_per_tile, kernels.lanes, kernels.max_vectors, threads, Index(sizeof(T)));
    else if constexpr (std::is_same_v<Plan, BlockedForward>)
      plan_.emplace(shape, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, threads, Index(sizeof(T)),
                    kernels.row_tile_pixels, kernels.row_tile_max_vectors);
    else
      plan_.emplace(shape, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, threads, Index(sizeof(T)));
    shape_ = shape;
    kernels_ = &kernels;
    threads_ = threads;
  }
  return *plan_;
}

// ------------------------------------------------------------------------------------- whole passes

namespace {
// A thread's own copies, made on first use: when units are shared out among threads, data one core writes
// and the other then reads crosses between the cores' caches, and on this machine kind that costs more than
// making the copy twice (measured: splitting one image's preparation between the two threads made both
// threads' tiles slower than the whole preparation done by each). `made` has one flag per copy.
// One flag per (thread, item): claim() is true the first time a thread asks for an item, false after.
class FirstUse {
 public:
  FirstUse(int threads, Index items) : items_(items), used_(std::size_t(threads * items), 0) {}
  bool claim(Index thread, Index item) {
    unsigned char& flag = used_[std::size_t(thread * items_ + item)];
    const bool first = !flag;
    flag = 1;
    return first;
  }

 private:
  Index items_;
  std::vector<unsigned char> used_;
};

template <typename T>
struct ThreadCopies {
  Index copies = 0, elements = 0;
  T* storage = nullptr;
  FirstUse made;
  ThreadCopies(AlignedBuffer<T>& buffer, int threads, Index copy_count, Index copy_elements)
      : copies(copy_count), elements(copy_elements), made(threads, copy_count) {
    buffer.resize(std::size_t(threads * copies * elements));
    storage = buffer.data();
  }
  // Thread `thread`'s copy `copy`; make(slot) fills it the first time.
  template <typename Make>
  T* get(Index thread, Index copy, const Make& make) {
    T* slot = storage + (thread * copies + copy) * elements;
    if (made.claim(thread, copy)) make(slot);
    return slot;
  }
};

// Runs every unit of every image. Image-major: a thread takes an image, prepares it into a slot of its own
// and runs all of its units, reading a whole packed copy of the weights made once per call (per thread where
// they are megabytes; see below). Otherwise the units are shared out, and each thread packs the weight pieces and
// prepares the images its units read into copies of its own (ThreadCopies). When the weights come first
// (weights_first), the units are shared in contiguous runs, unit by unit over all images: each thread packs
// and reads only its own share of the weight pieces, each piece once for the whole batch. `clear(n, part, parts)` is
// work that must precede every unit of image n, done in parts first (the input gradient's empty phases).
// `prepacked`: weights packed before the call (held for inference), read by every thread; nothing is packed.
// `pack_piece(piece, dest)` packs one weight piece into its place in the whole packed layout at `dest`.
template <typename T, typename Plan, typename PackPiece, typename Clear, typename Prepare, typename Run>
void run_images(const Plan& plan, Index batch, int threads, BlockedScratch<T>& scratch, bool clears,
                const T* prepacked, const PackPiece& pack_piece, const Clear& clear, const Prepare& prepare,
                const Run& run) {
  const Index units_per_image = plan.units_per_image(), slot_elements = plan.slot_elements();
  const Index packed_elements = plan.packed_elements(), pieces = plan.pieces();
  const bool by_weights = plan.order() == RunOrder::weights_first;
  if (plan.order() == RunOrder::image_by_image) {
    // Megabytes of weights on several threads: each thread packs all of them into a copy of its own, at its first
    // image. Packed once into one shared copy instead, every image's tiles would read the other core's share from
    // its cache again, band after band, which costs more than packing it twice (docs/performance.md, "Weights
    // packed per thread, image by image"). A few KiB (or one thread): one copy, packed by the calling thread.
    const bool own_copies = !prepacked && threads > 1 && parallel_pack(packed_elements, threads);
    const T* shared = prepacked;
    if (!prepacked) {
      scratch.packed.resize(std::size_t((own_copies ? threads : 1) * packed_elements));
      if (!own_copies) {
        for (Index piece = 0; piece < pieces; ++piece) pack_piece(piece, scratch.packed.data());
        shared = scratch.packed.data();
      }
    }
    scratch.slots.resize(std::size_t(std::max(threads, 1) * slot_elements));
    FirstUse made(threads, 1);
    // Images handed out from per-thread shares (Schedule::shares), not one shared counter: an image of a small
    // layer is a few microseconds of work, and every claim on a shared counter moves its line between cores.
    parallel_for(batch, threads, Schedule::shares, [&](Index n, Index thread) {
      const T* packed = shared;
      if (own_copies) {
        T* mine = scratch.packed.data() + thread * packed_elements;
        if (made.claim(thread, 0))
          for (Index piece = 0; piece < pieces; ++piece) pack_piece(piece, mine);
        packed = mine;
      }
      T* slot = scratch.slots.data() + thread * slot_elements;
      clear(n, 0, 1);
      const T* source = prepare(n, slot);
      for (Index u = 0; u < units_per_image; ++u) run(source, n, u, packed);
    });
    return;
  }
  // Weights: one whole packed layout per thread, filled piece by piece as its units need them.
  if (!prepacked) scratch.packed.resize(std::size_t(threads * packed_elements));
  FirstUse packed_by(threads, pieces);
  ThreadCopies<T> images(scratch.slots, threads, batch, slot_elements);
  std::vector<const T*> sources(std::size_t(threads * batch));  // where each thread's image n is read
  ShareClaims claims(batch * units_per_image, threads);
#pragma omp parallel num_threads(threads)
  {
    const Index thread = omp_get_thread_num();
    if (clears) {
#pragma omp for schedule(static)
      for (Index item = 0; item < batch * threads; ++item) clear(item / threads, item % threads, Index(threads));
    }
    const auto run_unit = [&](Index n, Index u) {
      const T* packed = prepacked;
      if (!packed) {
        T* mine = scratch.packed.data() + thread * packed_elements;
        const Index piece = plan.unit_piece(u);
        if (packed_by.claim(thread, piece)) pack_piece(piece, mine);
        packed = mine;
      }
      images.get(thread, n, [&](T* slot) { sources[std::size_t(thread * batch + n)] = prepare(n, slot); });
      run(sources[std::size_t(thread * batch + n)], n, u, packed);
    };
    // Weights first: one contiguous run of units per thread, each unit over every image before the next.
    // Otherwise image by image, each thread its own share of the units first (Schedule::shares): the same
    // units as in the last call, whose output lines are still in its core's cache, then what the other leaves.
    if (by_weights) {
#pragma omp for schedule(static)
      for (Index unit = 0; unit < batch * units_per_image; ++unit) run_unit(unit % batch, unit / batch);
    } else {
      claims.run(int(thread), [&](Index unit) { run_unit(unit / units_per_image, unit % units_per_image); });
    }
  }
}
}  // namespace

template <typename T>
void blocked_forward(const BlockedKernels<T>& kernels, const ConvShape& s, const T* input, const T* weights,
                     const T* bias, T* output, BlockedScratch<T>& scratch, int threads, const T* prepacked) {
  const BlockedForward& plan = scratch.forward.get(s, kernels, threads);
  scratch.sums.resize(std::size_t(std::max(threads, 1) * plan.sums_elements()));
  run_images<T>(
      plan, s.batch, threads, scratch, false, prepacked,
      [&](Index piece, T* packed) { plan.pack_piece(kernels, weights, bias, piece, packed); },
      [](Index, Index, Index) {},
      [&](Index n, T* slot) { return plan.prepare_image(input, n, slot); },
      [&](const T* source, Index n, Index unit, const T* packed) {
        T* sums = scratch.sums.data() + omp_get_thread_num() * plan.sums_elements();
        plan.run(kernels, source, packed, bias != nullptr, output, n, unit, sums);
      });
}

template <typename T>
void blocked_hold_forward_weights(const BlockedKernels<T>& kernels, const ConvShape& s, const T* weights,
                                  const T* bias, BlockedScratch<T>& scratch, int threads) {
  const BlockedForward& plan = scratch.forward.get(s, kernels, threads);
  scratch.held.resize(std::size_t(plan.packed_elements()));
  T* packed = scratch.held.data();
  for_each_index(plan.pieces(), parallel_pack(plan.packed_elements(), threads), threads,
                 [&](Index piece, Index) { plan.pack_piece(kernels, weights, bias, piece, packed); });
}

template <typename T>
void blocked_backward_input(const BlockedKernels<T>& kernels, const ConvShape& s, const T* output_grad,
                            const T* weights, T* input_grad, BlockedScratch<T>& scratch, int threads,
                            const T* prepacked) {
  const BlockedBackwardInput& plan = scratch.backward_input.get(s, kernels, threads);
  scratch.sums.resize(std::size_t(std::max(threads, 1) * plan.sums_elements()));
  run_images<T>(
      plan, s.batch, threads, scratch, plan.clears(), prepacked,
      [&](Index piece, T* packed) { plan.pack_piece(kernels, weights, piece, packed); },
      [&](Index n, Index part, Index parts) { plan.clear_image(input_grad, n, part, parts); },
      [&](Index n, T* slot) { return plan.prepare_image(output_grad, n, slot); },
      [&](const T* source, Index n, Index unit, const T* packed) {
        T* sums = scratch.sums.data() + omp_get_thread_num() * plan.sums_elements();
        plan.run(kernels, source, packed, input_grad, n, unit, sums);
      });
}

template <typename T>
void blocked_hold_input_weights(const BlockedKernels<T>& kernels, const ConvShape& s, const T* weights,
                                BlockedScratch<T>& scratch, int threads) {
  const BlockedBackwardInput& plan = scratch.backward_input.get(s, kernels, threads);
  scratch.held_input.resize(std::size_t(plan.packed_elements()));
  T* packed = scratch.held_input.data();
  for_each_index(plan.pieces(), parallel_pack(plan.packed_elements(), threads), threads,
                 [&](Index piece, Index) { plan.pack_piece(kernels, weights, piece, packed); });
}

template <typename T>
void blocked_backward_weights(const BlockedKernels<T>& kernels, const ConvShape& s, const T* input,
                              const T* output_grad, T* weight_grad, T* bias_grad, BlockedScratch<T>& scratch,
                              int threads) {
  const BlockedBackwardWeights& plan = scratch.backward_weights.get(s, kernels, threads);
  scratch.partials.resize(std::size_t(plan.partial_elements()));
  T* partials = scratch.partials.data();
  const Index slot = plan.slot_elements(), per_chunk = plan.units_per_chunk();
  if (image_major(plan.chunks(), threads)) {
    // Chunk by chunk: a thread takes a chunk and feeds its images, one by one, to all of its units.
    scratch.slots.resize(std::size_t(std::max(threads, 1) * slot));
    for_each_index(plan.chunks(), true, threads, [&](Index k, Index thread) {
      T* mine = scratch.slots.data() + thread * slot;
      for (Index n = plan.chunk_begin(k); n < plan.chunk_begin(k + 1); ++n) {
        plan.prepare_image(kernels, input, output_grad, n, mine);
        for (Index u = 0; u < per_chunk; ++u) plan.run(kernels, input, mine, n, k, u, partials, weight_grad);
      }
    });
  } else {
    // Fewer chunks than threads: (chunk, unit) pairs shared out, each thread its own share first, the same
    // every call (Schedule::shares), preparing the images its pairs read into copies of its own (ThreadCopies).
    ThreadCopies<T> images(scratch.slots, threads, s.batch, slot);
    parallel_for(plan.chunks() * per_chunk, threads, Schedule::shares, [&](Index piece, Index thread) {
      const Index k = piece / per_chunk, u = piece % per_chunk;
      for (Index n = plan.chunk_begin(k); n < plan.chunk_begin(k + 1); ++n) {
        const T* mine = images.get(thread, n, [&](T* copy) { plan.prepare_image(kernels, input, output_grad, n, copy); });
        plan.run(kernels, input, mine, n, k, u, partials, weight_grad);
      }
    });
  }
  plan.finish(kernels, partials, weight_grad, bias_grad, threads);
}

namespace {
template <typename T>
std::size_t workspace_elements(const ConvShape& s, const BlockedKernels<T>& kernels, int threads) {
  const Index bytes = Index(sizeof(T));
  const BlockedForward forward(s, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, threads, bytes,
                               kernels.row_tile_pixels, kernels.row_tile_max_vectors);
  const BlockedBackwardInput backward(s, kernels.pixels_per_tile, kernels.lanes, kernels.max_vectors, threads, bytes);
  const BlockedBackwardWeights weights(s, kernels.taps_per_tile, kernels.lanes, kernels.max_vectors, threads, bytes);
  const Index slots = std::max<Index>(threads, s.batch);  // at most
  const Index largest_slot = std::max({forward.slot_elements(), backward.slot_elements(), weights.slot_elements()});
  // Units shared out among threads pack a copy of the weights and prepare one of each image each; image by image,
  // megabytes of weights are packed once per thread too (run_images).
  const Index packed = std::max({std::max(threads, 1) * std::max(forward.packed_elements(), backward.packed_elements()),
                                 s.weight_size() + 2 * s.out_channels + s.weight_size()});
  const Index sums = std::max(threads, 1) * std::max(forward.sums_elements(), backward.sums_elements());
  return std::size_t(slots * largest_slot + packed + sums + weights.partial_elements());
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

namespace {
// Fraction of a vector's lanes holding real channels when `channels` are cut into vectors of `lanes`.
double lane_use(Index channels, Index lanes) {
  return double(channels) / double((channels + lanes - 1) / lanes * lanes);
}
}  // namespace

// A model of the fraction of the FMA peak each family reaches, fitted to one run of both families over the
// standard shape files (docs/performance.md). The blocked kernels run near peak on the lanes that hold real
// channels, less a fixed cost per output element (its store into NCHW, or for the weight gradient the copy
// of the output gradient into channel blocks) that a short reduction does not hide. The planes kernels run
// at a steady fraction of the lanes their rows fill (a strided input gradient is polyphase: its rows are a
// phase's columns, written to dx from a phase buffer); a strided forward pass pays for its phase-plane
// copies, and a strided weight gradient keeps up only while the input has few channels; the weight gradient
// of a single image sums it in one batch chunk. Refitted to openmp runs (2 threads) of both families forced
// (CONVLAB_SIMD_KERNELS) over the same files.
KernelFamily choose_kernel_family(const ConvShape& s, ConvPass pass, Index lanes) {
  if (forced_family) return *forced_family;
  if (const auto from_environment = family_from_environment()) return *from_environment;
  const bool input_side = pass == ConvPass::backward_input;
  const bool strided = s.stride_height > 1 || s.stride_width > 1;
  const Index vector_channels = input_side ? s.in_channels : s.out_channels;
  const double window = double(s.kernel_height * s.kernel_width);
  // The input gradient's longest phase: a phase with few taps (or none, under 1x1 stride 2) costs its pixels'
  // zeroing, not a short reduction per pixel.
  const double phase_window = double(((s.kernel_height + s.stride_height - 1) / s.stride_height) *
                                     ((s.kernel_width + s.stride_width - 1) / s.stride_width));
  const double taps = input_side ? double(s.out_channels) * phase_window : double(s.in_channels) * window;
  const double blocked = 0.92 * lane_use(vector_channels, lanes) * taps / (taps + 35.0);
  const Index row = input_side ? (s.in_width + s.stride_width - 1) / s.stride_width : s.out_width();
  const Index half = lanes / 2, ragged = row % lanes;
  // AVX-512's planes kernel packs two rows' remainders of up to half a vector into one register.
  const double row_use = lanes >= 16 && row > lanes && ragged > 0 && ragged <= half
                             ? double(row) / double(row - ragged + half)
                             : lane_use(row, lanes);
  // Long rows amortise each row's start-up (plane rows, block edges) over more vectors.
  const double long_rows = std::clamp((double(row) - 32.0) / 32.0, 0.0, 1.0);
  double planes = (0.70 + 0.15 * long_rows) * row_use;
  if (pass == ConvPass::forward && strided) planes *= 0.7;  // the phase planes are copied per image
  if (input_side && strided) planes *= 0.8;  // each phase's pixels copied from its buffer into dx
  // The stride-1 input gradient's sliding kernel holds an input channel's weights (F x kh x kw) in L1; a
  // long list of them (the lecture's second layer: 50 x 5 x 5) no longer fits beside the rows it reads.
  if (input_side && !strided && taps > 512.0) planes *= 0.75;
  if (pass == ConvPass::backward_weights) {
    if (!strided) planes = 0.50;  // one flat run of whole vectors per channel
    else planes = s.in_channels <= 4 ? 0.55 * row_use : 0.25;
    // Its 16 fixed batch chunks leave a single image's sums in one chunk, added serially.
    if (s.batch == 1) planes *= 0.7;
  }
  return blocked > planes ? KernelFamily::blocked : KernelFamily::planes;
}

#define CONVLAB_BLOCKED_INSTANTIATE(T)                                                                         \
  template const T* InputWindows::prepare<T>(const T*, Index, T*) const;                                      \
  template void BlockedForward::pack_piece<T>(const BlockedKernels<T>&, const T*, const T*, Index, T*) const;  \
  template const T* BlockedForward::prepare_image<T>(const T*, Index, T*) const;                              \
  template void BlockedForward::run<T>(const BlockedKernels<T>&, const T*, const T*, bool, T*, Index, Index,   \
                                       T*) const;                                                                                                  \
  template void BlockedBackwardInput::pack_piece<T>(const BlockedKernels<T>&, const T*, Index, T*) const;      \
  template void BlockedBackwardInput::clear_image<T>(T*, Index, Index, Index) const;                          \
  template const T* BlockedBackwardInput::prepare_image<T>(const T*, Index, T*) const;                        \
  template void BlockedBackwardInput::run<T>(const BlockedKernels<T>&, const T*, const T*, T*, Index, Index,   \
                                             T*) const;                                                                                                  \
  template void BlockedBackwardWeights::prepare_image<T>(const BlockedKernels<T>&, const T*, const T*, Index, \
                                                         T*) const;                                             \
  template void BlockedBackwardWeights::run<T>(const BlockedKernels<T>&, const T*, const T*, Index, Index,     \
                                               Index, T*, T*) const;                                          \
  template void BlockedBackwardWeights::finish<T>(const BlockedKernels<T>&, T*, T*, T*, int) const;            \
  template void blocked_forward<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*, const T*,   \
                                   T*, BlockedScratch<T>&, int, const T*);                                    \
  template void blocked_hold_forward_weights<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*, \
                                                BlockedScratch<T>&, int);                                     \
  template void blocked_backward_input<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*, T*,  \
                                          BlockedScratch<T>&, int, const T*);                                 \
  template void blocked_hold_input_weights<T>(const BlockedKernels<T>&, const ConvShape&, const T*,            \
                                              BlockedScratch<T>&, int);                                       \
  template void blocked_backward_weights<T>(const BlockedKernels<T>&, const ConvShape&, const T*, const T*,    \
                                            T*, T*, BlockedScratch<T>&, int);
CONVLAB_BLOCKED_INSTANTIATE(float)
CONVLAB_BLOCKED_INSTANTIATE(double)
#undef CONVLAB_BLOCKED_INSTANTIATE

}  // namespace convlab::simd
