// Chapter 3: the windows of a batch as a 6-D view, and what copying them into a patch matrix costs.
#include <cstdio>
#include <vector>

#include "common/conv/conv_registry.hpp"
#include "common/tensor/strided_view.hpp"
#include "impls/im2col/im2col_conv.hpp"

int main() {
  const convlab::Index batch = 64, side = 28, window = 5;
  std::vector<float> images(std::size_t(batch * side * side));  // N x C x H x W with C = 1
  const convlab::StridedView<float, 4> input(std::span<float>(images), {batch, 1, side, side});
  const auto windows = convlab::sliding_windows(input, {window, window}, {1, 1});
  const auto shape = windows.shape();
  const auto steps = windows.strides();
  std::printf("windows view (N, oh, ow, C, kh, kw) = (%td, %td, %td, %td, %td, %td)\n", shape[0], shape[1], shape[2],
              shape[3], shape[4], shape[5]);
  std::printf("strides in elements               = (%td, %td, %td, %td, %td, %td)\n", steps[0], steps[1], steps[2],
              steps[3], steps[4], steps[5]);

  const convlab::Index patch_rows = shape[1] * shape[2], patch_cols = shape[3] * shape[4] * shape[5];
  std::printf("patch matrix per image: %td rows x %td columns = %td elements\n", patch_rows, patch_cols,
              patch_rows * patch_cols);
  std::printf("the image itself:       %td elements, so the copy is %.1fx larger\n", side * side,
              double(patch_rows * patch_cols) / double(side * side));

  convlab::ConvShape layer;
  layer.batch = batch;
  layer.out_channels = 20;
  layer.in_height = layer.in_width = side;
  layer.kernel_height = layer.kernel_width = window;
  // im2col never builds the whole batch's patch matrix: it builds the column form (K x pixels) of one band
  // at a time, sized for L2 (output rows of one image, or several small images whole), so its scratch does not
  // grow with the batch.
  const convlab::Im2colGeometry bands(layer, sizeof(float));
  std::printf("im2col's bands for %s, float: %td image(s) of %td output rows each, %td x %td columns\n",
              layer.describe().c_str(), bands.images_per_band, bands.band_rows, bands.patch_length,
              bands.images_per_band * bands.band_rows * bands.out_w);
  convlab::ConvShape epoch = layer;
  epoch.batch = 60000;
  const auto im2col = convlab::make_conv_impl("im2col");
  std::printf("scratch for 60000 images as for 64: %s\n",
              im2col->workspace_bytes(epoch, sizeof(float)) == im2col->workspace_bytes(layer, sizeof(float)) ? "yes"
                                                                                                            : "no");
}
