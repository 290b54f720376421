// The model file: explicit little-endian serialisation, checked parsing, atomic replacement.
#include "common/nn/model_file.hpp"

#include "common/io/atomic_file.hpp"
#include "common/io/input_file.hpp"

#include <zlib.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

namespace convlab {
namespace {

constexpr std::string_view kMagic = "CONVLABMODEL";
// magic, version, file size: what must be read before anything else can be trusted.
constexpr std::size_t kPrefixSize = kMagic.size() + 4 + 8;

class Writer {
 public:
  void bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  template <typename U>
  void little_endian(U value) {
    for (std::size_t i = 0; i < sizeof(U); ++i) out_.push_back(std::uint8_t(std::uint64_t(value) >> (8 * i)));
  }
  void f32(float value) { little_endian(std::bit_cast<std::uint32_t>(value)); }
  void f64(double value) { little_endian(std::bit_cast<std::uint64_t>(value)); }
  std::vector<std::uint8_t>& buffer() { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, std::size_t end, std::string name)
      : bytes_(bytes), end_(end), name_(std::move(name)) {}
  std::size_t remaining() const { return end_ - at_; }
  template <typename U>
  U little_endian(const char* what) {
    need(sizeof(U), what);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) value |= std::uint64_t(bytes_[at_ + i]) << (8 * i);
    at_ += sizeof(U);
    return U(value);
  }
  double f64(const char* what) { return std::bit_cast<double>(little_endian<std::uint64_t>(what)); }
  float f32(const char* what) { return std::bit_cast<float>(little_endian<std::uint32_t>(what)); }
  std::string text(std::size_t size, const char* what) {
    need(size, what);
    std::string result(reinterpret_cast<const char*>(bytes_.data() + at_), size);
    at_ += size;
    return result;
  }
  void need(std::size_t size, const char* what) const {
    if (size > remaining()) {
      throw ModelFileError(name_ + ": corrupt: " + what + " needs " + std::to_string(size) + " bytes, only " +
                           std::to_string(remaining()) + " remain");
    }
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t end_;
  std::size_t at_ = kPrefixSize;
  std::string name_;
};

std::uint32_t crc32_of(const std::uint8_t* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes uInt lengths
    const uInt piece = uInt(std::min<std::size_t>(size, std::size_t(1) << 30));
    crc = crc32(crc, data, piece);
    data += piece;
    size -= piece;
  }
  return std::uint32_t(crc);
}

std::string errno_text() { return std::strerror(errno); }

std::uint32_t narrow(std::size_t value, const char* what) {
  if (value > 0xffffffffu) throw ModelFileError(std::string("model ") + what + " is too large to save");
  return std::uint32_t(value);
}

}  // namespace

std::string architecture_signature(const Architecture& a) {
  return std::to_string(a.input_channels) + "x" + std::to_string(a.input_height) + "x" +
         std::to_string(a.input_width) + " " + a.layers_text() + " -> " + std::to_string(a.classes);
}

void check_model_path_writable(const std::filesystem::path& path) {
  try {
    check_output_writable(path, "model");
  } catch (const OutputFileError& error) {
    throw ModelFileError(error.what());
  }
}

