// The SIMD building blocks shared by impls/simd and impls/openmp: jobs on one image, run by the
// kernels of one arch (a table of function pointers per arch, each filled in its own translation unit).
//
// Every pass becomes a correlation over "planes": an image's channels copied (once per image) into a
// zero-padded scratch layout in which every vector load is in bounds and contiguous:
//   plane (channel i, column phase q) row r, column j  =  virtual image row r, column j*phases + q
// The virtual image is the zero-padded input (forward, weight gradient) or the zero-dilated, padded
// output gradient (input gradient). Splitting columns by phase turns a column stride s into s
// unit-stride planes, so output columns stay contiguous in registers whatever the stride.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"
#include "common/conv/conv_shape.hpp"
#include "impls/simd/simd_arch.hpp"

namespace convlab::simd {

// The input gradient's sliding kernel keeps blocks of these many output rows in registers, the tallest
// that fit first (the lecture's 28 rows are 4 x 7). Seven rows of two column vectors are 14 accumulators;
// eight (16 accumulators and the live broadcasts) spill. Every height from 1 to 7 would nearly double the
// instantiations, and the sanitizer build's compile time, for the remainders.
inline constexpr std::array<int, 4> kSlideBlockHeights{1, 2, 4, 7};

struct PlaneLayout {
  Index channels = 1, phases = 1, rows = 1, pitch = 1;
  Index plane_size() const { return rows * pitch; }
  Index channel_size() const { return phases * rows * pitch; }
  Index size() const { return channels * channel_size(); }
};

// Where a plane element comes from: virtual (r, c) is source ((r - top) / dilation_rows,
// (c - left) / dilation_cols) when both divide exactly and land inside the source, else zero.
struct PlaneSource {
  Index rows = 1, cols = 1;          // one source channel is rows x cols, dense
  Index top = 0, left = 0;
  Index dilation_rows = 1, dilation_cols = 1;
};

// Fills rows [row_begin, row_end) of every channel and phase of `planes` (layout.size() elements).
template <typename T>
void prepare_planes(const T* source, const PlaneSource& from, const PlaneLayout& layout, T* planes,
                    Index row_begin, Index row_end);

// out[o][y][x] = sum over i, then taps t = ky*kw + kx in increasing order, of
//   weight(o, i, t) * planes[i][tap phase][y*row_stride + tap row][x + tap shift]   (+ bias[o] last)
// where tap_offsets[t] = (phase*rows + tap row)*pitch + tap shift (flipped taps for the input gradient).
template <typename T>
struct CorrelateJob {
  const T* planes = nullptr;
  PlaneLayout layout;
  Index row_stride = 1;
  const Index* tap_offsets = nullptr;  // kernel_taps entries
  Index kernel_taps = 1;
  const T* weights = nullptr;          // weight(o, i, t) = weights[o*weight_out_stride + i*weight_in_stride + t]
  Index weight_out_stride = 0, weight_in_stride = 0;
  // Workspace of correlate_weight_elements(layout.channels, kernel_taps) elements, where correlate copies each
  // block of out channels' weights tap-major, [i][t][o]: the kernel finds a tap's weights at one pointer plus
  // constants.
  T* weight_workspace = nullptr;
  const T* bias = nullptr;             // may be null
  T* output = nullptr;                 // one image: [out channel][out_height][out_width]
  Index out_height = 1, out_width = 1;
  bool stream_stores = false;          // write whole aligned lines with non-temporal stores where possible
  // > 0: the taps form a kh x kw grid read with flipped rows, tap_offsets[ky*kw + kx] = (kh-1-ky)*pitch +
  // shift(kx), with row_stride 1 and one phase (the input gradient). Lets the kernel slide down the rows
  // and feed each loaded vector to every output row it reaches, not just one.
  Index flipped_kernel_height = 0;
  // correlate_unpadded: `planes` is the output gradient itself (layout {out channels, 1, its height, its
  // width}); virtual row r, column c is element (r - pad_top, c - pad_left), zero outside.
  bool unpadded = false;
  Index pad_top = 0, pad_left = 0;
};

// Weight-gradient accumulation for one image, kept per SIMD lane so the order of a lane's sum is fixed:
//   lanes[o][i][t][l] += sum over y, column vectors v of dy[o][y][v*L + l] * planes[i][...][y*row_stride
//   + tap row][v*L + l + tap shift];   bias_lanes[o][l] += sum over y, v of dy[o][y][v*L + l]
// dy is prepared as planes too, with pitch a multiple of the lane count L and zeros past out_width.
template <typename T>
struct WeightGradJob {
  const T* planes = nullptr;
  PlaneLayout layout;
  Index row_stride = 1;
  const Index* tap_offsets = nullptr;
  Index kernel_taps = 1;
  const T* output_grad = nullptr;      // [out channel][out_height][dy_pitch]
  Index out_channels = 1, out_height = 1, dy_pitch = 1;
  T* lanes = nullptr;                  // out_channels * layout.channels * kernel_taps * L
  T* bias_lanes = nullptr;             // out_channels * L, or null
};

// The most out channels one correlation block holds (AVX-512's 24 accumulators as 12 channels x 2 vectors).
constexpr Index kMaxCorrelateChannels = 12;
constexpr Index correlate_weight_elements(Index channels, Index taps) {
  return kMaxCorrelateChannels * channels * taps;
}

template <typename T>
struct ArchKernels {
  // Computes out channels [o_begin, o_end) and rows [y_begin, y_end) of job.output.
  void (*correlate)(const CorrelateJob<T>& job, Index o_begin, Index o_end, Index y_begin, Index y_end);
  // The same for a job with `unpadded` set; returns false, doing nothing, where the arch or shape cannot.
  bool (*correlate_unpadded)(const CorrelateJob<T>& job, Index o_begin, Index o_end, Index y_begin, Index y_end);
  void (*weight_grad)(const WeightGradJob<T>& job);
  // out[e] = horizontal sum of lanes[e*L .. e*L + L) for e < count.
  void (*reduce_lanes)(const T* lanes, Index count, T* out);
  Index lanes;  // L: elements per vector
};

struct KernelTable {
  Arch arch;
  const char* build_flags;  // the flags its translation unit was compiled with
  bool fused_multiply_add;  // the kernels' a * b + c is one instruction (one rounding), not a multiply and an add
  ArchKernels<float> f32;
  ArchKernels<double> f64;
  template <typename T>
  const ArchKernels<T>& get() const {
    if constexpr (sizeof(T) == sizeof(float)) return f32; else return f64;
  }
};

// Defined one per arch translation unit.
const KernelTable& kernel_table_sse2();
const KernelTable& kernel_table_avx2();
const KernelTable& kernel_table_avx512f();
const KernelTable& kernel_table(Arch arch);

// ---- Per-call plans: how a ConvShape maps onto planes, and the per-image steps built from them. ----

// Scratch one thread of control needs (reused across calls; grows, never shrinks).
template <typename T>
struct Scratch {
  AlignedBuffer<T> planes;       // one image's prepared input (or output-gradient) planes
  AlignedBuffer<T> weight_workspace;  // CorrelateJob::weight_workspace
  AlignedBuffer<T> output_grad;  // one image's lane-padded output gradient (weight gradient)
  AlignedBuffer<T> lanes;        // weight-gradient lane partials
  AlignedBuffer<T> phase_output; // strided input gradient: one stride phase's pixels of every channel
};

// Forward (and the input side of the weight gradient): planes of the padded input.
struct ForwardPlan {
  ConvShape shape;
  Index out_height = 1, out_width = 1;
  bool direct = false;           // input read in place (no padding, unit column stride, wide rows)
  PlaneSource source;
  PlaneLayout layout;
  std::vector<Index> tap_offsets;
  Index dy_pitch = 1;            // weight gradient: output-gradient row pitch (multiple of the lanes)
  Index lanes = 1;
  // An output too big to stay in cache (> 8 MiB, a quarter of L3) is written with non-temporal stores
  // where the kernel can fill whole cache lines (paired row tails): the lecture layer's output, 46 KB
  // per image, is the one big memory stream of the forward pass, and this halves its traffic.
  bool stream_output = false;
  // The weight gradient's planes. With stride 1 it treats each output-gradient channel as one flat run of
  // out_height*out_width values (no row padding: the lecture's 24x24 = 36 full vectors, where rows padded
  // to 32 waste a quarter of every lane) against kw column-shifted copies of the padded input with rows
  // out_width long, in which tap (ky, kx) of flat position k sits at copy kx, position ky*out_width + k.
  // Otherwise it uses the forward pass's planes and the output gradient in rows of dy_pitch.
  bool flat_weight_grad = false;
  PlaneLayout grad_layout;
  std::vector<Index> grad_tap_offsets;
  Index grad_dy_height = 1, grad_dy_pitch = 1;  // rows and pitch of the output gradient as the kernel reads it
  bool copy_output_grad = true;                 // false: the flat run is a whole number of vectors, read in place
  Index grad_planes_size() const { return grad_layout.size(); }
  Index grad_output_grad_size() const {
    return copy_output_grad ? shape.out_channels * grad_dy_height * grad_dy_pitch : 0;
  }
  // CorrelateJob::weight_workspace of the forward pass.
  Index weight_workspace_size() const {
    return correlate_weight_elements(shape.in_channels, shape.kernel_height * shape.kernel_width);
  }
  ForwardPlan(const ConvShape& shape, Index lanes, bool allow_direct);
  // Plane rows that output rows [y_begin, y_end) read.
  Index first_row(Index y_begin) const { return y_begin * shape.stride_height; }
  Index end_row(Index y_end) const { return (y_end - 1) * shape.stride_height + shape.kernel_height; }
};

// Input gradient. Stride 1: planes of the padded output gradient, read with flipped taps. Strided:
// polyphase. Input pixels whose (row + pad) mod stride and (column + pad) mod stride agree form a phase;
// they see the same window taps, and consecutive pixels of a phase read consecutive output-gradient
// pixels. So each of the sh*sw phases is a stride-1 correlation, over only its own taps, of the output
// gradient with a zero border (planes with one phase), written to a phase buffer and then to its pixels
// of dx: no products with the zeros a dilated output gradient would hold (3/4 of them at stride 2).
struct BackwardInputPlan {
  ConvShape shape;
  Index out_height = 1, out_width = 1;  // of the forward pass (the dy planes' source)
  PlaneSource source;
  PlaneLayout layout;
  std::vector<Index> tap_offsets;
  bool polyphase = false;
  struct Phase {
    Index first_row = 0, first_col = 0;  // its first input pixel; the others are stride steps apart
    Index rows = 0, cols = 0;            // its pixels
    Index tap_begin = 0, taps = 0;       // its taps in tap_offsets (naive's order: window row, column)
    Index weight_begin = 0;              // its weights: [in channel][out channel][tap]
  };
  std::vector<Phase> phases;
  Index phase_output_size = 0;  // in channels x the largest phase
  // CorrelateJob::weight_workspace of the input gradient (every phase's taps fit the whole window's).
  Index weight_workspace_size() const {
    return correlate_weight_elements(shape.out_channels, shape.kernel_height * shape.kernel_width);
  }
  BackwardInputPlan(const ConvShape& shape, Index lanes);
  Index first_row(Index iy_begin) const { return iy_begin; }
  Index end_row(Index iy_end) const { return iy_end - 1 + shape.kernel_height; }
  // Strided: the weights in each phase's order, once per call before any image (not thread-safe).
  template <typename T>
  void pack_phase_weights(const T* weights);
  template <typename T>
  const T* phase_weights() const {
    if constexpr (sizeof(T) == sizeof(float)) return phase_weights_f32.data(); else return phase_weights_f64.data();
  }

