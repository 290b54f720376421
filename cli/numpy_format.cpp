// numpy's array printing rules, followed for the cases the walk-through prints (see numpy_format.hpp):
// every element is formatted alone, then padded to the widest integer part (right-aligned) and, for
// floats, the longest fraction (left-aligned, padded with spaces); axes are separated by ", " (the last
// axis), a newline (the one before it) and one more blank line per axis further out.
#include "cli/numpy_format.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace convlab::cli {
namespace {

constexpr std::size_t kLineWidth = 75;

template <typename Float>
std::string shortest(Float value) {
  char text[64];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value);
  if (error != std::errc()) throw std::runtime_error("numpy_scalar: cannot format a value");
  return std::string(text, end);
}

template <typename Float>
std::string python_repr(Float value) {
  std::string text = shortest(value);
  if (text.find_first_of(".en") == std::string::npos) text += ".0";  // whole numbers; "nan"/"inf" stay
  return text;
}

// A float's positional text split at the point: "0.05" -> {"0", "05"}, "0" -> {"0", ""}.
struct FloatParts {
  std::string whole, fraction;
};

FloatParts float_parts(double value) {
  char text[400];
  const auto [end, error] = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  if (error != std::errc()) throw std::runtime_error("numpy_array: cannot format a value");
  const std::string fixed(text, end);
  const std::size_t point = fixed.find('.');
  if (point == std::string::npos) return {fixed, ""};
  return {fixed.substr(0, point), fixed.substr(point + 1)};
}

std::vector<std::string> format_elements(std::span<const std::int64_t> values) {
  std::vector<std::string> words;
  std::size_t width = 0;
  for (std::int64_t value : values) {
    words.push_back(std::to_string(value));
    width = std::max(width, words.back().size());
  }
  for (std::string& word : words) word.insert(0, width - word.size(), ' ');
  return words;
}

std::vector<std::string> format_elements(std::span<const double> values) {
  std::vector<FloatParts> parts;
  std::size_t whole_width = 0, fraction_width = 0;
  for (double value : values) {
    parts.push_back(float_parts(value));
    whole_width = std::max(whole_width, parts.back().whole.size());
    fraction_width = std::max(fraction_width, parts.back().fraction.size());
  }
  std::vector<std::string> words;
  for (const FloatParts& part : parts) {
    std::string word(whole_width - part.whole.size(), ' ');
    word += part.whole + "." + part.fraction;
    word.append(fraction_width - part.fraction.size(), ' ');
    words.push_back(std::move(word));
  }
  return words;
}

class ArrayPrinter {
 public:
  ArrayPrinter(const std::vector<std::string>& words, std::span<const Index> shape)
      : words_(words), shape_(shape.begin(), shape.end()) {}

  std::string print() {
    const std::string prefix = "array(";
    std::string text = prefix;
    std::size_t next = 0;
    block(text, 0, next, std::string(prefix.size(), ' '));
    return text + ")";
  }

 private:
  // Appends the sub-array on `axis` starting at word `next`; `indent` is where its rows start.
  void block(std::string& text, std::size_t axis, std::size_t& next, const std::string& indent) {
    text += "[";
    const std::string inner = indent + " ";
    const Index count = shape_[axis];
    if (axis + 1 == shape_.size()) {
      // numpy's rule: wrap before a word when the line so far (its ", " included) plus the word would pass
      // the width left once every open bracket has been closed, unless the line holds nothing yet.
      const std::size_t width = kLineWidth - axis - 1;
      std::size_t line_start = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
      for (Index i = 0; i < count; ++i) {
        const std::string& word = words_[next++];
        const std::size_t line_length = text.size() - line_start;
        if (line_length + word.size() > width && line_length > inner.size()) {
          text.erase(text.find_last_not_of(' ') + 1);
          text += "\n" + inner;
          line_start = text.size() - inner.size();
        }
        text += word;
        if (i + 1 < count) text += ", ";
      }
    } else {
      const std::size_t blank_lines = shape_.size() - axis - 2;
      for (Index i = 0; i < count; ++i) {
        if (i > 0) {
          text += ",";
          text.append(blank_lines + 1, '\n');
          text += inner;
        }
        block(text, axis + 1, next, inner);
      }
    }
    text += "]";
  }

  const std::vector<std::string>& words_;
  std::vector<Index> shape_;
};

template <typename T>
std::string print_array(std::span<const T> values, std::span<const Index> shape) {
  if (shape.empty()) throw std::invalid_argument("numpy_array: an array needs at least one axis");
  Index count = 1;
  for (Index extent : shape) {
    if (extent <= 0) throw std::invalid_argument("numpy_array: every axis must be non-empty");
    count *= extent;
  }
  if (count != Index(values.size())) {
    throw std::invalid_argument("numpy_array: " + std::to_string(values.size()) + " values do not fill shape " +
                                numpy_tuple(shape));
  }
  const std::vector<std::string> words = format_elements(values);
  return ArrayPrinter(words, shape).print();
}

}  // namespace

std::string numpy_scalar(double value) { return python_repr(value); }
std::string numpy_scalar(float value) { return python_repr(value); }

std::string numpy_array(std::span<const std::int64_t> values, std::span<const Index> shape) {
  return print_array(values, shape);
}

std::string numpy_array(std::span<const double> values, std::span<const Index> shape) {
  return print_array(values, shape);
}

std::string numpy_tuple(std::span<const Index> values) {
  std::string text = "(";
  for (std::size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  if (values.size() == 1) text += ",";
  return text + ")";
}

}  // namespace convlab::cli
