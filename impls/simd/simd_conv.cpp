// simd: the batch loops over the per-image steps of simd_kernels.hpp, and the registry entry.
#include "impls/simd/simd_conv.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "common/conv/conv_registry.hpp"
#include "impls/naive/naive_conv.hpp"

namespace convlab {
namespace simd {

namespace {
const KernelTable& checked_table(Arch arch) {
  if (!arch_available(arch)) {
    throw ArchError("impls/simd: arch " + std::string(arch_name(arch)) + " requested but this CPU lacks it");
  }
  return kernel_table(arch);
}
}  // namespace

SimdConv::SimdConv() : SimdConv(selected_arch()) {}
SimdConv::SimdConv(Arch arch) : kernels_(&checked_table(arch)), blocked_(&blocked_table(arch)) {}

template <typename T>
Scratch<T>& SimdConv::scratch() {
  if constexpr (sizeof(T) == sizeof(float)) return scratch_f32_; else return scratch_f64_;
}

template <typename T>
BlockedScratch<T>& SimdConv::blocked_scratch() {
  if constexpr (sizeof(T) == sizeof(float)) return blocked_f32_; else return blocked_f64_;
}

template <typename T>
void SimdConv::forward_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  const ArchKernels<T>& kernels = kernels_->get<T>();
  if (choose_kernel_family(s, ConvPass::forward, kernels.lanes) == KernelFamily::blocked) {
    blocked_forward(blocked_->get<T>(), s, input, weights, bias, output, blocked_scratch<T>(), 1);
    return;
  }
  const ForwardPlan plan(s, kernels.lanes, true);
  for (Index n = 0; n < s.batch; ++n) {
    forward_image(kernels, plan, input, weights, bias, output, n, 0, s.out_channels, 0, plan.out_height, scratch<T>());
  }
}

template <typename T>
void SimdConv::prepare_held_typed(const ConvShape& s, const T* weights, const T* bias) {
  BlockedScratch<T>& scratch = blocked_scratch<T>();
  scratch.held_packed = scratch.held_input_packed = false;  // the input gradient's: at its first held call
  if (choose_kernel_family(s, ConvPass::forward, kernels_->get<T>().lanes) == KernelFamily::blocked) {
    blocked_hold_forward_weights(blocked_->get<T>(), s, weights, bias, scratch, 1);
    scratch.held_packed = true;
  }
}

template <typename T>
void SimdConv::forward_held_typed(const ConvShape& s, const T* input, const T* weights, const T* bias, T* output) {
  BlockedScratch<T>& scratch = blocked_scratch<T>();
  // The family is chosen again: a forced family (tests, CONVLAB_SIMD_KERNELS) may have changed since the hold.
  if (scratch.held_packed && choose_kernel_family(s, ConvPass::forward, kernels_->get<T>().lanes) == KernelFamily::blocked) {
    blocked_forward(blocked_->get<T>(), s, input, weights, bias, output, scratch, 1, scratch.held.data());
    return;
  }
  forward_typed(s, input, weights, bias, output);
}

template <typename T>
void SimdConv::backward_input_held_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  BlockedScratch<T>& scratch = blocked_scratch<T>();
  if (choose_kernel_family(s, ConvPass::backward_input, kernels_->get<T>().lanes) == KernelFamily::blocked) {
    if (!scratch.held_input_packed) {
      blocked_hold_input_weights(blocked_->get<T>(), s, weights, scratch, 1);
      scratch.held_input_packed = true;
    }
    blocked_backward_input(blocked_->get<T>(), s, output_grad, weights, input_grad, scratch, 1, scratch.held_input.data());
    return;
  }
  backward_input_typed(s, output_grad, weights, input_grad);
}

template <typename T>
void SimdConv::backward_input_typed(const ConvShape& s, const T* output_grad, const T* weights, T* input_grad) {
  const ArchKernels<T>& kernels = kernels_->get<T>();
  if (choose_kernel_family(s, ConvPass::backward_input, kernels.lanes) == KernelFamily::blocked) {
    blocked_backward_input(blocked_->get<T>(), s, output_grad, weights, input_grad, blocked_scratch<T>(), 1);
    return;
  }
  BackwardInputPlan plan(s, kernels.lanes);
  plan.pack_phase_weights(weights);
  for (Index n = 0; n < s.batch; ++n) {
    backward_input_image(kernels, plan, output_grad, weights, input_grad, n, 0, s.in_channels, 0, s.in_height,
                         scratch<T>());
  }
}