void save_model(const std::filesystem::path& path, const SavedModel& model) {
  const std::string name = path.string();
  model.architecture.validate();
  if (Index(model.parameters.size()) != model.architecture.parameter_count()) {
    throw ModelFileError("cannot save model to '" + name + "': " + std::to_string(model.parameters.size()) +
                         " parameters for an architecture of " +
                         std::to_string(model.architecture.parameter_count()));
  }
  Writer w;
  w.bytes(kMagic.data(), kMagic.size());
  w.little_endian<std::uint32_t>(kModelFormatVersion);
  w.little_endian<std::uint64_t>(0);  // file size, patched below
  const Architecture& a = model.architecture;
  w.little_endian<std::uint32_t>(narrow(std::size_t(a.input_channels), "input channels"));
  w.little_endian<std::uint32_t>(narrow(std::size_t(a.input_height), "input height"));
  w.little_endian<std::uint32_t>(narrow(std::size_t(a.input_width), "input width"));
  w.little_endian<std::uint32_t>(narrow(std::size_t(a.classes), "class count"));
  const std::string layers = a.layers_text();
  w.little_endian<std::uint32_t>(narrow(layers.size(), "architecture text"));
  w.bytes(layers.data(), layers.size());
  const bool is_float = model.precision == Precision::Float;
  w.little_endian<std::uint8_t>(is_float ? 4 : 8);
  w.little_endian<std::uint8_t>(model.scaling.kind == Scaling::standardize ? 1 : 0);
  w.f64(model.scaling.mean);
  w.f64(model.scaling.stddev);
  w.little_endian<std::uint64_t>(model.parameters.size());
  for (double value : model.parameters) is_float ? w.f32(float(value)) : w.f64(value);
  std::vector<std::uint8_t>& bytes = w.buffer();
  const std::uint64_t total = bytes.size() + 4;
  for (std::size_t i = 0; i < 8; ++i) bytes[kMagic.size() + 4 + i] = std::uint8_t(total >> (8 * i));
  w.little_endian<std::uint32_t>(crc32_of(bytes.data(), bytes.size()));

  try {
    write_file_atomically(path, std::as_bytes(std::span<const std::uint8_t>(bytes)), "model");
  } catch (const OutputFileError& error) {
    throw ModelFileError(error.what());
  }
}

SavedModel load_model(const std::filesystem::path& path, const std::optional<Architecture>& expected) {
  const std::string name = path.string();
  if (const std::string problem = not_a_regular_file(path); !problem.empty()) {
    throw ModelFileError(name + ": " + problem);
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ModelFileError(name + ": cannot open: " + errno_text());
  // The magic first, so that a foreign file is refused without being read whole.
  std::array<char, kMagic.size()> magic{};
  file.read(magic.data(), std::streamsize(magic.size()));
  if (file.gcount() > 0 && std::memcmp(magic.data(), kMagic.data(), std::size_t(file.gcount())) != 0) {
    throw ModelFileError(name + ": not a convlab model (bad magic)");
  }
  file.clear();
  file.seekg(0, std::ios::end);
  const auto end_position = file.tellg();
  if (end_position < 0) throw ModelFileError(name + ": cannot read the file");
  // The whole file, never more: every size inside it is checked against this length before use.
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(end_position));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!file) throw ModelFileError(name + ": cannot read the file");
  return load_model_from_memory(bytes, name, expected);
}

