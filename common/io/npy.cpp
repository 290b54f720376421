// .npy reading and writing (see npy.hpp). Format: "\x93NUMPY", major and minor version bytes, a little-endian
// header length (2 bytes in 1.0, 4 in 2.0/3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces and a newline, then the data.
#include "common/io/npy.hpp"

#include "common/io/atomic_file.hpp"
#include "common/io/input_file.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

namespace convlab {

static_assert(std::endian::native == std::endian::little, "the .npy code assumes a little-endian machine");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLength = 6;

// Parses the header's dict literal; every problem becomes "<file>: unparsable .npy header: <why>".
class HeaderParser {
 public:
  HeaderParser(const std::string& file, const std::string& text) : file_(file), text_(text) {}

  struct Fields {
    std::string descr;
    bool fortran_order = false;
    std::vector<Index> shape;
  };

  Fields parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<Index>> shape;
    skip_space();
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr" && !descr) {
        descr = parse_string();
      } else if (key == "fortran_order" && !fortran_order) {
        fortran_order = parse_bool();
      } else if (key == "shape" && !shape) {
        shape = parse_shape();
      } else if (key == "descr" || key == "fortran_order" || key == "shape") {
        fail("key '" + key + "' appears twice");
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++position_;
        continue;
      }
      if (peek() != '}') fail(std::string("expected ',' or '}' at offset ") + std::to_string(position_));
    }
    ++position_;
    skip_space();
    if (position_ != text_.size()) fail("unexpected text after the closing '}'");
    if (!descr) fail("key 'descr' is missing");
    if (!fortran_order) fail("key 'fortran_order' is missing");
    if (!shape) fail("key 'shape' is missing");
    return {*descr, *fortran_order, *shape};
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw NpyError(file_ + ": unparsable .npy header: " + why);
  }
  char peek() const { return position_ < text_.size() ? text_[position_] : '\0'; }
  void skip_space() {
    while (position_ < text_.size() && (text_[position_] == ' ' || text_[position_] == '\n' ||
                                        text_[position_] == '\t' || text_[position_] == '\r'))
      ++position_;
  }
  void expect(char wanted) {
    if (peek() != wanted) fail(std::string("expected '") + wanted + "' at offset " + std::to_string(position_));
    ++position_;
  }
  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string at offset " + std::to_string(position_));
    const std::size_t end = text_.find(quote, position_ + 1);
    if (end == std::string::npos) fail("unterminated string at offset " + std::to_string(position_));
    std::string value = text_.substr(position_ + 1, end - position_ - 1);
    position_ = end + 1;
    return value;
  }
  bool parse_bool() {
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.compare(position_, std::strlen(word), word) == 0) {
        position_ += std::strlen(word);
        return value;
      }
    }
    fail("expected True or False at offset " + std::to_string(position_));
  }
  std::vector<Index> parse_shape() {
    std::vector<Index> shape;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      shape.push_back(parse_dimension());
      skip_space();
      if (peek() == ',') {
        ++position_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in the shape at offset " + std::to_string(position_));
    }
    ++position_;
    return shape;
  }
  Index parse_dimension() {
    if (peek() < '0' || peek() > '9') fail("expected a non-negative integer in the shape at offset " +
                                           std::to_string(position_));
    Index value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const Index digit = peek() - '0';
      if (value > (std::numeric_limits<Index>::max() - digit) / 10) fail("a dimension of the shape is too large");
      value = value * 10 + digit;
      ++position_;
    }
    if (peek() == 'L') ++position_;  // Python 2 wrote long integers as 3L
    return value;
  }

  const std::string& file_;
  const std::string& text_;
  std::size_t position_ = 0;
};

