// Architecture: the lecture-style factory, the text form, validation and per-layer geometry.
#include "common/nn/architecture.hpp"

#include "common/conv/conv_registry.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <tuple>

namespace convlab {
namespace {

// Parameter counts past this are certainly a typo (and would not fit in memory).
constexpr Index kMaxParameters = Index(1) << 31;
constexpr Index kMaxExtent = Index(1) << 24;
// Values one example occupies at any layer's input or output; a bound on activation memory, and what keeps
// every size product below from overflowing (extents alone go up to 2^24, and 2^24 cubed does not fit).
constexpr Index kMaxValuesPerExample = Index(1) << 31;

// a * b for non-negative sizes, saturating just past the limits above so that comparisons with them stay
// right whatever the factors (a model file can declare any extents up to kMaxExtent).
Index capped_product(Index a, Index b) {
  constexpr Index kCap = std::max(kMaxParameters, kMaxValuesPerExample) + 1;
  Index product = 0;
  if (__builtin_mul_overflow(a, b, &product) || product > kCap) return kCap;
  return product;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

[[noreturn]] void fail_layer(std::string_view layer, const std::string& why) {
  throw ArchitectureError("bad layer '" + std::string(layer) + "' in --arch: " + why);
}

Index parse_count(std::string_view digits, std::string_view layer, const char* what) {
  Index value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    fail_layer(layer, std::string("expected a number for ") + what + ", got '" + std::string(digits) + "'");
  }
  if (value > kMaxExtent) fail_layer(layer, std::string(what) + " " + std::string(digits) + " is too large");
  return value;
}

// "5" -> (5, 5); "5x3" -> (5, 3).
std::pair<Index, Index> parse_pair(std::string_view text, std::string_view layer, const char* what) {
  const std::vector<std::string_view> parts = split(text, 'x');
  if (parts.size() == 1) {
    const Index value = parse_count(parts[0], layer, what);
    return {value, value};
  }
  if (parts.size() != 2) fail_layer(layer, std::string("expected <h>x<w> for ") + what + ", got '" + std::string(text) + "'");
  return {parse_count(parts[0], layer, what), parse_count(parts[1], layer, what)};
}

ConvLayerSpec parse_conv(std::string_view layer) {
  const std::vector<std::string_view> fields = split(layer.substr(4), ':');
  ConvLayerSpec spec;
  spec.units = parse_count(fields[0], layer, "units");
  if (fields.size() < 2) fail_layer(layer, "missing the window, e.g. conv20:5x5");
  const auto window = parse_pair(fields[1], layer, "window");
  if (fields[1].find('x') == std::string_view::npos) fail_layer(layer, "window must be <kh>x<kw>, e.g. 5x5");
  spec.window_height = window.first;
  spec.window_width = window.second;
  bool seen_stride = false, seen_pad = false;
  for (std::size_t i = 2; i < fields.size(); ++i) {
    const std::string_view field = fields[i];
    if (!field.empty() && field[0] == 's' && !seen_stride) {
      std::tie(spec.stride_height, spec.stride_width) = parse_pair(field.substr(1), layer, "stride");
      seen_stride = true;
    } else if (!field.empty() && field[0] == 'p' && !seen_pad) {
      std::tie(spec.pad_height, spec.pad_width) = parse_pair(field.substr(1), layer, "padding");
      seen_pad = true;
    } else {
      fail_layer(layer, "unexpected field '" + std::string(field) + "' (expected s<stride> or p<pad>, once each)");
    }
  }
  return spec;
}

std::string pair_text(Index a, Index b) { return a == b ? std::to_string(a) : std::to_string(a) + "x" + std::to_string(b); }

std::string conv_text(const ConvLayerSpec& c) {
  std::string text = "conv" + std::to_string(c.units) + ":" + std::to_string(c.window_height) + "x" +
                     std::to_string(c.window_width) + ":s" + pair_text(c.stride_height, c.stride_width);
  if (c.pad_height != 0 || c.pad_width != 0) text += ":p" + pair_text(c.pad_height, c.pad_width);
  return text;
}

}  // namespace

Architecture Architecture::lecture(Index input_channels, const std::vector<Index>& hidden_units, Index classes,
                                   std::pair<Index, Index> input_shape, std::pair<Index, Index> window_shape,
                                   std::pair<Index, Index> window_strides) {
  if (hidden_units.empty()) throw ArchitectureError("the lecture network needs at least the convolution's units");
  Architecture a;
  a.input_channels = input_channels;
  a.input_height = input_shape.first;
  a.input_width = input_shape.second;
  a.classes = classes;
  ConvLayerSpec conv;
  conv.units = hidden_units[0];
  conv.window_height = window_shape.first;
  conv.window_width = window_shape.second;
  conv.stride_height = window_strides.first;
  conv.stride_width = window_strides.second;
  a.conv_layers.push_back(conv);
  a.dense_layers.assign(hidden_units.begin() + 1, hidden_units.end());
  a.validate();
  return a;
}

Architecture Architecture::parse(std::string_view layers, Index input_channels, Index input_height,
                                 Index input_width, Index classes) {
  Architecture a;
  a.input_channels = input_channels;
  a.input_height = input_height;
  a.input_width = input_width;
  a.classes = classes;
  if (trim(layers).empty()) throw ArchitectureError("--arch is empty (expected e.g. conv20:5x5:s1,dense50)");
  for (std::string_view raw : split(layers, ',')) {
    const std::string_view layer = trim(raw);
    if (layer.starts_with("conv")) {
      if (!a.dense_layers.empty()) fail_layer(layer, "convolution layers must come before dense layers");
      a.conv_layers.push_back(parse_conv(layer));
    } else if (layer.starts_with("dense")) {
      a.dense_layers.push_back(parse_count(layer.substr(5), layer, "units"));
    } else {
      fail_layer(layer, "expected conv<units>:<kh>x<kw>[:s<stride>][:p<pad>] or dense<units>");
    }
  }
  a.validate();
  return a;
}

std::string Architecture::layers_text() const {
  std::string text;
  const auto append = [&text](const std::string& layer) {
    if (!text.empty()) text += ',';
    text += layer;
  };
  for (const ConvLayerSpec& c : conv_layers) append(conv_text(c));
  for (Index units : dense_layers) append("dense" + std::to_string(units));
  return text;
}

std::string Architecture::describe() const {
  std::ostringstream text;
  text << input_channels << "x" << input_height << "x" << input_width;
  const std::vector<LayerGeometry> geometry = layers();
  for (std::size_t i = 0; i < conv_layers.size(); ++i) {
    text << " -> " << conv_text(conv_layers[i]) << " (" << geometry[i].units << "x" << geometry[i].out_height
         << "x" << geometry[i].out_width << ")";
  }
  for (Index units : dense_layers) text << " -> dense" << units;
  text << " -> softmax" << classes;
  return text.str();
}

void Architecture::validate() const {
  const auto positive = [](Index value, const std::string& what) {
    if (value < 1) throw ArchitectureError(what + " must be at least 1, got " + std::to_string(value));
    if (value > kMaxExtent) throw ArchitectureError(what + " is too large: " + std::to_string(value));
  };
  positive(input_channels, "input channels");
  positive(input_height, "input height");
  positive(input_width, "input width");
  if (classes < 2) throw ArchitectureError("need at least 2 classes, got " + std::to_string(classes));
  positive(classes, "classes");
  const auto values_per_example = [](Index c, Index h, Index w) { return capped_product(capped_product(c, h), w); };
  if (values_per_example(input_channels, input_height, input_width) > kMaxValuesPerExample) {
    throw ArchitectureError("input " + std::to_string(input_channels) + "x" + std::to_string(input_height) + "x" +
                            std::to_string(input_width) + " is too large: more than " +
                            std::to_string(kMaxValuesPerExample) + " values per example");
  }
  Index channels = input_channels, height = input_height, width = input_width;
  Index parameters = 0;
  for (std::size_t i = 0; i < conv_layers.size(); ++i) {
    const ConvLayerSpec& c = conv_layers[i];
    const std::string name = "layer " + std::to_string(i + 1) + " (" + conv_text(c) + ")";
    positive(c.units, name + ": units");
    positive(c.window_height, name + ": window height");
    positive(c.window_width, name + ": window width");
    positive(c.stride_height, name + ": stride");
    positive(c.stride_width, name + ": stride");
    if (c.pad_height < 0 || c.pad_width < 0) throw ArchitectureError(name + ": padding must not be negative");
    if (c.pad_height >= c.window_height || c.pad_width >= c.window_width) {
      throw ArchitectureError(name + ": padding must be smaller than the window (some outputs would see only zeros)");
    }
    const Index padded_height = height + 2 * c.pad_height, padded_width = width + 2 * c.pad_width;
    if (c.window_height > padded_height || c.window_width > padded_width) {
      throw ArchitectureError(name + ": window " + std::to_string(c.window_height) + "x" +
                              std::to_string(c.window_width) + " is larger than the input it sees, " +
                              std::to_string(height) + "x" + std::to_string(width) +
                              (c.pad_height || c.pad_width ? " padded to " + std::to_string(padded_height) + "x" +
                                                                 std::to_string(padded_width)
                                                           : std::string()));
    }
    const Index fan_in = capped_product(capped_product(channels, c.window_height), c.window_width);
    parameters += capped_product(c.units, fan_in + 1);  // at most 2 x (kMaxParameters + 1): no overflow
    channels = c.units;
    height = (padded_height - c.window_height) / c.stride_height + 1;
    width = (padded_width - c.window_width) / c.stride_width + 1;
    if (parameters > kMaxParameters) throw ArchitectureError(name + ": too many parameters");
    if (values_per_example(channels, height, width) > kMaxValuesPerExample) {
      throw ArchitectureError(name + ": output too large: more than " + std::to_string(kMaxValuesPerExample) +
                              " values per example");
    }
  }
  Index inputs = channels * height * width;
  for (std::size_t i = 0; i < dense_layers.size(); ++i) {
    const std::string name = "layer " + std::to_string(conv_layers.size() + i + 1) + " (dense" +
                             std::to_string(dense_layers[i]) + ")";
    positive(dense_layers[i], name + ": units");
    if (inputs > kMaxParameters / dense_layers[i]) throw ArchitectureError(name + ": too many parameters");
    parameters += (inputs + 1) * dense_layers[i];
    inputs = dense_layers[i];
    if (parameters > kMaxParameters) throw ArchitectureError(name + ": too many parameters");
  }
  if (inputs > kMaxParameters / classes) throw ArchitectureError("output layer: too many parameters");
  parameters += (inputs + 1) * classes;
  if (parameters > kMaxParameters) throw ArchitectureError("the network has too many parameters");
}

std::vector<LayerGeometry> Architecture::layers() const {
  validate();
  std::vector<LayerGeometry> result;
  Index channels = input_channels, height = input_height, width = input_width;
  for (const ConvLayerSpec& c : conv_layers) {
    LayerGeometry g;
    g.is_conv = true;
    g.in_channels = channels;
    g.in_height = height;
    g.in_width = width;
    g.units = c.units;
    g.out_height = conv_output_size(height, c.window_height, c.stride_height, c.pad_height);
    g.out_width = conv_output_size(width, c.window_width, c.stride_width, c.pad_width);
    g.fan_in = channels * c.window_height * c.window_width;
    g.weight_count = c.units * g.fan_in;
    g.bias_count = c.units;
    result.push_back(g);
    channels = g.units;
    height = g.out_height;
    width = g.out_width;
  }
  Index inputs = channels * height * width;
  const auto add_dense = [&](Index units) {
    LayerGeometry g;
    g.in_channels = inputs;
    g.units = units;
    g.fan_in = inputs;
    g.weight_count = inputs * units;
    g.bias_count = units;
    result.push_back(g);
    inputs = units;
  };
  for (Index units : dense_layers) add_dense(units);
  add_dense(classes);
  return result;
}

Index Architecture::parameter_count() const {
  Index count = 0;
  for (const LayerGeometry& g : layers()) count += g.weight_count + g.bias_count;
  return count;
}

}  // namespace convlab