SavedModel load_model_from_memory(std::span<const std::uint8_t> bytes, const std::string& name,
                                  const std::optional<Architecture>& expected) {
  const std::size_t size = bytes.size();
  const std::size_t magic_present = std::min(size, kMagic.size());
  if (size == 0 || std::memcmp(bytes.data(), kMagic.data(), magic_present) != 0) {
    throw ModelFileError(name + ": not a convlab model (bad magic)");
  }
  if (size < kPrefixSize) {
    throw ModelFileError(name + ": truncated: " + std::to_string(size) + " bytes is shorter than the header");
  }
  const auto prefix_u = [&](std::size_t at, std::size_t width) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < width; ++i) value |= std::uint64_t(bytes[at + i]) << (8 * i);
    return value;
  };
  const std::uint64_t version = prefix_u(kMagic.size(), 4);
  if (version > kModelFormatVersion) {
    throw ModelFileError(name + ": format version " + std::to_string(version) +
                         " is newer than this convlab supports (" + std::to_string(kModelFormatVersion) + ")");
  }
  if (version == 0) throw ModelFileError(name + ": invalid format version 0");
  const std::uint64_t declared = prefix_u(kMagic.size() + 4, 8);
  if (declared > size) {
    throw ModelFileError(name + ": truncated: the header says " + std::to_string(declared) + " bytes, the file has " +
                         std::to_string(size));
  }
  if (declared < size) {
    throw ModelFileError(name + ": corrupt: " + std::to_string(size - declared) +
                         " unexpected bytes after the end the header declares (" + std::to_string(declared) + ")");
  }
  if (size < kPrefixSize + 4) throw ModelFileError(name + ": truncated: no room for the checksum");
  const std::size_t body = size - 4;
  std::uint32_t stored_crc = 0;
  for (std::size_t i = 0; i < 4; ++i) stored_crc |= std::uint32_t(bytes[body + i]) << (8 * i);
  if (crc32_of(bytes.data(), body) != stored_crc) throw ModelFileError(name + ": checksum mismatch: the file is damaged");

  Reader r(bytes, body, name);
  const auto channels = r.little_endian<std::uint32_t>("input channels");
  const auto height = r.little_endian<std::uint32_t>("input height");
  const auto width = r.little_endian<std::uint32_t>("input width");
  const auto classes = r.little_endian<std::uint32_t>("class count");
  const auto layers_length = r.little_endian<std::uint32_t>("architecture length");
  const std::string layers = r.text(layers_length, "the architecture text");
  const auto element_size = r.little_endian<std::uint8_t>("precision");
  if (element_size != 4 && element_size != 8) {
    throw ModelFileError(name + ": corrupt: unknown precision (element size " + std::to_string(element_size) + ")");
  }
  const auto scaling_kind = r.little_endian<std::uint8_t>("pixel scaling");
  if (scaling_kind > 1) throw ModelFileError(name + ": corrupt: unknown pixel scaling " + std::to_string(scaling_kind));
  SavedModel model;
  model.precision = element_size == 4 ? Precision::Float : Precision::Double;
  model.scaling.kind = scaling_kind == 1 ? Scaling::standardize : Scaling::lecture;
  model.scaling.mean = r.f64("scaling mean");
  model.scaling.stddev = r.f64("scaling stddev");
  if (!std::isfinite(model.scaling.mean) || !std::isfinite(model.scaling.stddev) || !(model.scaling.stddev > 0)) {
    throw ModelFileError(name + ": corrupt: invalid pixel scaling (mean " + std::to_string(model.scaling.mean) +
                         ", stddev " + std::to_string(model.scaling.stddev) + ")");
  }
  const auto count = r.little_endian<std::uint64_t>("parameter count");
  if (count > r.remaining() / element_size) {
    throw ModelFileError(name + ": corrupt: declares " + std::to_string(count) + " parameters of " +
                         std::to_string(element_size) + " bytes but only " + std::to_string(r.remaining()) +
                         " bytes follow");
  }
  if (count * element_size != r.remaining()) {
    throw ModelFileError(name + ": corrupt: " + std::to_string(r.remaining() - count * element_size) +
                         " stray bytes after the parameters");
  }
  try {
    model.architecture = Architecture::parse(layers, channels, height, width, classes);
  } catch (const std::invalid_argument& error) {
    throw ModelFileError(name + ": corrupt architecture: " + error.what());
  }
  const Index needed = model.architecture.parameter_count();
  if (Index(count) != needed) {
    throw ModelFileError(name + ": corrupt: holds " + std::to_string(count) + " parameters, its architecture " +
                         architecture_signature(model.architecture) + " needs " + std::to_string(needed));
  }
  if (expected && !(*expected == model.architecture)) {
    throw ModelFileError(name + ": architecture " + architecture_signature(model.architecture) +
                         " differs from the expected " + architecture_signature(*expected));
  }
  model.parameters.resize(count);
  for (double& value : model.parameters) {
    value = element_size == 4 ? double(r.f32("parameters")) : r.f64("parameters");
  }
  return model;
}

std::vector<LayerArrays> layer_arrays(const Architecture& architecture) {
  std::vector<LayerArrays> result;
  Index offset = 0, conv_index = 0;
  for (const LayerGeometry& g : architecture.layers()) {
    LayerArrays layer;
    layer.is_conv = g.is_conv;
    if (g.is_conv) {
      const ConvLayerSpec& spec = architecture.conv_layers[std::size_t(conv_index++)];
      layer.weight_shape = {g.units, g.in_channels, spec.window_height, spec.window_width};
    } else {
      layer.weight_shape = {g.weight_count / g.units, g.units};
    }
    layer.weight_offset = offset;
    layer.weight_count = g.weight_count;
    layer.bias_offset = offset + g.weight_count;
    layer.bias_count = g.bias_count;
    offset += g.weight_count + g.bias_count;
    result.push_back(std::move(layer));
  }
  return result;
}

}  // namespace convlab
