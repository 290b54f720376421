// Writes the model fuzzer's seed corpus with the real saver: tiny models in float and double for several
// architectures (each well under 1 kB). Usage: make_model_seeds <folder>. See docs/fuzzing.md.
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/nn/model_file.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_model_seeds <folder>\n");
    return 2;
  }
  struct Seed {
    const char* name;
    const char* layers;
    convlab::Index channels, height, width, classes;
  };
  const Seed seeds[] = {
      {"dense_only", "dense2", 1, 3, 3, 2},
      {"conv", "conv2:3x3", 1, 5, 5, 2},
      {"conv_stride_pad_dense", "conv2:3x3:s2:p1,dense3", 1, 6, 6, 3},
      {"two_conv_two_channels", "conv2:2x2,conv1:2x3:s1x2,dense2", 2, 5, 6, 2},
  };
  for (const Seed& seed : seeds) {
    for (const auto precision : {convlab::Precision::Float, convlab::Precision::Double}) {
      convlab::SavedModel model;
      model.architecture = convlab::Architecture::parse(seed.layers, seed.channels, seed.height, seed.width, seed.classes);
      model.precision = precision;
      model.scaling = {convlab::Scaling::standardize, 33.25, 78.5};
      model.parameters.resize(std::size_t(model.architecture.parameter_count()));
      for (std::size_t i = 0; i < model.parameters.size(); ++i) model.parameters[i] = double(i % 7) * 0.125 - 0.375;
      const std::string file = std::string(seed.name) + (precision == convlab::Precision::Float ? "_f32" : "_f64") + ".bin";
      convlab::save_model(std::filesystem::path(argv[1]) / file, model);
    }
  }
  return 0;
}