std::uint32_t little_endian(const unsigned char* bytes, std::size_t count) {
  std::uint32_t value = 0;
  for (std::size_t i = count; i-- > 0;) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

const char* npy_descr(NpyDtype dtype) { return dtype == NpyDtype::Float32 ? "<f4" : "<f8"; }

Index NpyArray::element_count() const {
  Index count = 1;
  for (Index extent : shape) count *= extent;
  return count;
}

template <typename T>
const std::vector<T>& NpyArray::as() const {
  if (const auto* typed = std::get_if<std::vector<T>>(&values)) return *typed;
  throw NpyError(std::string("array holds ") + npy_descr(dtype()) + " values, not " +
                 (sizeof(T) == 4 ? "<f4" : "<f8"));
}
template const std::vector<float>& NpyArray::as<float>() const;
template const std::vector<double>& NpyArray::as<double>() const;

std::string shape_text(std::span<const Index> shape) {
  std::ostringstream text;
  text << "(";
  for (std::size_t axis = 0; axis < shape.size(); ++axis) text << (axis ? ", " : "") << shape[axis];
  if (shape.size() == 1) text << ",";
  text << ")";
  return text.str();
}

std::string NpyArray::shape_text() const { return convlab::shape_text(shape); }

NpyArray read_npy(const std::filesystem::path& path) {
  const std::string file = path.string();
  if (const std::string problem = not_a_regular_file(path); !problem.empty()) throw NpyError(file + ": " + problem);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NpyError(file + ": cannot open for reading");
  in.seekg(0, std::ios::end);
  const auto file_size = std::uint64_t(in.tellg());
  in.seekg(0);

  unsigned char prefix[12] = {};
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(prefix), 8) ||
      std::memcmp(prefix, kMagic, kMagicLength) != 0) {
    throw NpyError(file + ": not a .npy file (bad magic)");
  }
  const int major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0) {
    throw NpyError(file + ": unsupported .npy format version " + std::to_string(major) + "." +
                   std::to_string(minor) + " (known: 1.0, 2.0, 3.0)");
  }
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char*>(prefix + 8), std::streamsize(length_bytes))) {
    throw NpyError(file + ": file ends inside the .npy header");
  }
  const std::uint64_t header_length = little_endian(prefix + 8, length_bytes);
  const std::uint64_t data_start = 8 + length_bytes + header_length;
  if (data_start > file_size) throw NpyError(file + ": file ends inside the .npy header");
  std::string header(std::size_t(header_length), '\0');
  if (!in.read(header.data(), std::streamsize(header_length))) throw NpyError(file + ": cannot read the header");

  const HeaderParser::Fields fields = HeaderParser(file, header).parse();
  if (fields.descr != "<f4" && fields.descr != "<f8") {
    throw NpyError(file + ": unsupported dtype '" + fields.descr + "' (convlab reads '<f4' and '<f8')");
  }
  if (fields.fortran_order) throw NpyError(file + ": Fortran-order arrays are not supported (C order only)");

  const std::uint64_t element_size = fields.descr == "<f4" ? 4 : 8;
  const std::uint64_t data_bytes = file_size - data_start;
  // Element count with an overflow guard; anything that needs more bytes than the file has is reported as
  // such before a single element is allocated.
  std::uint64_t needed = element_size;
  bool too_large = false;
  for (Index extent : fields.shape) needed = extent == 0 ? 0 : needed;
  for (Index extent : fields.shape) {
    if (extent != 0 && needed > std::numeric_limits<std::uint64_t>::max() / std::uint64_t(extent)) too_large = true;
    needed = too_large ? needed : needed * std::uint64_t(extent);
  }
  if (too_large || needed != data_bytes) {
    std::ostringstream message;
    message << file << ": shape " << shape_text(fields.shape) << " of '" << fields.descr << "' needs "
            << (too_large ? std::string("more") : std::to_string(needed)) << " bytes of data but the file has "
            << data_bytes << (too_large || needed > data_bytes ? " (truncated?)" : " (trailing bytes)");
    throw NpyError(message.str());
  }

  NpyArray array;
  array.shape = fields.shape;
  const auto read_values = [&](auto& values) {
    values.resize(std::size_t(data_bytes / element_size));
    if (!in.read(reinterpret_cast<char*>(values.data()), std::streamsize(data_bytes))) {
      throw NpyError(file + ": cannot read the data");
    }
  };
  if (element_size == 4) {
    read_values(array.values.emplace<std::vector<float>>());
  } else {
    read_values(array.values.emplace<std::vector<double>>());
  }
  return array;
}

template <typename T>
std::string npy_bytes(std::span<const Index> shape, std::span<const T> values, const std::string& name) {
  Index count = 1;
  for (Index extent : shape) {
    if (extent < 0) throw NpyError(name + ": cannot write a negative dimension");
    if (extent != 0 && count > std::numeric_limits<Index>::max() / extent) throw NpyError(name + ": shape too large");
    count *= extent;
  }
  if (std::size_t(count) != values.size()) {
    throw NpyError(name + ": shape " + shape_text(shape) + " holds " + std::to_string(count) + " elements, given " +
                   std::to_string(values.size()));
  }
  std::string header = std::string("{'descr': '") + (sizeof(T) == 4 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  // Pad with spaces and a final newline so that the data starts on a 64-byte boundary, as numpy does.
  const bool version_one = header.size() + 1 + 10 <= 65535;
  const std::size_t prefix = version_one ? 10 : 12;
  const std::size_t total = (prefix + header.size() + 1 + 63) / 64 * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');

  std::string bytes(kMagic, kMagicLength);
  bytes.push_back(char(version_one ? 1 : 2));
  bytes.push_back(0);
  for (std::size_t i = 0; i < prefix - 8; ++i) bytes.push_back(char((header.size() >> (8 * i)) & 0xff));
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
  return bytes;
}

template <typename T>
void write_npy(const std::filesystem::path& path, std::span<const Index> shape, std::span<const T> values) {
  const std::string bytes = npy_bytes(shape, values, path.string());
  try {
    write_file_atomically(path, std::as_bytes(std::span<const char>(bytes)), "array");
  } catch (const OutputFileError& error) {
    throw NpyError(error.what());
  }
}

template std::string npy_bytes<float>(std::span<const Index>, std::span<const float>, const std::string&);
template std::string npy_bytes<double>(std::span<const Index>, std::span<const double>, const std::string&);
template void write_npy<float>(const std::filesystem::path&, std::span<const Index>, std::span<const float>);
template void write_npy<double>(const std::filesystem::path&, std::span<const Index>, std::span<const double>);

}  // namespace convlab
