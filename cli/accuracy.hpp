// `convlab accuracy`'s engine: how far each implementation's outputs are from the exact sums, measured on a
// built-in set of layers and four kinds of input, in float32 and float64, for forward (with bias) and
// backward_input.
//
// The metric. For every output y (a sum of products w x, plus the bias in the forward pass), with S = sum |w x|
// (+ |b|) the sum's magnitude, the error is |y_computed - y_exact| / S in units of the type's unit roundoff u
// (2^-24 for float, 2^-53 for double). S, not |y|, is the right scale: it is the condition of the sum (the
// relative error of |y| can be as large as one likes when terms cancel; relative to S it cannot), and the
// error bounds are stated against it: gamma_n S for any direct sum of n terms (Higham 3.1), n the worst-case
// term count (reduction length, + 1 for the bias); gamma_K E for Winograd (tests/test_winograd.cpp), with
// E >= S, so a Winograd error in u can exceed K. Outputs with S = 0 are left out. Per case the maximum and
// the root mean square over the outputs measured. FFT convolution's bound is normwise, per output plane
// (impls/fft/fft_bound.hpp; tests/test_fft.cpp derives it): an output small against its plane can carry an
// error far above its own S, so for fft the report also gives the largest ||error||_2 / bound over the
// measured planes (below 1 by the bound).
//
// The exact values. For float results, the direct sum of the (float) products in `long double` loops: x87's
// 64-bit mantissa holds each float product exactly and adds at most n 2^-64 S of its own, far below 2^-24
// S. For double results, double-double (compensated) summation in double: each product split exactly into
// two doubles by TwoProduct (an FMA), the sum by TwoSum into a high part with the errors gathered in a low
// part (Ogita, Rump and Oishi's Dot2), kept unrounded as hi + lo in long double: accurate to about
// n u^2 S (u = 2^-53), far below u S. This file is compiled with -ffp-contract=off so that no contraction
// changes those error-free transformations.
//
// Cost. The exact sums are computed for at most kAccuracyReferenceChannels output channels of each case
// (spread evenly; every batch image and every position of them), so the 256-channel layers stay cheap.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/conv/conv_impl.hpp"
#include "common/conv/conv_pass.hpp"
#include "common/conv/conv_registry.hpp"
#include "common/conv/conv_shape.hpp"

