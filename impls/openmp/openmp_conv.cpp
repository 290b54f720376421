// openmp: tiles of the simd kernels spread over threads (see openmp_conv.hpp), and the registry entry.
#include "impls/openmp/openmp_conv.hpp"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <string>

#include "common/conv/conv_registry.hpp"
#include "common/machine/parallel_for.hpp"
#include "impls/simd/simd_conv.hpp"

namespace convlab {
namespace openmp {

namespace {
constexpr Index kTileWeightBytes = Index(16) << 10;
constexpr Index kTileBandBytes = Index(256) << 10;
constexpr double kTileFlops = 4e6;
// Two tiles a thread leave room to even out a thread that the machine slows; more cuts a small image into thin
// row tiles, each preparing the window's halo rows again (docs/performance.md has the A/B).
constexpr Index kMinTilesPerThread = 2;
// The least work worth a tile of its own when a small batch is cut into more tiles than whole images give.
constexpr double kMinTileFlops = 0.5e6;
// Below this much work a parallel region costs more than it saves (a few microseconds when both cores
// are free, whole scheduler time slices when the shared machine preempts a spinning thread). Calls just
// above it gain from the second thread only because each thread packs and prepares its own copies.
constexpr double kMinParallelFlops = 2.5e6;
// A strided input gradient of the column-vector kernels is cut into bands of rows only from this much work an
// image: each band runs every stride phase's setup and scatters its rows, and an image of a few MFLOP
// (s3_3x3_35x53: 3.2) ran slower on two threads that way than whole on one.
constexpr double kMinPolyphaseSplitFlops = 16e6;
// A weight gradient whose batch is smaller than the thread count shares each image's filters out from here.
constexpr double kMinFilterSplitFlops = 0.3e6;

const simd::KernelTable& checked_table(simd::Arch arch) {
  if (!simd::arch_available(arch)) {
    throw simd::ArchError("impls/openmp: arch " + std::string(simd::arch_name(arch)) +
                          " requested but this CPU lacks it");
  }
  return simd::kernel_table(arch);
}

Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

// Runs body(n, c0, c1, r0, r1, scratch) over every tile. Each thread takes its own share of the tiles first
// (Schedule::shares), the same tiles as in the last call: the output lines a tile writes are then still in
// that core's cache, not the other core's, whose copy would have to be fetched and invalidated first.
template <typename T, typename Body>
void for_each_tile(const Tiling& t, Index batch, Index channels, Index rows, double flops,
                   std::vector<simd::Scratch<T>>& scratch, const Body& body) {
  const int threads = flops >= kMinParallelFlops ? available_threads() : 1;
  parallel_for(t.count(), threads, Schedule::shares, [&](Index tile, Index thread) {
    const Index row_tile = tile % t.row_tiles;
    const Index channel_tile = (tile / t.row_tiles) % t.channel_tiles;
    const Index image_tile = tile / (t.row_tiles * t.channel_tiles);
    const Index c0 = channel_tile * t.channels, c1 = std::min(channels, c0 + t.channels);
    const Index r0 = row_tile * t.rows, r1 = std::min(rows, r0 + t.rows);
    const Index n1 = t.first_image(batch, image_tile + 1);
    simd::Scratch<T>& mine = scratch[std::size_t(thread)];
    for (Index n = t.first_image(batch, image_tile); n < n1; ++n) body(n, c0, c1, r0, r1, mine);
  });
}
}  // namespace

Tiling choose_tiling(Index batch, Index channels, Index rows, Index weight_bytes_per_channel,
                     Index band_bytes_per_row, Index band_bytes_fixed, double flops_per_image, int threads,
                     bool split_small_batch) {
  Tiling t;
  t.channels = std::clamp<Index>(kTileWeightBytes / std::max<Index>(weight_bytes_per_channel, 1), 1, channels);
  t.rows = std::clamp<Index>((kTileBandBytes - band_bytes_fixed) / std::max<Index>(band_bytes_per_row, 1), 1, rows);
  const double tile_fraction = double(t.channels) / double(channels) * double(t.rows) / double(rows);
  const Index by_work = Index(kTileFlops / std::max(flops_per_image * tile_fraction, 1.0)) + 1;
  t.channel_tiles = ceil_div(channels, t.channels);
  t.row_tiles = ceil_div(rows, t.rows);
  // A batch of fewer images than the threads want tiles (batch 1 above all): rows cut finer, so that a layer
  // whose whole image fits one band still reaches every thread; never below kMinTileFlops a tile, whose rows
  // and their window's halo each tile prepares again.
  const double batch_flops = flops_per_image * double(batch);
  const Index wanted = std::min<Index>(kMinTilesPerThread * std::max(threads, 1), Index(batch_flops / kMinTileFlops));
  if (split_small_batch && batch * t.channel_tiles * t.row_tiles < wanted) {
    const Index row_tiles = std::min(rows, ceil_div(wanted, batch * t.channel_tiles));
    t.rows = std::min(t.rows, ceil_div(rows, row_tiles));
    t.row_tiles = ceil_div(rows, t.rows);
  }
  const Index spatial_tiles = t.channel_tiles * t.row_tiles;
  const Index by_balance = std::max<Index>(1, batch * spatial_tiles / (kMinTilesPerThread * std::max(threads, 1)));
  t.images = std::clamp<Index>(std::min(by_work, by_balance), 1, batch);
  const Index whole_rounds = ceil_div(ceil_div(batch, t.images), std::max(threads, 1));
  t.image_tiles = std::min(batch, whole_rounds * std::max(threads, 1));
  t.images = ceil_div(batch, t.image_tiles);
  return t;
}

OpenmpConv::OpenmpConv() : OpenmpConv(simd::selected_arch()) {}
OpenmpConv::OpenmpConv(simd::Arch arch) : kernels_(&checked_table(arch)), blocked_(&simd::blocked_table(arch)) {}

template <typename T>
simd::BlockedScratch<T>& OpenmpConv::blocked_scratch() {
  if constexpr (sizeof(T) == sizeof(float)) return blocked_f32_; else return blocked_f64_;
}

namespace {
// The channel-blocked passes cut their work into units of ~this many flops before using threads.
int blocked_threads(double flops) { return flops >= kMinParallelFlops ? available_threads() : 1; }
// Whether the planes family's tiles are worth cutting: with one thread (or too little work to share) the
// tiling only adds per-tile preparation, so the pass runs impls/simd's whole-image loop instead.
bool use_threads(double flops) { return blocked_threads(flops) > 1; }
}  // namespace

template <typename T>
std::vector<simd::Scratch<T>>& OpenmpConv::thread_scratch() {
  auto& scratch = [&]() -> std::vector<simd::Scratch<T>>& {
    if constexpr (sizeof(T) == sizeof(float)) return scratch_f32_; else return scratch_f64_;
  }();
  const auto threads = std::size_t(std::max(omp_get_max_threads(), 1));
  if (scratch.size() < threads) scratch.resize(threads);
  return scratch;
}

template <typename T>
AlignedBuffer<T>& OpenmpConv::partials() {
  if constexpr (sizeof(T) == sizeof(float)) return partials_f32_; else return partials_f64_;
}

template <typename T>
void OpenmpConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  const simd::ArchKernels<T>& kernels = kernels_->get<T>();
  if (simd::choose_kernel_family(s, ConvPass::forward, kernels.lanes) == simd::KernelFamily::blocked) {
    simd::blocked_forward(blocked_->get<T>(), s, input, weights, bias, output, blocked_scratch<T>(),
                          blocked_threads(s.forward_flops()));
    return;
  }
  const simd::ForwardPlan plan(s, kernels.lanes, true);
  auto& scratch = thread_scratch<T>();
  if (!use_threads(s.forward_flops())) {  // impls/simd's loop: whole images, nothing to share
    for (Index n = 0; n < s.batch; ++n)
      simd::forward_image(kernels, plan, input, weights, bias, output, n, 0, s.out_channels, 0, plan.out_height,
                          scratch[0]);
    return;
  }
  for (auto& each : scratch) {  // no allocation in threads
    each.planes.resize(std::size_t(plan.layout.size()));
    each.weight_workspace.resize(std::size_t(plan.weight_workspace_size()));
  }
  const Index row_bytes = s.stride_height * plan.layout.pitch * plan.layout.phases * s.in_channels * Index(sizeof(T));
  const Index fixed_bytes = (s.kernel_height - 1) * (row_bytes / std::max<Index>(s.stride_height, 1));
  const Tiling t = choose_tiling(s.batch, s.out_channels, plan.out_height,
                                 s.in_channels * s.kernel_height * s.kernel_width * Index(sizeof(T)), row_bytes,
                                 fixed_bytes, s.forward_flops() / double(s.batch), available_threads());
  for_each_tile<T>(t, s.batch, s.out_channels, plan.out_height, s.forward_flops(), scratch,
                   [&](Index n, Index o0, Index o1, Index y0, Index y1, simd::Scratch<T>& mine) {
                     simd::forward_image(kernels, plan, input, weights, bias, output, n, o0, o1, y0, y1, mine);
                   });
}

template <typename T>
void OpenmpConv::prepare_held_typed(const ConvShape& s, const T* weights, const T* bias) {
  simd::BlockedScratch<T>& scratch = blocked_scratch<T>();
  scratch.held_packed = scratch.held_input_packed = false;  // the input gradient's: at its first held call
  if (simd::choose_kernel_family(s, ConvPass::forward, kernels_->get<T>().lanes) == simd::KernelFamily::blocked) {
    simd::blocked_hold_forward_weights(blocked_->get<T>(), s, weights, bias, scratch, blocked_threads(s.forward_flops()));
    scratch.held_packed = true;
  }
}

template <typename T>
void OpenmpConv::forward_held_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  simd::BlockedScratch<T>& scratch = blocked_scratch<T>();
  // The family is chosen again: a forced family (tests, CONVLAB_SIMD_KERNELS) may have changed since the hold.
  if (scratch.held_packed && simd::choose_kernel_family(s, ConvPass::forward, kernels_->get<T>().lanes) == simd::KernelFamily::blocked) {
    simd::blocked_forward(blocked_->get<T>(), s, input, weights, bias, output, scratch, blocked_threads(s.forward_flops()), scratch.held.data());
    return;
  }
  forward_typed(s, input, weights, bias, output);
}