 private:
  AlignedBuffer<float> phase_weights_f32;
  AlignedBuffer<double> phase_weights_f64;
};

// y for image n, out channels [o_begin, o_end), rows [y_begin, y_end).
template <typename T>
void forward_image(const ArchKernels<T>& kernels, const ForwardPlan& plan, const T* input, const T* weights,
                   const T* bias, T* output, Index n, Index o_begin, Index o_end, Index y_begin, Index y_end,
                   Scratch<T>& scratch);

// dx for image n, in channels [c_begin, c_end), rows [iy_begin, iy_end).
template <typename T>
void backward_input_image(const ArchKernels<T>& kernels, const BackwardInputPlan& plan, const T* output_grad,
                          const T* weights, T* input_grad, Index n, Index c_begin, Index c_end, Index iy_begin,
                          Index iy_end, Scratch<T>& scratch);

// Weight and bias gradients are summed over the batch in kWeightGradChunks fixed chunks (independent of
// any thread count); chunk k covers images [N*k/K, N*(k+1)/K). weight_grad_chunk writes chunk k's
// partial sums (weight_size() values, then out_channels bias values when with_bias) for out channels
// [o_begin, o_end), and sum_weight_grad_chunks adds the partials in chunk order. impls/simd runs the chunks one
// after another, impls/openmp in parallel, and a chunk's filters in parts on several threads when there are
// fewer chunks than threads (a batch of one): each sum runs in the same order whatever the range, so all get
// bitwise the same result.
inline constexpr Index kWeightGradChunks = 16;
Index weight_grad_chunk_begin(Index batch, Index chunk);
Index weight_grad_partial_size(const ConvShape& shape);  // weights + biases of one chunk

template <typename T>
void weight_grad_chunk(const ArchKernels<T>& kernels, const ForwardPlan& plan, const T* input,
                       const T* output_grad, Index chunk, bool with_bias, T* partial, Scratch<T>& scratch,
                       Index o_begin, Index o_end);

template <typename T>
void sum_weight_grad_chunks(const ConvShape& shape, const T* partials, T* weight_grad, T* bias_grad);

}  // namespace convlab::simd