namespace convlab {

inline constexpr Index kAccuracyReferenceChannels = 16;

// uniform: x, w (and b, dy) uniform in [-1, 1]; positive: uniform in [0, 1] (no cancellation: |y| = S);
// wide: sign * 2^k, k uniform in [-20, 20] (a wide dynamic range; every product exact);
// mnist: real images. The image operand (x in the forward pass, dy in backward_input) is made of windows of
// the MNIST test images (common/data's load_dataset, scaled by the project's default lecture scaling,
// byte / 256: [0, 1), most pixels exactly 0): each plane (batch image n, channel c) is its own test image,
// consecutive images from a seed-drawn start, cropped to the plane's size at a seed-drawn offset (C channels:
// C different digits stacked, as a first layer would see C different feature maps); w and b uniform in
// [-1, 1]. Needs the MNIST test files (scripts/install.sh): without them run_accuracy skips this kind and
// says why (AccuracyReport::skipped_inputs).
enum class AccuracyInput { uniform, positive, wide, mnist };
// The three kinds drawn from the seed alone (run_accuracy's default: they need no files).
inline constexpr std::array<AccuracyInput, 3> kSyntheticAccuracyInputs = {
    AccuracyInput::uniform, AccuracyInput::positive, AccuracyInput::wide};
// Every kind (`convlab accuracy`'s default).
inline constexpr std::array<AccuracyInput, 4> kAccuracyInputs = {AccuracyInput::uniform, AccuracyInput::positive,
                                                                 AccuracyInput::wide, AccuracyInput::mnist};
std::string_view accuracy_input_name(AccuracyInput input);
// The kind named `name` ("uniform", "positive", "wide", "mnist"); throws std::invalid_argument naming them.
AccuracyInput parse_accuracy_input(std::string_view name);
// Why `input` cannot be drawn on this machine (mnist without its test files: the loader's words, saying where
// it looked), empty when it can.
std::string accuracy_input_unavailable(AccuracyInput input);

// The passes measured (backward_weights is a direct sum in every implementation: not measured here).
inline constexpr std::array<ConvPass, 2> kAccuracyPasses = {ConvPass::forward, ConvPass::backward_input};

struct AccuracyLayer {
  std::string name;  // "3x3 C=64"
  Index window = 3;
  Index channels = 1;  // C = F
  ConvShape shape;
};
// 3x3 pad 1, 5x5 pad 2, 7x7 pad 3, stride 1, C = F in {1, 4, 16, 64, 256}: 16x16 images, batch 2, up to 16
// channels; 12x12, batch 1, at 64; 6x6, batch 1, at 256 (naive, single-threaded on purpose, takes most of
// the default run's time, and most of that on the 256-channel layers). `quick`: 3x3 and 5x5, C in {1, 16, 64}.
std::vector<AccuracyLayer> accuracy_layers(bool quick);

template <typename T>
struct AccuracyData {
  std::vector<T> x, w, b, dy;
};
// The operands of one case, drawn from `seed` (the same seed gives the same values on every machine:
// std::mt19937_64 and integer arithmetic only; for mnist, the same images too). mnist throws DatasetError
// without the MNIST test files.
template <typename T>
AccuracyData<T> accuracy_data(const ConvShape& s, AccuracyInput input, std::uint64_t seed);

struct ErrorStats {
  double max_u = 0, rms_u = 0;  // max and RMS of |computed - exact| / S, in units of u
  Index outputs = 0;            // outputs measured (S > 0)
  // Winograd only (0 otherwise): the largest E / S over the outputs measured, E the magnitude of its own bound
  // (impls/winograd/winograd_bound.hpp), and the largest |computed - exact| / E in u, which the bound keeps
  // below K.
  double max_e_over_s = 0, max_u_of_e = 0;
  // FFT only (0 otherwise): the largest ||computed - exact||_2 / bound over the measured output planes, the
  // bound fft_plane_error_bound (impls/fft/fft_bound.hpp): below 1.
  double max_of_fft_bound = 0;
};

// Runs `pass` of `s` (forward with data.b as bias, or backward_input from data.dy) on `impl` and measures
// its outputs in the reference channels against the exact sums.
template <typename T>
ErrorStats measure_accuracy(ConvImpl& impl, const ConvShape& s, ConvPass pass, const AccuracyData<T>& data);

// The worst-case term count n of the direct-sum bound gamma_n: C kh kw + 1 (forward with bias), F kh kw
// (backward_input).
Index direct_sum_terms(const ConvShape& s, ConvPass pass);

struct AccuracyRow {
  std::size_t layer = 0;  // index into AccuracyReport::layers
  AccuracyInput input = AccuracyInput::uniform;
  std::string type;       // "float32" or "float64"
  ConvPass pass = ConvPass::forward;
  std::string skipped;    // why not measured (the registry's words); empty: measured
  ErrorStats error;
  Index bound_n = 0;      // direct_sum_terms
  int winograd_k = 0;     // Winograd's K (winograd_rounding_count), 0 for the others
};

struct AccuracyImpl {
  std::string name, role;
  bool direct_sums = true;
  ConvErrorBound error_bound{};  // the registry's (ConvImplInfo::error_bound): what it is measured against
  int winograd_tile = 0;         // error_bound.tile for a Winograd bound (2 or 4), else 0
  bool fft = false;              // an FFT bound (normwise, per plane)
  std::vector<AccuracyRow> rows;
};

struct AccuracyReport {
  int threads = 1;
  std::uint64_t seed = 0;
  bool quick = false;
  double seconds = 0;
  std::vector<AccuracyLayer> layers;
  std::vector<AccuracyInput> inputs;  // the kinds measured, in order
  struct SkippedInput {
    AccuracyInput input;
    std::string reason;
  };
  std::vector<SkippedInput> skipped_inputs;  // the kinds asked for but not available (mnist without its files)
  std::vector<AccuracyImpl> impls;
};

// Measures each named implementation (registry names) on every layer, input kind of `inputs`, type and pass;
// skips the pairs an implementation does not support, with its reason, and the input kinds this machine cannot
// draw (accuracy_input_unavailable: listed in skipped_inputs, and said on `progress`). `progress` (may be
// null) gets one line per layer.
AccuracyReport run_accuracy(std::span<const std::string> impls, bool quick, std::uint64_t seed, int threads,
                            std::ostream* progress,
                            std::span<const AccuracyInput> inputs = kSyntheticAccuracyInputs);

// Two tables (float32, float64): rows implementation x layer, columns max error in u per pass and input
// kind, then n and K; skipped cells "-", the reasons listed under the tables; then the same for the RMS error
// (float32); then Winograd against its own scale E (float32 forward), and FFT against its own per-plane bound
// (float32 and float64, both passes); input kinds skipped, with the reason.
std::string format_accuracy_table(const AccuracyReport& report);
// {"context": {..., "inputs": [...], "skipped_inputs": [{"input", "reason"}]}, "layers": [...],
//  "implementations": [{"name", "role", "direct_sums", "error_bound" (error_bound_name), "error_bound_tile",
//  "winograd_tile",
//  "rows": [{"layer", "window", "channels", "input", "type", "pass", "skipped", "reason", "max_error_u",
//  "rms_error_u", "outputs", "bound_n", "winograd_k", and for Winograd "max_e_over_s", "max_error_of_e_u",
//  for FFT "max_error_of_fft_bound"}, ...]}, ...]} (and "fft": true|false per implementation)
std::string accuracy_json(const AccuracyReport& report);
// Header then one line per row: impl,layer,window,channels,input,type,pass,skipped,max_error_u,rms_error_u,
// outputs,bound_n,winograd_k,max_e_over_s,max_error_of_e_u,max_error_of_fft_bound,reason
std::string accuracy_csv(const AccuracyReport& report);

// The chart's data: per implementation, max error in u of float32 forward on uniform inputs against C, for
// one window size (points only where measured).
struct AccuracyCurveData {
  std::string impl;
  std::vector<double> channels, max_error_u;
};
std::vector<AccuracyCurveData> accuracy_curves(const AccuracyReport& report, Index window);

// Error against tile size: per channel count C of the `window` layers, max error in u of float32 forward on
// uniform inputs of each implementation whose registered bound is Winograd's, against its tile size m.
struct AccuracyTileCurveData {
  Index channels = 0;
  std::vector<double> tile, max_error_u;
};
std::vector<AccuracyTileCurveData> accuracy_tile_curves(const AccuracyReport& report, Index window);

}  // namespace convlab