template <typename T>
void OpenmpConv::backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  simd::BlockedScratch<T>& scratch = blocked_scratch<T>();
  if (simd::choose_kernel_family(s, ConvPass::backward_input, kernels_->get<T>().lanes) ==
      simd::KernelFamily::blocked) {
    if (!scratch.held_input_packed) {
      simd::blocked_hold_input_weights(blocked_->get<T>(), s, weights, scratch, blocked_threads(s.backward_input_flops()));
      scratch.held_input_packed = true;
    }
    simd::blocked_backward_input(blocked_->get<T>(), s, output_grad, weights, input_grad, scratch, blocked_threads(s.backward_input_flops()), scratch.held_input.data());
    return;
  }
  backward_input_typed(s, output_grad, weights, input_grad);
}

template <typename T>
void OpenmpConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  const simd::ArchKernels<T>& kernels = kernels_->get<T>();
  if (simd::choose_kernel_family(s, ConvPass::backward_input, kernels.lanes) == simd::KernelFamily::blocked) {
    simd::blocked_backward_input(blocked_->get<T>(), s, output_grad, weights, input_grad, blocked_scratch<T>(),
                                 blocked_threads(s.backward_input_flops()));
    return;
  }
  simd::BackwardInputPlan plan(s, kernels.lanes);
  plan.pack_phase_weights(weights);
  auto& scratch = thread_scratch<T>();
  if (!use_threads(s.backward_input_flops())) {  // impls/simd's loop: whole images, nothing to share
    for (Index n = 0; n < s.batch; ++n)
      simd::backward_input_image(kernels, plan, output_grad, weights, input_grad, n, 0, s.in_channels, 0, s.in_height,
                                 scratch[0]);
    return;
  }
  for (auto& each : scratch) {
    each.planes.resize(std::size_t(plan.layout.size()));
    each.phase_output.resize(std::size_t(plan.phase_output_size));
    each.weight_workspace.resize(std::size_t(plan.weight_workspace_size()));
  }
  const Index row_bytes = plan.layout.pitch * s.out_channels * Index(sizeof(T));
  // Strided (polyphase) tiles are whole images, except where the batch is too small to share (batch 1) and an
  // image is work enough: then bands of rows, each tile preparing the output-gradient rows its band reads.
  const double image_flops = s.backward_input_flops() / double(s.batch);
  const Tiling t = plan.polyphase
                       ? choose_tiling(s.batch, s.in_channels, s.in_height, 1, 1, 0, image_flops, available_threads(),
                                       image_flops >= kMinPolyphaseSplitFlops)
                       : choose_tiling(s.batch, s.in_channels, s.in_height,
                                       s.out_channels * s.kernel_height * s.kernel_width * Index(sizeof(T)), row_bytes,
                                       (s.kernel_height - 1) * row_bytes, s.backward_input_flops() / double(s.batch),
                                       available_threads());
  for_each_tile<T>(t, s.batch, s.in_channels, s.in_height, s.backward_input_flops(), scratch,
                   [&](Index n, Index c0, Index c1, Index y0, Index y1, simd::Scratch<T>& mine) {
                     simd::backward_input_image(kernels, plan, output_grad, weights, input_grad, n, c0, c1, y0, y1,
                                                mine);
                   });
}

