// benchdnn convolution descriptors (see conv_descriptor.hpp).
#include "common/conv/conv_descriptor.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "common/io/input_file.hpp"

namespace convlab {

namespace {

enum Field { mb, g, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, kFieldCount };
constexpr std::array<const char*, kFieldCount> kKeys = {"mb", "g",  "ic", "ih", "iw", "oc", "oh", "ow",
                                                        "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"};
constexpr const char* kKnownFields = "mb g ic ih iw oc oh ow kh kw sh sw ph pw dh dw n\"name\"";
// benchdnn's depth fields: recognised only to say why they are refused.
constexpr std::array<const char*, 6> kDepthKeys = {"id", "od", "kd", "sd", "pd", "dd"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_printable(char c) { return c >= 0x20 && c < 0x7f; }

// Long inputs are cut and unprintable bytes shown as '?', so an error stays one readable line.
std::string excerpt(std::string_view text, std::size_t limit = 80) {
  std::string shown(text.substr(0, limit));
  for (char& c : shown) {
    if (!is_printable(c)) c = '?';
  }
  return text.size() <= limit ? shown : shown + "...";
}

std::string describe_char(char c) {
  if (is_printable(c)) return std::string("'") + c + "'";
  static const char* digits = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("byte 0x") + digits[byte >> 4] + digits[byte & 15];
}

class DescriptorParser {
 public:
  explicit DescriptorParser(std::string_view text) : text_(text) {}

  ConvDescriptor parse(Index default_batch) {
    if (text_.empty()) throw ConvDescriptorError("empty descriptor");
    if (text_.starts_with("--")) {
      fail(0, "benchdnn options such as --dir=... are not supported: give descriptors only");
    }
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '_') {
        ++pos_;
      } else if (c == 'n') {
        parse_name();
      } else {
        parse_field();
      }
    }
    return resolve(default_batch);
  }

 private:
  [[noreturn]] void fail(std::size_t position, const std::string& problem) const {
    throw ConvDescriptorError("descriptor '" + excerpt(text_) + "': at character " + std::to_string(position + 1) +
                              ": " + problem);
  }
  [[noreturn]] void fail(const std::string& problem) const {
    throw ConvDescriptorError("descriptor '" + excerpt(text_) + "': " + problem);
  }

  void parse_name() {
    const std::size_t start = pos_;
    if (name_) fail(start, "duplicate name (already given at character " + std::to_string(name_at_ + 1) + ")");
    if (start + 1 >= text_.size() || text_[start + 1] != '"') {
      fail(start, "n must be followed by a quoted name, e.g. n\"conv1\"");
    }
    const std::size_t close = text_.find('"', start + 2);
    if (close == std::string_view::npos) fail(start, "unterminated quote in name: n\"... needs a closing \"");
    const std::string_view name = text_.substr(start + 2, close - start - 2);
    if (name.empty()) fail(start, "empty name n\"\"");
    for (std::size_t i = 0; i < name.size(); ++i) {
      // Names become benchmark names and JSON strings: printable ASCII keeps both simple and readable.
      if (!is_printable(name[i])) fail(start + 2 + i, "a name may hold printable ASCII only, found " +
                                                          describe_char(name[i]));
    }
    name_ = std::string(name);
    name_at_ = start;
    pos_ = close + 1;
  }

  void parse_field() {
    const std::size_t start = pos_;
    const std::string_view rest = text_.substr(start);
    int field = -1;
    for (int f = 0; f < kFieldCount; ++f) {
      if (rest.starts_with(kKeys[f])) field = f;
    }
    if (field < 0) unknown_field(start);
    const std::string key = kKeys[field];
    if (values_[field]) {
      fail(start, "duplicate field '" + key + "' (already given at character " + std::to_string(at_[field] + 1) +
                      ")");
    }
    pos_ += key.size();
    const Index value = parse_number(key);
    check_value(static_cast<Field>(field), value, start);
    values_[field] = value;
    at_[field] = start;
  }