namespace convlab {

std::vector<ConvShape> Architecture::conv_shapes(Index n) const {
  std::vector<ConvShape> shapes;
  const std::vector<LayerGeometry> geometry = layers();
  for (std::size_t l = 0; l < conv_layers.size(); ++l) shapes.push_back(conv_layer_shape(geometry[l], conv_layers[l], n));
  return shapes;
}

ConvShape conv_layer_shape(const LayerGeometry& g, const ConvLayerSpec& spec, Index n) {
  ConvShape s;
  s.batch = n;
  s.in_channels = g.in_channels;
  s.in_height = g.in_height;
  s.in_width = g.in_width;
  s.out_channels = g.units;
  s.kernel_height = spec.window_height;
  s.kernel_width = spec.window_width;
  s.stride_height = spec.stride_height;
  s.stride_width = spec.stride_width;
  s.pad_height = spec.pad_height;
  s.pad_width = spec.pad_width;
  return s;
}

std::string unsupported_layer(const ConvImplInfo& info, const Architecture& a, bool training) {
  const std::vector<ConvShape> shapes = a.conv_shapes(1);
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    const std::string why = training ? info.why_unsupported(shapes[l]) : info.why_unsupported(shapes[l], ConvPass::forward);
    if (!why.empty()) {
      return "implementation '" + info.name + "' cannot run convolution layer " + std::to_string(l + 1) + " (" +
             shapes[l].describe() + "): " + why;
    }
  }
  return {};
}

}  // namespace convlab