template <typename T>
void OpenmpConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                        T* bias_grad) {
  const simd::ArchKernels<T>& kernels = kernels_->get<T>();
  if (simd::choose_kernel_family(s, ConvPass::backward_weights, kernels.lanes) == simd::KernelFamily::blocked) {
    simd::blocked_backward_weights(blocked_->get<T>(), s, input, output_grad, weight_grad, bias_grad,
                                   blocked_scratch<T>(), blocked_threads(s.backward_weights_flops()));
    return;
  }
  const simd::ForwardPlan plan(s, kernels.lanes, false);
  auto& scratch = thread_scratch<T>();
  const Index lane_values = simd::weight_grad_partial_size(s) * kernels.lanes;
  for (auto& each : scratch) {
    each.planes.resize(std::size_t(plan.grad_planes_size()));
    each.output_grad.resize(std::size_t(plan.grad_output_grad_size()));
    each.lanes.resize(std::size_t(lane_values));
  }
  const Index stride = simd::weight_grad_partial_size(s);
  AlignedBuffer<T>& sums = partials<T>();
  sums.resize(std::size_t(simd::kWeightGradChunks * stride));
  T* const partial = sums.data();
  // Only the chunks with images are handed out. With fewer chunks than threads (a batch of one is one chunk)
  // each chunk's filters are cut into parts, one per thread: every thread prepares the image's planes, but
  // the products, most of the work, are shared.
  Index filled[simd::kWeightGradChunks], count = 0;
  for (Index k = 0; k < simd::kWeightGradChunks; ++k)
    if (simd::weight_grad_chunk_begin(s.batch, k) < simd::weight_grad_chunk_begin(s.batch, k + 1)) filled[count++] = k;
  const double flops = s.backward_weights_flops();
  const int threads = flops >= kMinFilterSplitFlops ? available_threads() : 1;
  const Index parts = count < threads ? std::min<Index>(threads / count, s.out_channels) : 1;
  const int team = parts > 1 ? threads : blocked_threads(flops);
  parallel_for(count * parts, team, parts > 1 ? Schedule::even : Schedule::shares, [&](Index unit, Index thread) {
    const Index i = unit / parts, part = unit % parts;
    simd::weight_grad_chunk(kernels, plan, input, output_grad, filled[i], bias_grad != nullptr,
                            partial + filled[i] * stride, scratch[std::size_t(thread)],
                            s.out_channels * part / parts, s.out_channels * (part + 1) / parts);
  });
  simd::sum_weight_grad_chunks(s, partial, weight_grad, bias_grad);
}