template <typename T>
void SimdConv::backward_weights_typed(const ConvShape& s, const T* input, const T* output_grad, T* weight_grad,
                                      T* bias_grad) {
  const ArchKernels<T>& kernels = kernels_->get<T>();
  if (choose_kernel_family(s, ConvPass::backward_weights, kernels.lanes) == KernelFamily::blocked) {
    blocked_backward_weights(blocked_->get<T>(), s, input, output_grad, weight_grad, bias_grad, blocked_scratch<T>(),
                             1);
    return;
  }
  const ForwardPlan plan(s, kernels.lanes, false);
  const Index stride = weight_grad_partial_size(s);
  AlignedBuffer<T>& partials = [&]() -> AlignedBuffer<T>& {
    if constexpr (sizeof(T) == sizeof(float)) return partials_f32_; else return partials_f64_;
  }();
  partials.resize(std::size_t(kWeightGradChunks * stride));
  for (Index k = 0; k < kWeightGradChunks; ++k) {
    if (weight_grad_chunk_begin(s.batch, k) == weight_grad_chunk_begin(s.batch, k + 1)) continue;
    weight_grad_chunk(kernels, plan, input, output_grad, k, bias_grad != nullptr, partials.data() + k * stride,
                      scratch<T>(), 0, s.out_channels);
  }
  sum_weight_grad_chunks(s, partials.data(), weight_grad, bias_grad);
}

ConvImpl::HeldPacking SimdConv::held_packing(const ConvShape& s) const {
  // Held weights are packed for the passes that run the blocked kernels (float and double alike).
  const Index lanes = kernels_->f32.lanes;
  return {choose_kernel_family(s, ConvPass::forward, lanes) == KernelFamily::blocked,
          choose_kernel_family(s, ConvPass::backward_input, lanes) == KernelFamily::blocked};
}

std::size_t SimdConv::workspace_bytes(const ConvShape& s, std::size_t element_size) const {
  // Only the family each pass runs counts (the planes weight gradient of a wide layer would need hundreds of
  // MiB of per-lane sums that the blocked one, chosen there, never allocates).
  const Index lanes = element_size == sizeof(float) ? kernels_->f32.lanes : kernels_->f64.lanes;
  const auto planes = [&](ConvPass pass) { return choose_kernel_family(s, pass, lanes) == KernelFamily::planes; };
  Index elements = 0;
  if (planes(ConvPass::forward)) {
    const ForwardPlan forward(s, lanes, true);
    elements = std::max(elements, forward.layout.size() + forward.weight_workspace_size());
  }
  if (planes(ConvPass::backward_input)) {
    const BackwardInputPlan backward(s, lanes);
    elements = std::max(elements, backward.layout.size() + backward.phase_output_size +
                                      backward.weight_workspace_size());
  }
  if (planes(ConvPass::backward_weights)) {
    const ForwardPlan forward(s, lanes, false);
    elements = std::max(elements, forward.grad_planes_size() + forward.grad_output_grad_size() +
                                      weight_grad_partial_size(s) * lanes + kWeightGradChunks * weight_grad_partial_size(s));
  }
  const bool any_blocked = !(planes(ConvPass::forward) && planes(ConvPass::backward_input) &&
                             planes(ConvPass::backward_weights));
  return std::max(std::size_t(elements) * element_size,
                  any_blocked ? blocked_workspace_bytes(s, *blocked_, element_size, 1) : std::size_t(0));
}

template void SimdConv::prepare_held_typed<float>(const ConvShape&, const float*, const float*);
template void SimdConv::prepare_held_typed<double>(const ConvShape&, const double*, const double*);
template void SimdConv::forward_held_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void SimdConv::forward_held_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                                 double*);
template void SimdConv::backward_input_held_typed<float>(const ConvShape&, const float*, const float*, float*);
template void SimdConv::backward_input_held_typed<double>(const ConvShape&, const double*, const double*, double*);
template void SimdConv::forward_typed<float>(const ConvShape&, const float*, const float*, const float*, float*);
template void SimdConv::forward_typed<double>(const ConvShape&, const double*, const double*, const double*,
                                              double*);
template void SimdConv::backward_input_typed<float>(const ConvShape&, const float*, const float*, float*);
template void SimdConv::backward_input_typed<double>(const ConvShape&, const double*, const double*, double*);
template void SimdConv::backward_weights_typed<float>(const ConvShape&, const float*, const float*, float*,
                                                      float*);
template void SimdConv::backward_weights_typed<double>(const ConvShape&, const double*, const double*, double*,
                                                       double*);

bool rounds_like_naive(const KernelTable& table) {
  return naive_term_rounding() == (table.fused_multiply_add ? TermRounding::fused : TermRounding::separate);
}

}  // namespace simd

ConvImplInfo simd_conv_info() {
  // Which arch objects made now would run (CONVLAB_SIMD_ARCH is honoured; a bad value is reported here
  // rather than thrown, so listing implementations never fails).
  std::string arch;
  std::string flags;
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
  return {.name = "simd",
          .summary = "xsimd direct convolution, register-blocked along output rows or along channels (chosen per "
                     "pass and shape), runtime dispatch (runs " + arch + ")",
          .build_flags = flags,
          .make = [] { return std::make_unique<simd::SimdConv>(); },
          .reference_order = order};
}

}  // namespace convlab
