// Arch-independent glue of the simd kernels: plane preparation, per-call plans, and the per-image and
// per-chunk steps impls/simd and impls/openmp are built from. Contains no SIMD code of its own: the
// arithmetic happens behind the function pointers of a KernelTable.
#include <algorithm>
#include <utility>
#include <cstring>

#include "impls/simd/simd_kernels.hpp"

namespace convlab::simd {

namespace {
constexpr Index kStreamOutputBytes = Index(8) << 20;

// Asks for the next image's operand while this one is computed. The unpadded input gradient reads the
// output gradient in short row runs channel by channel, which the hardware prefetcher does not follow:
// from memory (a batch too big for L3) it ran at half the speed it reaches from cache. Only its first
// kMaxImagePrefetchBytes: the loop issues every line at once, and past the core's few dozen outstanding misses
// each prefetch waits for a miss buffer (an output gradient of 1.5 MB, ocr_c1's, took a quarter of the weight
// gradient's time in this loop, for lines that L2 could not have kept anyway).
constexpr Index kMaxImagePrefetchBytes = Index(128) << 10;
template <typename T>
void prefetch_image(const T* begin, Index count) {
  constexpr Index kLine = 64 / Index(sizeof(T));
  const Index prefetched = std::min(count, kMaxImagePrefetchBytes / Index(sizeof(T)));
  for (Index i = 0; i < prefetched; i += kLine) __builtin_prefetch(begin + i, 0, 2);
}

Index round_up(Index value, Index multiple) { return (value + multiple - 1) / multiple * multiple; }

// Source index along one axis for virtual coordinate v, or -1 when v falls in padding or a dilation gap.
Index source_index(Index v, Index offset, Index dilation, Index extent) {
  const Index shifted = v - offset;
  if (shifted < 0 || shifted % dilation != 0) return -1;
  const Index index = shifted / dilation;
  return index < extent ? index : -1;
}
}  // namespace

const KernelTable& kernel_table(Arch arch) {
  switch (arch) {
    case Arch::sse2: return kernel_table_sse2();
    case Arch::avx2: return kernel_table_avx2();
    case Arch::avx512f: return kernel_table_avx512f();
  }
  throw ArchError("impls/simd: no kernels for this arch");
}

template <typename T>
void prepare_planes(const T* source, const PlaneSource& from, const PlaneLayout& layout, T* planes,
                    Index row_begin, Index row_end) {
  const Index source_plane = from.rows * from.cols;
  const bool plain_columns = layout.phases == 1 && from.dilation_cols == 1;
  // Columns [copy_begin, copy_end) of a plain row come straight from source columns shifted by `left`.
  const Index copy_begin = std::clamp<Index>(from.left, 0, layout.pitch);
  const Index copy_end = std::clamp<Index>(from.left + from.cols, 0, layout.pitch);
  for (Index c = 0; c < layout.channels; ++c) {
    const T* source_channel = source + c * source_plane;
    for (Index q = 0; q < layout.phases; ++q) {
      T* plane = planes + c * layout.channel_size() + q * layout.plane_size();
      for (Index r = row_begin; r < row_end; ++r) {
        T* row = plane + r * layout.pitch;
        const Index source_row = source_index(r, from.top, from.dilation_rows, from.rows);
        if (source_row < 0) {
          std::fill(row, row + layout.pitch, T(0));
          continue;
        }
        const T* in = source_channel + source_row * from.cols;
        if (plain_columns) {
          std::fill(row, row + copy_begin, T(0));
          if (copy_end > copy_begin) std::memcpy(row + copy_begin, in + (copy_begin - from.left),
                                                 std::size_t(copy_end - copy_begin) * sizeof(T));
          std::fill(row + std::max(copy_begin, copy_end), row + layout.pitch, T(0));
          continue;
        }
        if (from.dilation_cols == 1) {  // phase q of a strided row: every phases-th column from q - left
          const Index first = q - from.left;
          for (Index j = 0; j < layout.pitch; ++j) {
            const Index column = first + j * layout.phases;
            row[j] = column >= 0 && column < from.cols ? in[column] : T(0);
          }
          continue;
        }
        for (Index j = 0; j < layout.pitch; ++j) {
          const Index column = source_index(j * layout.phases + q, from.left, from.dilation_cols, from.cols);
          row[j] = column < 0 ? T(0) : in[column];
        }
      }
    }
  }
}

ForwardPlan::ForwardPlan(const ConvShape& s, Index lane_count, bool allow_direct)
    : shape(s), out_height(s.out_height()), out_width(s.out_width()), lanes(lane_count) {
  const Index kh = s.kernel_height, kw = s.kernel_width, sw = s.stride_width;
  dy_pitch = round_up(out_width, lanes);
  direct = allow_direct && s.pad_height == 0 && s.pad_width == 0 && sw == 1 && out_width >= lanes;
  if (direct) {
    layout = {s.in_channels, 1, s.in_height, s.in_width};
  } else {
    source = {s.in_height, s.in_width, s.pad_height, s.pad_width, 1, 1};
    // Rows: every row an output can reach. Columns: the widest vector reach (a whole number of vectors
    // per row plus the largest tap shift) so no load leaves the plane.
    layout = {s.in_channels, sw, (out_height - 1) * s.stride_height + kh, dy_pitch + (kw - 1) / sw};
  }
  stream_output = s.output_size() * Index(sizeof(float)) > kStreamOutputBytes;
  tap_offsets.resize(std::size_t(kh * kw));
  for (Index ky = 0; ky < kh; ++ky)
    for (Index kx = 0; kx < kw; ++kx)
      tap_offsets[std::size_t(ky * kw + kx)] =
          ((kx % layout.phases) * layout.rows + ky) * layout.pitch + kx / layout.phases;

  flat_weight_grad = s.stride_height == 1 && s.stride_width == 1;
  if (flat_weight_grad) {
    const Index flat = out_height * out_width;
    grad_dy_height = 1;
    grad_dy_pitch = round_up(flat, lanes);
    copy_output_grad = grad_dy_pitch != flat;
    // Each copy: every padded row an output reaches, out_width wide, then a vector of zeros that the last
    // (partly padded) vector of the flat run may read.
    grad_layout = {s.in_channels, kw, 1, (out_height - 1 + kh) * out_width + lanes};
    grad_tap_offsets.resize(std::size_t(kh * kw));
    for (Index ky = 0; ky < kh; ++ky)
      for (Index kx = 0; kx < kw; ++kx)
        grad_tap_offsets[std::size_t(ky * kw + kx)] = kx * grad_layout.pitch + ky * out_width;
  } else {
    grad_layout = layout;
    grad_tap_offsets = tap_offsets;
    grad_dy_height = out_height;
    grad_dy_pitch = dy_pitch;
    copy_output_grad = true;
  }
}

namespace {
// The flat weight gradient's input planes: copy kx of channel c holds padded-input element (r, x + kx) at
// r*out_width + x, for every padded row r an output reaches.
template <typename T>
void prepare_shifted_copies(const T* image, const ForwardPlan& plan, T* planes) {
  const ConvShape& s = plan.shape;
  const Index width = plan.out_width, rows = plan.out_height - 1 + s.kernel_height;
  for (Index c = 0; c < s.in_channels; ++c) {
    const T* channel = image + c * s.in_height * s.in_width;
    for (Index kx = 0; kx < s.kernel_width; ++kx) {
      T* copy = planes + (c * s.kernel_width + kx) * plan.grad_layout.pitch;
      // Output column x reads input column x + kx - pad: columns [begin, end) of the copy exist.
      const Index begin = std::clamp<Index>(s.pad_width - kx, 0, width);
      const Index end = std::clamp<Index>(s.in_width + s.pad_width - kx, begin, width);
      for (Index r = 0; r < rows; ++r) {
        T* row = copy + r * width;
        const Index source_row = r - s.pad_height;
        if (source_row < 0 || source_row >= s.in_height) {
          std::fill(row, row + width, T(0));
          continue;
        }
        std::fill(row, row + begin, T(0));
        std::memcpy(row + begin, channel + source_row * s.in_width + begin + kx - s.pad_width,
                    std::size_t(end - begin) * sizeof(T));
        std::fill(row + end, row + width, T(0));
      }
      std::fill(copy + rows * width, copy + plan.grad_layout.pitch, T(0));
    }
  }
}
}  // namespace

BackwardInputPlan::BackwardInputPlan(const ConvShape& s, Index lanes)
    : shape(s), out_height(s.out_height()), out_width(s.out_width()) {
  const Index kh = s.kernel_height, kw = s.kernel_width, sh = s.stride_height, sw = s.stride_width;
  polyphase = sh > 1 || sw > 1;
  if (!polyphase) {
    // dx[iy][ix] = sum of w[f][c][ky][kx] * D[iy + kh-1-ky][ix + kw-1-kx], D the output gradient with
    // kh-1-pad (kw-1-pad) zeros before: naive's bounds tests become multiplications by those zeros, which
    // change no sum.
    source = {out_height, out_width, kh - 1 - s.pad_height, kw - 1 - s.pad_width, 1, 1};
    layout = {s.out_channels, 1, s.in_height + kh - 1, round_up(s.in_width, lanes) + kw - 1};
    tap_offsets.resize(std::size_t(kh * kw));
    for (Index ky = 0; ky < kh; ++ky)
      for (Index kx = 0; kx < kw; ++kx)
        tap_offsets[std::size_t(ky * kw + kx)] = (kh - 1 - ky) * layout.pitch + (kw - 1 - kx);
    return;
  }
  // Tap (ky, kx) of input pixel (iy, ix) reads output-gradient pixel ((iy + pad - ky) / sh, ...), from
  // -ceil((kh-1)/sh) on: a border of that many zero rows (columns) before it.
  const Index top = (kh - 1 + sh - 1) / sh, left = (kw - 1 + sw - 1) / sw;
  const Index max_rows = (s.in_height + sh - 1) / sh, max_cols = (s.in_width + sw - 1) / sw;
  source = {out_height, out_width, top, left, 1, 1};
  // Rows and columns up to the last a phase's whole vectors reach.
  layout = {s.out_channels, 1, top + (sh - 1 + s.pad_height) / sh + max_rows + 1,
            left + (sw - 1 + s.pad_width) / sw + round_up(max_cols, lanes) + 1};
  Index weight_begin = 0;
  for (Index ry = 0; ry < sh; ++ry)
    for (Index rx = 0; rx < sw; ++rx) {
      Phase phase;
      phase.first_row = (ry - s.pad_height % sh + sh) % sh;
      phase.first_col = (rx - s.pad_width % sw + sw) % sw;
      phase.rows = phase.first_row < s.in_height ? (s.in_height - phase.first_row + sh - 1) / sh : 0;
      phase.cols = phase.first_col < s.in_width ? (s.in_width - phase.first_col + sw - 1) / sw : 0;
      phase.tap_begin = Index(tap_offsets.size());
      const Index base_row = (phase.first_row + s.pad_height - ry) / sh + top;
      const Index base_col = (phase.first_col + s.pad_width - rx) / sw + left;
      for (Index ky = ry; ky < kh; ky += sh)
        for (Index kx = rx; kx < kw; kx += sw)
          tap_offsets.push_back((base_row - (ky - ry) / sh) * layout.pitch + base_col - (kx - rx) / sw);
      phase.taps = Index(tap_offsets.size()) - phase.tap_begin;
      phase.weight_begin = weight_begin;
      weight_begin += s.in_channels * s.out_channels * phase.taps;
      phase_output_size = std::max(phase_output_size, s.in_channels * phase.rows * phase.cols);
      phases.push_back(phase);
    }
}

template <typename T>
void BackwardInputPlan::pack_phase_weights(const T* weights) {
  if (!polyphase) return;
  const ConvShape& s = shape;
  const Index kh = s.kernel_height, kw = s.kernel_width, sh = s.stride_height, sw = s.stride_width;
  AlignedBuffer<T>& packed = [&]() -> AlignedBuffer<T>& {
    if constexpr (sizeof(T) == sizeof(float)) return phase_weights_f32; else return phase_weights_f64;
  }();
  packed.resize(std::size_t(s.in_channels * s.out_channels * kh * kw));
  for (Index ry = 0; ry < sh; ++ry)
    for (Index rx = 0; rx < sw; ++rx) {
      const Phase& phase = phases[std::size_t(ry * sw + rx)];
      T* out = packed.data() + phase.weight_begin;
      for (Index c = 0; c < s.in_channels; ++c)
        for (Index f = 0; f < s.out_channels; ++f) {
          const T* window = weights + (f * s.in_channels + c) * kh * kw;
          for (Index ky = ry; ky < kh; ky += sh)
            for (Index kx = rx; kx < kw; kx += sw) *out++ = window[ky * kw + kx];
        }
    }
}

template <typename T>
void forward_image(const ArchKernels<T>& kernels, const ForwardPlan& plan, const T* input, const T* weights,
                   const T* bias, T* output, Index n, Index o_begin, Index o_end, Index y_begin, Index y_end,
                   Scratch<T>& scratch) {
  const ConvShape& s = plan.shape;
  const T* image = input + n * s.in_channels * s.in_height * s.in_width;
  CorrelateJob<T> job;
  job.layout = plan.layout;
  if (plan.direct) {
    job.planes = image;
  } else {
    scratch.planes.resize(std::size_t(plan.layout.size()));
    prepare_planes(image, plan.source, plan.layout, scratch.planes.data(), plan.first_row(y_begin),
                   plan.end_row(y_end));
    job.planes = scratch.planes.data();
  }
  job.row_stride = s.stride_height;
  job.tap_offsets = plan.tap_offsets.data();
  job.kernel_taps = s.kernel_height * s.kernel_width;
  job.weights = weights;
  job.weight_out_stride = s.in_channels * job.kernel_taps;
  job.weight_in_stride = job.kernel_taps;
  scratch.weight_workspace.resize(std::size_t(plan.weight_workspace_size()));
  job.weight_workspace = scratch.weight_workspace.data();
  job.bias = bias;
  job.output = output + n * s.out_channels * plan.out_height * plan.out_width;
  job.out_height = plan.out_height;
  job.out_width = plan.out_width;
  job.stream_stores = plan.stream_output;
  kernels.correlate(job, o_begin, o_end, y_begin, y_end);
}

namespace {
// The strided input gradient of one image, phase by phase (see BackwardInputPlan).
template <typename T>
void backward_input_phases(const ArchKernels<T>& kernels, const BackwardInputPlan& plan, const T* image_grad,
                           T* image_dx, Index c_begin, Index c_end, Index iy_begin, Index iy_end, Scratch<T>& scratch) {
  const ConvShape& s = plan.shape;
  const Index sh = s.stride_height, sw = s.stride_width;
  // A phase's rows inside [iy_begin, iy_end); empty where it has no pixels or no taps.
  const auto phase_rows = [&](const BackwardInputPlan::Phase& phase) {
    const Index py_begin = std::clamp<Index>((iy_begin - phase.first_row + sh - 1) / sh, 0, phase.rows);
    const Index py_end = std::clamp<Index>((iy_end - phase.first_row + sh - 1) / sh, py_begin, phase.rows);
    return phase.cols == 0 || phase.taps == 0 ? std::pair<Index, Index>{0, 0} : std::pair{py_begin, py_end};
  };
  // Only the output-gradient rows that the phases' rows inside [iy_begin, iy_end) read: phase row py of input
  // row iy reads planes rows (iy + pad - ry) / sh + top - i, i below the phase's window rows. (A batch-1 image cut
  // into row tiles for threads prepares each tile's band, not the whole image again.)
  Index rows_begin = plan.layout.rows, rows_end = 0;
  for (const BackwardInputPlan::Phase& phase : plan.phases) {
    const Index ry = (phase.first_row + s.pad_height) % sh, window_rows = (s.kernel_height - ry + sh - 1) / sh;
    const auto [py_begin, py_end] = phase_rows(phase);
    if (py_begin == py_end) continue;
    const Index base_row = (phase.first_row + s.pad_height - ry) / sh + plan.source.top;
    rows_begin = std::min(rows_begin, std::max<Index>(0, base_row + py_begin - (window_rows - 1)));
    rows_end = std::max(rows_end, std::min(plan.layout.rows, base_row + py_end));
  }
  scratch.planes.resize(std::size_t(plan.layout.size()));
  if (rows_begin < rows_end)
    prepare_planes(image_grad, plan.source, plan.layout, scratch.planes.data(), rows_begin, rows_end);
  scratch.phase_output.resize(std::size_t(plan.phase_output_size));
  scratch.weight_workspace.resize(std::size_t(plan.weight_workspace_size()));
  const Index plane = s.in_height * s.in_width;
  // Phases no tap reaches (a window narrower than the stride) are zero: the tile's rows are cleared first
  // and the other phases overwrite their pixels.
  const bool has_empty_phase = std::any_of(plan.phases.begin(), plan.phases.end(),
                                           [](const BackwardInputPlan::Phase& p) { return p.taps == 0; });
  if (has_empty_phase)
    for (Index c = c_begin; c < c_end; ++c)
      std::fill(image_dx + c * plane + iy_begin * s.in_width, image_dx + c * plane + iy_end * s.in_width, T(0));
  for (const BackwardInputPlan::Phase& phase : plan.phases) {
    const auto [py_begin, py_end] = phase_rows(phase);
    if (py_begin == py_end) continue;
    const Index phase_plane = phase.rows * phase.cols;
    T* out = scratch.phase_output.data();
    {
      CorrelateJob<T> job;
      job.planes = scratch.planes.data();
      job.layout = plan.layout;
      job.row_stride = 1;
      job.tap_offsets = plan.tap_offsets.data() + phase.tap_begin;
      job.kernel_taps = phase.taps;
      job.weights = plan.phase_weights<T>() + phase.weight_begin;  // weight(c, f, t)
      job.weight_out_stride = s.out_channels * phase.taps;
      job.weight_in_stride = phase.taps;
      job.weight_workspace = scratch.weight_workspace.data();
      job.output = out;
      job.out_height = phase.rows;
      job.out_width = phase.cols;
      kernels.correlate(job, c_begin, c_end, py_begin, py_end);
    }
    for (Index c = c_begin; c < c_end; ++c)
      for (Index py = py_begin; py < py_end; ++py) {
        const T* from = out + c * phase_plane + py * phase.cols;
        T* to = image_dx + c * plane + (phase.first_row + py * sh) * s.in_width + phase.first_col;
        for (Index px = 0; px < phase.cols; ++px) to[px * sw] = from[px];
      }
  }
}
}  // namespace

template <typename T>
void backward_input_image(const ArchKernels<T>& kernels, const BackwardInputPlan& plan, const T* output_grad,
                          const T* weights, T* input_grad, Index n, Index c_begin, Index c_end, Index iy_begin,
                          Index iy_end, Scratch<T>& scratch) {
  const ConvShape& s = plan.shape;
  const Index image_grad_size = s.out_channels * plan.out_height * plan.out_width;
  const T* image_grad = output_grad + n * image_grad_size;
  if (n + 1 < s.batch) prefetch_image(image_grad + image_grad_size, image_grad_size);
  CorrelateJob<T> job;
  job.layout = plan.layout;
  job.row_stride = 1;
  job.tap_offsets = plan.tap_offsets.data();
  job.kernel_taps = s.kernel_height * s.kernel_width;
  job.weights = weights;  // weight(c, f, t) = w[f][c][t]: input-gradient channels are the weights' columns
  job.weight_out_stride = job.kernel_taps;
  job.weight_in_stride = s.in_channels * job.kernel_taps;
  job.output = input_grad + n * s.in_channels * s.in_height * s.in_width;
  job.out_height = s.in_height;
  job.out_width = s.in_width;
  job.flipped_kernel_height = s.kernel_height;
  if (plan.polyphase) {
    backward_input_phases(kernels, plan, image_grad, input_grad + n * s.in_channels * s.in_height * s.in_width,
                          c_begin, c_end, iy_begin, iy_end, scratch);
    return;
  }
  if (s.stride_height == 1 && s.stride_width == 1) {
    CorrelateJob<T> direct = job;
    direct.planes = image_grad;
    direct.layout = {s.out_channels, 1, plan.out_height, plan.out_width};
    direct.unpadded = true;
    direct.pad_top = plan.source.top;
    direct.pad_left = plan.source.left;
    if (kernels.correlate_unpadded(direct, c_begin, c_end, iy_begin, iy_end)) return;
  }
  scratch.planes.resize(std::size_t(plan.layout.size()));
  prepare_planes(image_grad, plan.source, plan.layout, scratch.planes.data(), plan.first_row(iy_begin),
                 plan.end_row(iy_end));
  job.planes = scratch.planes.data();
  scratch.weight_workspace.resize(std::size_t(plan.weight_workspace_size()));
  job.weight_workspace = scratch.weight_workspace.data();
  kernels.correlate(job, c_begin, c_end, iy_begin, iy_end);
}

Index weight_grad_chunk_begin(Index batch, Index chunk) { return batch * chunk / kWeightGradChunks; }

Index weight_grad_partial_size(const ConvShape& s) { return s.weight_size() + s.out_channels; }

template <typename T>
void weight_grad_chunk(const ArchKernels<T>& kernels, const ForwardPlan& plan, const T* input,
                       const T* output_grad, Index chunk, bool with_bias, T* partial, Scratch<T>& scratch,
                       Index o_begin, Index o_end) {
  const ConvShape& s = plan.shape;
  const Index lanes = kernels.lanes;
  const Index weight_count = s.weight_size();
  const Index reduced = weight_count + (with_bias ? s.out_channels : 0);
  const Index filters = o_end - o_begin, filter_weights = s.reduction_length();
  scratch.lanes.resize(std::size_t(reduced * lanes));
  // Only this range's lane sums: [o][i][tap] for its filters, then its bias lanes.
  T* const weight_lanes = scratch.lanes.data() + o_begin * filter_weights * lanes;
  T* const bias_lanes = scratch.lanes.data() + (weight_count + o_begin) * lanes;
  std::fill(weight_lanes, weight_lanes + filters * filter_weights * lanes, T(0));
  if (with_bias) std::fill(bias_lanes, bias_lanes + filters * lanes, T(0));
  // The output gradient as the kernel reads it: one flat run per channel, or rows padded to dy_pitch.
  const PlaneLayout dy_layout{filters, 1, plan.grad_dy_height, plan.grad_dy_pitch};
  const Index dy_size = s.out_channels * plan.out_height * plan.out_width;
  const Index dy_range_offset = o_begin * plan.out_height * plan.out_width;
  const PlaneSource dy_source = plan.flat_weight_grad ? PlaneSource{1, plan.out_height * plan.out_width, 0, 0, 1, 1}
                                                      : PlaneSource{plan.out_height, plan.out_width, 0, 0, 1, 1};
  scratch.planes.resize(std::size_t(plan.grad_planes_size()));
  scratch.output_grad.resize(std::size_t(plan.grad_output_grad_size()));

  WeightGradJob<T> job;
  job.planes = scratch.planes.data();
  job.layout = plan.grad_layout;
  job.row_stride = s.stride_height;
  job.tap_offsets = plan.grad_tap_offsets.data();
  job.kernel_taps = s.kernel_height * s.kernel_width;
  job.out_channels = filters;
  job.out_height = plan.grad_dy_height;
  job.dy_pitch = plan.grad_dy_pitch;
  job.lanes = weight_lanes;
  job.bias_lanes = with_bias ? bias_lanes : nullptr;

  const Index image_size = s.in_channels * s.in_height * s.in_width;
  const Index end = weight_grad_chunk_begin(s.batch, chunk + 1);
  for (Index n = weight_grad_chunk_begin(s.batch, chunk); n < end; ++n) {
    if (n + 1 < end) {
      prefetch_image(input + (n + 1) * image_size, image_size);
      prefetch_image(output_grad + (n + 1) * dy_size, dy_size);
    }
    if (plan.flat_weight_grad) {
      prepare_shifted_copies(input + n * image_size, plan, scratch.planes.data());
    } else {
      prepare_planes(input + n * image_size, plan.source, plan.layout, scratch.planes.data(), 0, plan.layout.rows);
    }
    if (plan.copy_output_grad) {
      prepare_planes(output_grad + n * dy_size + dy_range_offset, dy_source, dy_layout, scratch.output_grad.data(),
                     0, dy_layout.rows);
      job.output_grad = scratch.output_grad.data();
    } else {
      job.output_grad = output_grad + n * dy_size + dy_range_offset;
    }
    kernels.weight_grad(job);
  }
  kernels.reduce_lanes(weight_lanes, filters * filter_weights, partial + o_begin * filter_weights);
  if (with_bias) kernels.reduce_lanes(bias_lanes, filters, partial + weight_count + o_begin);
}

template <typename T>
void sum_weight_grad_chunks(const ConvShape& s, const T* partials, T* weight_grad, T* bias_grad) {
  const Index stride = weight_grad_partial_size(s);
  const Index weight_count = s.weight_size();
  // Chunk by chunk over every element (each element's sum still runs in chunk order), skipping the chunks a
  // small batch leaves empty: the per-element loop over all chunks cost more than the products at batch 1.
  const auto add_chunks = [&](Index first, Index count, T* out) {
    std::fill(out, out + count, T(0));
    for (Index k = 0; k < kWeightGradChunks; ++k) {
      if (weight_grad_chunk_begin(s.batch, k) == weight_grad_chunk_begin(s.batch, k + 1)) continue;
      const T* chunk = partials + k * stride + first;
      for (Index e = 0; e < count; ++e) out[e] += chunk[e];
    }
  };
  add_chunks(0, weight_count, weight_grad);
  if (bias_grad) add_chunks(weight_count, s.out_channels, bias_grad);
}

#define CONVLAB_SIMD_INSTANTIATE(T)                                                                          \
  template void prepare_planes<T>(const T*, const PlaneSource&, const PlaneLayout&, T*, Index, Index);      \
  template void forward_image<T>(const ArchKernels<T>&, const ForwardPlan&, const T*, const T*, const T*, T*, \
                                 Index, Index, Index, Index, Index, Scratch<T>&);                          \
  template void backward_input_image<T>(const ArchKernels<T>&, const BackwardInputPlan&, const T*, const T*, \
                                        T*, Index, Index, Index, Index, Index, Scratch<T>&);                \
  template void weight_grad_chunk<T>(const ArchKernels<T>&, const ForwardPlan&, const T*, const T*, Index,  \
                                     bool, T*, Scratch<T>&, Index, Index);                                 \
  template void sum_weight_grad_chunks<T>(const ConvShape&, const T*, T*, T*);                             \
  template void BackwardInputPlan::pack_phase_weights<T>(const T*);
CONVLAB_SIMD_INSTANTIATE(float)
CONVLAB_SIMD_INSTANTIATE(double)
#undef CONVLAB_SIMD_INSTANTIATE

}  // namespace convlab::simd