ConvImpl::HeldPacking OpenmpConv::held_packing(const ConvShape& s) const {
  // Held weights are packed for the passes that run the blocked kernels (float and double alike).
  const Index lanes = kernels_->f32.lanes;
  return {simd::choose_kernel_family(s, ConvPass::forward, lanes) == simd::KernelFamily::blocked,
          simd::choose_kernel_family(s, ConvPass::backward_input, lanes) == simd::KernelFamily::blocked};
}

std::size_t OpenmpConv::workspace_bytes(const ConvShape& s, std::size_t element_size) const {
  // Only the family each pass runs counts (see SimdConv::workspace_bytes); the planes family's buffers are
  // per thread, its weight-gradient chunk sums shared.
  const Index lanes = element_size == sizeof(float) ? kernels_->f32.lanes : kernels_->f64.lanes;
  const auto planes = [&](ConvPass pass) {
    return simd::choose_kernel_family(s, pass, lanes) == simd::KernelFamily::planes;
  };
  Index per_thread = 0, shared = 0;
  if (planes(ConvPass::forward)) {
    const simd::ForwardPlan forward(s, lanes, true);
    per_thread = std::max(per_thread, forward.layout.size() + forward.weight_workspace_size());
  }
  if (planes(ConvPass::backward_input)) {
    const simd::BackwardInputPlan backward(s, lanes);
    per_thread = std::max(per_thread, backward.layout.size() + backward.phase_output_size +
                                          backward.weight_workspace_size());
  }
  if (planes(ConvPass::backward_weights)) {
    const simd::ForwardPlan forward(s, lanes, false);
    per_thread = std::max(per_thread, forward.grad_planes_size() + forward.grad_output_grad_size() +
                                          simd::weight_grad_partial_size(s) * lanes);
    shared = simd::kWeightGradChunks * simd::weight_grad_partial_size(s);
  }
  const bool any_blocked = !(planes(ConvPass::forward) && planes(ConvPass::backward_input) &&
                             planes(ConvPass::backward_weights));
  return std::max(std::size_t(per_thread * std::max(omp_get_max_threads(), 1) + shared) * element_size,
                  any_blocked ? simd::blocked_workspace_bytes(s, *blocked_, element_size, omp_get_max_threads())
                              : std::size_t(0));
}