  [[noreturn]] void unknown_field(std::size_t start) const {
    const char c = text_[start];
    if (!is_letter(c)) {
      fail(start, "unexpected " + describe_char(c) + " where a field was expected (known: " + kKnownFields + ")");
    }
    std::size_t end = start;
    while (end < text_.size() && is_letter(text_[end]) && end - start < 12) ++end;
    const std::string letters(text_.substr(start, end - start));
    for (const char* depth : kDepthKeys) {
      if (letters.starts_with(depth)) {
        fail(start, std::string("'") + depth + "' is a 3-D (depth) field; convlab's convolutions are 2-D");
      }
    }
    fail(start, "unknown field '" + letters + "' (known: " + kKnownFields + ")");
  }

  Index parse_number(const std::string& key) {
    const std::size_t start = pos_;
    if (start < text_.size() && (text_[start] == '-' || text_[start] == '+')) {
      fail(start, "'" + key + "' must be followed by a whole number without a sign, found " +
                      describe_char(text_[start]) + " (negative values are not allowed)");
    }
    if (start >= text_.size() || !is_digit(text_[start])) {
      fail(start, "missing number after '" + key + "'" +
                      (start < text_.size() ? ", found " + describe_char(text_[start]) : std::string(" at the end")));
    }
    Index value = 0;
    bool too_large = false;
    for (; pos_ < text_.size() && is_digit(text_[pos_]); ++pos_) {
      const Index digit = text_[pos_] - '0';
      if (too_large || value > (kMaxDescriptorNumber - digit) / 10) {
        too_large = true;  // keep consuming the digits so the message shows the whole number
      } else {
        value = value * 10 + digit;
      }
    }
    if (too_large) {
      fail(start, "number " + excerpt(text_.substr(start, pos_ - start), 40) + " after '" + key +
                      "' is too large (at most " + std::to_string(kMaxDescriptorNumber) + ")");
    }
    return value;
  }

  void check_value(Field field, Index value, std::size_t start) const {
    const std::string key = kKeys[field];
    const std::string given = key + std::to_string(value);
    switch (field) {
      case g:
        if (value != 1) fail(start, given + ": only g1 is supported (convlab has no grouped convolutions)");
        return;
      case dh:
      case dw:
        if (value != 0) {
          fail(start, given + ": only dilation 0 (benchdnn's 'none') is supported: convlab has no dilated "
                              "convolutions");
        }
        return;
      case ph:
      case pw: return;  // zero padding is the common case
      default:
        if (value < 1) fail(start, "'" + key + "' must be at least 1, got " + given);
    }
  }

  // o = floor((i + 2p - k) / s) + 1 holds exactly for (o-1)s - i + k <= 2p < os - i + k; the smallest such p.
  Index solve_padding(Field out_field, Index out, Index in, Index kernel, Index stride) const {
    const Index low = (out - 1) * stride - in + kernel;
    const Index high = out * stride - in + kernel;
    const Index padding = low <= 0 ? 0 : (low + 1) / 2;
    if (2 * padding >= high) {
      const bool rows = out_field == oh;
      fail(at_[out_field], std::string("no whole-number padding gives ") + (rows ? "oh" : "ow") +
                               std::to_string(out) + " with " + (rows ? "ih" : "iw") + std::to_string(in) + ", " +
                               (rows ? "kh" : "kw") + std::to_string(kernel) + ", " + (rows ? "sh" : "sw") +
                               std::to_string(stride) + ": give " + (rows ? "ph" : "pw") + " explicitly");
    }
    return padding;
  }

  void check_output(Field out_field, Index computed, const ConvShape& s) const {
    if (!values_[out_field] || *values_[out_field] == computed) return;
    const bool rows = out_field == oh;
    const std::string axis = rows ? "h" : "w";
    fail(at_[out_field], "o" + axis + std::to_string(*values_[out_field]) + " does not match the output " +
                             (rows ? "height " : "width ") + std::to_string(computed) + " that i" + axis +
                             std::to_string(rows ? s.in_height : s.in_width) + ", k" + axis +
                             std::to_string(rows ? s.kernel_height : s.kernel_width) + ", s" + axis +
                             std::to_string(rows ? s.stride_height : s.stride_width) + ", p" + axis +
                             std::to_string(rows ? s.pad_height : s.pad_width) + " give");
  }

