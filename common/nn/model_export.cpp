#include "common/nn/model_export.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/io/npy.hpp"
#include "common/io/npz.hpp"

namespace convlab {
namespace {

template <typename T>
std::string array_bytes(const SavedModel& model, Index offset, Index count, const std::vector<Index>& shape,
                        const std::string& name) {
  const std::vector<T> values(model.parameters.begin() + offset, model.parameters.begin() + offset + count);
  return npy_bytes<T>(shape, values, name);
}

}  // namespace

void export_model_npz(const SavedModel& model, const std::filesystem::path& path) {
  const Architecture& a = model.architecture;
  const bool is_float = model.precision == Precision::Float;
  std::vector<NpzMember> members;
  nlohmann::json layers = nlohmann::json::array();
  const std::vector<LayerArrays> arrays = layer_arrays(a);
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    const LayerArrays& layer = arrays[i];
    const std::string kind = layer.is_conv ? "conv" : "dense";
    const std::string stem = "layer" + std::to_string(i) + "_" + kind;
    const std::vector<Index> bias_shape{layer.bias_count};
    for (const auto& [suffix, offset, count, shape] :
         {std::tuple{"_weights", layer.weight_offset, layer.weight_count, layer.weight_shape},
          std::tuple{"_bias", layer.bias_offset, layer.bias_count, bias_shape}}) {
      const std::string name = stem + suffix;
      const std::string where = path.string() + ": " + name;
      members.push_back({name + ".npy", is_float ? array_bytes<float>(model, offset, count, shape, where)
                                                 : array_bytes<double>(model, offset, count, shape, where)});
    }
    layers.push_back({{"kind", kind}, {"weights", stem + "_weights"}, {"bias", stem + "_bias"}});
  }
  const nlohmann::json metadata = {
      {"format", "convlab model export"},
      {"architecture", a.layers_text()},
      {"description", a.describe()},
      {"input_shape", {a.input_channels, a.input_height, a.input_width}},
      {"classes", a.classes},
      {"precision", is_float ? "float32" : "float64"},
      {"scaling", {{"kind", to_string(model.scaling.kind)}, {"mean", model.scaling.mean}, {"stddev", model.scaling.stddev}}},
      {"layers", layers}};
  members.push_back({"metadata.json", metadata.dump(2) + "\n"});
  write_npz(path, members);
}

}  // namespace convlab
