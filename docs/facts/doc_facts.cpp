// Prints the numbers the docs state about convlab's code - parameter counts, FLOP counts, loop constants -
// one "key value" line each, computed by the code itself. docs/check_facts.py compares every
// number marked VALUE<!--fact:key--> in the docs with this program's value for that key, so a change of
// the code that moves one of them fails ctest until the docs say the new value.
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/lecture_printed.hpp"
#include "common/nn/architecture.hpp"
#include "common/nn/network.hpp"
#include "common/conv/conv_shape.hpp"
#include "impls/openmp/openmp_conv.hpp"
#include "impls/simd/simd_kernels.hpp"

namespace {

// 577080 -> "577,080", as the docs write counts.
std::string grouped(long long value) {
  std::string digits = std::to_string(value), text;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
    text += digits[i];
  }
  return text;
}

void fact(const char* key, const std::string& value) { std::printf("%s %s\n", key, value.c_str()); }

std::string decimals(double value, int places) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", places, value);
  return text;
}

}  // namespace

int main() {
  using convlab::Architecture;
  const Architecture lecture = Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1});
  const Architecture strided = Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {4, 4});
  fact("lecture_parameters", grouped(lecture.parameter_count()));
  fact("lecture_strided_parameters", grouped(strided.parameter_count()));
  const auto layers = lecture.layers();
  fact("lecture_filter_rows", std::to_string(layers.front().fan_in + 1));  // the lecture's Vs[0] rows
  fact("lecture_hidden_per_image", grouped(layers.front().output_size()));
  fact("lecture_strided_hidden_per_image", grouped(strided.layers().front().output_size()));

  convlab::ConvShape conv;  // the lecture's convolution, one image
  conv.out_channels = 20;
  conv.in_height = conv.in_width = 28;
  conv.kernel_height = conv.kernel_width = 5;
  fact("lecture_conv_flop_per_image", grouped((long long)conv.forward_flops()));
  // Training computes the forward pass and the weight gradient; the first layer needs no input gradient.
  const double conv_training = conv.forward_flops() + conv.backward_weights_flops();
  fact("lecture_conv_training_mflop_per_image", decimals(conv_training / 1e6, 2));
  // The dense 11520 -> 50 layer: forward, the weight gradient and the gradient of its input.
  const double dense = 2.0 * double(layers[1].fan_in) * double(layers[1].units);
  fact("lecture_dense_training_mflop_per_image", decimals(3 * dense / 1e6, 1));
  fact("lecture_epoch_training_gflop_60000",
       decimals(60000 * (conv_training + 3 * dense + 3 * 2.0 * double(layers[2].fan_in * layers[2].units)) / 1e9, 0));

  // Chapter 3: the patch matrix of one image against the image, and built for whole batches (float).
  const double patch = double(conv.out_height() * conv.out_width() * conv.reduction_length());
  fact("lecture_patch_elements", grouped((long long)patch));
  fact("lecture_patch_over_image", decimals(patch / 784.0, 0));
  fact("lecture_patch_mb_batch64", decimals(64 * patch * sizeof(float) / 1e6, 1));
  fact("lecture_patch_gb_60000", decimals(60000 * patch * sizeof(float) / 1e9, 1));

  // Chapter 6: the forward pass's compulsory traffic at batch 64 (input, weights and output, once each).
  convlab::ConvShape batch64 = conv;
  batch64.batch = 64;
  const double input_elements = double(batch64.input_size()), weight_elements = double(batch64.weight_size()),
               output_elements = double(batch64.output_size());
  fact("lecture_batch64_input_elements", std::to_string((long long)input_elements));
  fact("lecture_batch64_weight_elements", std::to_string((long long)weight_elements));
  fact("lecture_batch64_output_elements", std::to_string((long long)output_elements));
  fact("lecture_batch64_forward_flop", std::to_string((long long)batch64.forward_flops()));
  fact("float_bytes", std::to_string(sizeof(float)));  // the bytes of each element the intensity counts
  fact("lecture_batch64_intensity",
       decimals(batch64.forward_flops() / ((input_elements + weight_elements + output_elements) * sizeof(float)), 1));

  convlab::ConvShape big_batch = conv;  // the lecture layer's output at the benchmark's largest batch
  big_batch.batch = 10000;
  fact("lecture_output_mb_batch10000", decimals(double(big_batch.output_size()) * sizeof(float) / 1e6, 0));

  fact("slide_max_rows", std::to_string(convlab::simd::kSlideBlockHeights.back()));

  // Chapter 4: the weight gradient's flat runs of the lecture layer's 24x24 outputs, in 16-float vectors.
  const long long out_pixels = conv.out_height() * conv.out_width();
  fact("lecture_output_pixels", std::to_string(out_pixels));
  fact("lecture_output_vectors_avx512", std::to_string(out_pixels / 16));

  // Chapter 5: impls/openmp's tiles of the lecture's first layer at batch 64 on 2 threads (AVX-512's 16
  // lanes), sized as its forward pass sizes them.
  fact("lecture_weights_kb", decimals(double(conv.weight_size()) * sizeof(float) / 1e3, 0));
  fact("lecture_image_kb", decimals(double(conv.in_height * conv.in_width) * sizeof(float) / 1e3, 0));
  // openmp's forward tiles of the planes kernels, sized as its forward pass sizes them (2 threads, AVX-512).
  const auto forward_tiling = [](const convlab::ConvShape& s) {
    const convlab::simd::ForwardPlan plan(s, 16, true);
    const convlab::Index row_bytes =
        s.stride_height * plan.layout.pitch * plan.layout.phases * s.in_channels * convlab::Index(sizeof(float));
    const convlab::Index fixed_bytes = (s.kernel_height - 1) * (row_bytes / s.stride_height);
    const convlab::Index weight_bytes =
        s.in_channels * s.kernel_height * s.kernel_width * convlab::Index(sizeof(float));
    return convlab::openmp::choose_tiling(s.batch, s.out_channels, plan.out_height, weight_bytes, row_bytes,
                                          fixed_bytes, s.forward_flops() / double(s.batch), 2);
  };
  {
    const convlab::openmp::Tiling t = forward_tiling(batch64);
    fact("openmp_lecture_batch64_tile_images", std::to_string(t.images));
    fact("openmp_lecture_batch64_tile_channels", std::to_string(t.channels));
    fact("openmp_lecture_batch64_tile_rows", std::to_string(t.rows));
    fact("openmp_lecture_batch64_image_tiles", std::to_string(t.image_tiles));
    fact("openmp_lecture_batch64_smallest_tile_images", std::to_string(batch64.batch / t.image_tiles));
  }
  {
    // bench/shapes/mnist.txt's pad3x3 at batch 1: 20 -> 20 channels, 3x3 padded, 24 x 24.
    convlab::ConvShape pad3x3;
    pad3x3.batch = 1;
    pad3x3.in_channels = pad3x3.out_channels = 20;
    pad3x3.in_height = pad3x3.in_width = 24;
    pad3x3.kernel_height = pad3x3.kernel_width = 3;
    pad3x3.pad_height = pad3x3.pad_width = 1;
    const convlab::openmp::Tiling t = forward_tiling(pad3x3);
    fact("openmp_pad3x3_batch1_row_tiles", std::to_string(t.row_tiles));
    fact("openmp_pad3x3_batch1_tile_rows", std::to_string(t.rows));
  }

  // Winograd F(4x4, 3x3)'s weight gradient written as gemms: dU holds alpha^2 = (4 + 3 - 1)^2 floats per
  // (filter, channel) pair (performance.md), for 128 x 128 and 512 x 512 channels.
  const double alpha_squared = (4 + 3 - 1) * (4 + 3 - 1);
  fact("winograd4_points", std::to_string(int(alpha_squared)));
  fact("winograd4_du_mb_128x128", decimals(alpha_squared * 128 * 128 * sizeof(float) / 1e6, 1));
  fact("winograd4_du_mb_512x512", decimals(alpha_squared * 512 * 512 * sizeof(float) / 1e6, 0));

  // performance.md, the training step in filter parts: the dense layer's weights, each part's rows of them,
  // and one part's maps of a batch of 64 (float); the MNIST training set as floats.
  fact("lecture_dense_weights_mb", decimals(double(layers[1].fan_in * layers[1].units) * sizeof(float) / 1e6, 1));
  fact("lecture_dense_rows_per_part", std::to_string(layers[1].fan_in / convlab::kFilterParts));
  fact("lecture_part_maps_mb_batch64",
       decimals(64.0 * double(conv.output_size()) / convlab::kFilterParts * sizeof(float) / 1e6, 2));
  fact("mnist_training_floats_mb", decimals(60000.0 * 784 * sizeof(float) / 1e6, 0));
  // res3a_branch2a (1x1, stride 2, 256 x 56 x 56 -> 128 x 28 x 28), one image: its output gradient and input
  // gradient (float).
  fact("res3a_branch2a_output_kb", decimals(128.0 * 28 * 28 * sizeof(float) / 1e3, 0));
  fact("res3a_branch2a_input_mb", decimals(256.0 * 56 * 56 * sizeof(float) / 1e6, 1));

  fact("res3a_branch2a_input_mb_batch16", decimals(16 * 256.0 * 56 * 56 * sizeof(float) / 1e6, 0));
  // res5a_branch2b (512 -> 512 channels, 3x3) under Winograd: one transform position's U (512 x 512 floats),
  // one of its rows, and all of U with F(4x4)'s alpha^2 = 36 positions.
  const double u_position_bytes = 512.0 * 512 * sizeof(float);
  fact("res5a_u_position_mib", decimals(u_position_bytes / (1 << 20), 0));
  fact("res5a_u_row_kib", decimals(512.0 * sizeof(float) / (1 << 10), 0));
  fact("res5a_winograd4_u_mib", decimals(alpha_squared * u_position_bytes / (1 << 20), 0));
  // inception_5x5_f48's weights of one channel group of 48 filters (512 x 5 x 5 each).
  fact("inception_5x5_f48_group_weights_mb", decimals(48.0 * 512 * 5 * 5 * sizeof(float) / 1e6, 2));

  // res5a_branch2b (512 -> 512 channels, 3x3, 7 x 7 images) and res2a_branch2b (64 -> 64, 3x3): their weights
  // and images (float), and res5a's weights against F(4x4)'s transformed ones.
  fact("res5a_weights_mb", decimals(512.0 * 512 * 9 * sizeof(float) / 1e6, 1));
  fact("res5a_image_kb", decimals(512.0 * 7 * 7 * sizeof(float) / 1e3, 0));
  fact("res5a_weights_million", decimals(512.0 * 512 * 9 / 1e6, 1));
  fact("res5a_winograd4_u_million", decimals(alpha_squared * 512 * 512 / 1e6, 1));
  fact("res2a_branch2b_weights_kb", decimals(64.0 * 64 * 9 * sizeof(float) / 1e3, 0));

  // deepbench's speech layers' images (float): speech_c32 32 x 79 x 341, speech_c1 1 x 161 x 700; and
  // res5a_branch2b's dU with F(2x2) (alpha^2 = 16 positions of 512 x 512).
  fact("speech_c32_image_mb", decimals(32.0 * 79 * 341 * sizeof(float) / 1e6, 1));
  fact("speech_c1_image_kb", decimals(161.0 * 700 * sizeof(float) / 1e3, 0));
  fact("res5a_winograd2_du_mib", decimals(16 * u_position_bytes / (1 << 20), 0));

  // resnet's conv1 (3 -> 64 channels, 7x7, stride 2, 224 x 224 padded by 3 to 230 wide): one group of 4
  // AVX-512 channel vectors' weights (all 64 channels), two vectors' (32), and the 7 input rows of 3 channels
  // a row of tiles reads; res5a_branch2b's weight gradient row (512 x 3 x 3 floats).
  fact("conv1_group4_weights_kb", decimals(3.0 * 7 * 7 * 64 * sizeof(float) / 1e3, 1));
  fact("conv1_group2_weights_kb", decimals(3.0 * 7 * 7 * 32 * sizeof(float) / 1e3, 1));
  fact("conv1_input_rows_kb", decimals(3.0 * 7 * 230 * sizeof(float) / 1e3, 0));
  fact("res5a_weight_row_kib", decimals(512.0 * 9 * sizeof(float) / (1 << 10), 0));

  // The lecture layer's weights and biases (the sums its weight gradient adds over the chunks); ocr_c1's
  // output (16 x 48 x 480 floats) per image and at batch 64; speech_c1's (32 x 79 x 341) at batch 4; res5a's U
  // with F(2x2) (16 positions); F(4x4)'s dU for 64 x 64 channels.
  fact("lecture_conv_parameters", std::to_string(conv.weight_size() + conv.out_channels));
  fact("ocr_c1_output_mib", decimals(16.0 * 48 * 480 * sizeof(float) / (1 << 20), 1));
  fact("ocr_c1_output_mb_batch64", decimals(64 * 16.0 * 48 * 480 * sizeof(float) / 1e6, 0));
  fact("speech_c1_output_mb_batch4", decimals(4 * 32.0 * 79 * 341 * sizeof(float) / 1e6, 1));
  fact("res5a_winograd2_u_mib", decimals(16 * u_position_bytes / (1 << 20), 0));
  fact("winograd4_du_kb_64x64", decimals(alpha_squared * 64 * 64 * sizeof(float) / 1e3, 0));

  // `convlab compare`'s report run: 3 epochs of 2000 images in batches of 64 (the last one partial).
  fact("compare_report_sgd_steps", std::to_string(3 * ((2000 + 63) / 64)));
  fact("compare_default_sgd_steps", std::to_string((60000 + 63) / 64));

  // What the lecture's notebook printed (cli/lecture_printed.hpp, which `convlab lecture` sets beside its own
  // results): its test and training accuracy, its training time in seconds and hours, and its error count.
  namespace printed = convlab::cli::lecture_printed;
  fact("lecture_printed_test_percent", decimals(printed::kTestPercent, 2));
  fact("lecture_printed_train_percent", decimals(printed::kTrainPercent, 2));
  fact("lecture_printed_seconds", decimals(printed::kTrainingSeconds, 1));
  fact("lecture_printed_hours", decimals(printed::kTrainingSeconds / 3600, 1));
  fact("lecture_printed_errors_recorded", std::to_string(printed::kErrorsRecorded));
}