  ConvDescriptor resolve(Index default_batch) const {
    std::string missing;
    for (Field required : {ic, oc, ih, kh}) {
      if (!values_[required]) missing += std::string(missing.empty() ? "" : ", ") + kKeys[required];
    }
    if (!missing.empty()) fail("missing " + missing + " (a descriptor needs ic, oc, ih and kh)");
    ConvShape s;
    s.batch = values_[mb].value_or(default_batch);
    s.in_channels = *values_[ic];
    s.out_channels = *values_[oc];
    s.in_height = *values_[ih];
    s.in_width = values_[iw].value_or(s.in_height);
    s.kernel_height = *values_[kh];
    s.kernel_width = values_[kw].value_or(s.kernel_height);
    s.stride_height = values_[sh].value_or(1);
    s.stride_width = values_[sw].value_or(s.stride_height);
    if (values_[ph]) s.pad_height = *values_[ph];
    else if (values_[oh]) s.pad_height = solve_padding(oh, *values_[oh], s.in_height, s.kernel_height, s.stride_height);
    if (values_[pw]) s.pad_width = *values_[pw];
    else if (values_[ow]) s.pad_width = solve_padding(ow, *values_[ow], s.in_width, s.kernel_width, s.stride_width);
    else s.pad_width = s.pad_height;
    try {
      check_output(oh, s.out_height(), s);
      check_output(ow, s.out_width(), s);
      s.validate();
    } catch (const ConvShapeError& error) {
      fail(error.what());
    }
    return ConvDescriptor{name_.value_or(std::string(text_)), s, values_[mb].has_value()};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::array<std::optional<Index>, kFieldCount> values_{};
  std::array<std::size_t, kFieldCount> at_{};  // where each given field starts, for messages
  std::optional<std::string> name_;
  std::size_t name_at_ = 0;
};

// The descriptor part of a shape-file line: up to a '#' outside a quoted name, without surrounding blanks.
std::string_view strip_comment_and_blanks(std::string_view line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    else if (line[i] == '#' && !quoted) {
      line = line.substr(0, i);
      break;
    }
  }
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!line.empty() && blank(line.front())) line.remove_prefix(1);
  while (!line.empty() && blank(line.back())) line.remove_suffix(1);
  return line;
}

}  // namespace

ConvDescriptor parse_conv_descriptor(std::string_view text, Index default_batch) {
  return DescriptorParser(text).parse(default_batch);
}

std::vector<ConvDescriptor> parse_conv_descriptor_lines(std::string_view content, const std::string& source,
                                                        Index default_batch) {
  std::vector<ConvDescriptor> descriptors;
  std::size_t line_number = 0;
  while (!content.empty()) {
    ++line_number;
    const std::size_t end = content.find('\n');
    const std::string_view line = strip_comment_and_blanks(content.substr(0, end));
    content.remove_prefix(end == std::string_view::npos ? content.size() : end + 1);
    if (line.empty()) continue;
    try {
      descriptors.push_back(parse_conv_descriptor(line, default_batch));
      descriptors.back().line = line_number;
    } catch (const ConvDescriptorError& error) {
      throw ConvDescriptorError(source + ":" + std::to_string(line_number) + ": " + error.what());
    }
  }
  if (descriptors.empty()) throw ConvDescriptorError(source + ": holds no descriptors");
  return descriptors;
}

std::vector<ConvDescriptor> read_conv_descriptor_file(const std::filesystem::path& path, Index default_batch) {
  const std::string source = path.string();
  if (const std::string problem = not_a_regular_file(path); !problem.empty()) {
    throw ConvDescriptorError(source + ": " + problem);
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw ConvDescriptorError(source + ": cannot open: " + std::strerror(errno));
  std::string content(kMaxShapeFileBytes + 1, '\0');
  file.read(content.data(), std::streamsize(content.size()));
  if (file.bad()) throw ConvDescriptorError(source + ": cannot read: " + std::strerror(errno));
  content.resize(std::size_t(file.gcount()));
  if (content.size() > kMaxShapeFileBytes) {
    throw ConvDescriptorError(source + ": larger than " + std::to_string(kMaxShapeFileBytes) +
                              " bytes: not a shape file");
  }
  return parse_conv_descriptor_lines(content, source, default_batch);
}

}  // namespace convlab