template void OpenmpConv::prepare_held_typed<float>(const ConvShape&, const float*, const float*);
template void OpenmpConv::prepare_held_typed<double>(const ConvShape&, const double*, const double*);
template void OpenmpConv::forward_held_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void OpenmpConv::forward_held_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                                 double*);
template void OpenmpConv::backward_input_held_typed<float>(const ConvShape&, const float*, const float*, float*);
template void OpenmpConv::backward_input_held_typed<double>(const ConvShape&, const double*, const double*, double*);
template void OpenmpConv::forward_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void OpenmpConv::forward_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                                double*);
template void OpenmpConv::backward_input_typed<float>(const ConvShape&, const float*, const float*, float*);
template void OpenmpConv::backward_input_typed<double>(const ConvShape&, const double*, const double*, double*);
template void OpenmpConv::backward_weights_typed<float>(const ConvShape&, const float*, const float*, float*,
                                                        float*);
template void OpenmpConv::backward_weights_typed<double>(const ConvShape&, const double*, const double*, double*,
                                                         double*);

}  // namespace openmp

ConvImplInfo openmp_conv_info() {
  std::string arch, flags;
  ConvImplInfo::ReferenceOrder order;
  try {
    const simd::KernelTable& table = simd::kernel_table(simd::selected_arch());
    arch = std::string(simd::arch_name(table.arch));
    flags = table.build_flags;
    // The correlation kernel sums every output of the forward pass and the input gradient in naive's
    // order (simd_kernels.hpp): bitwise naive's whenever both round each term alike.
    order.forward = order.backward_input = simd::rounds_like_naive(table);
  } catch (const std::exception& error) {
    arch = std::string("unusable: ") + error.what();
    flags = CONVLAB_IMPL_BUILD_FLAGS;
  }
  return {.name = "openmp",
          .summary = "OpenMP-tiled: simd's kernels over cache-sized image x channel x row tiles on all cores (runs " +
                     arch + ")",
          .build_flags = flags,
          .uses_threads = true,
          .make = [] { return std::make_unique<openmp::OpenmpConv>(); },
          .reference_order = order};
}

}  // namespace convlab
