// Reading and writing numpy .npy files (format 1.0, 2.0 and 3.0 headers), for `convlab conv` and the
// checks against PyTorch. Only what convolution needs: little-endian float32 ('<f4') or float64 ('<f8'),
// C order, any shape. Every malformed file is an NpyError naming the file and the problem, found before
// anything larger than the file itself is allocated. Writes go to a temporary file renamed into place,
// so a reader never sees half a file.
#pragma once

#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "common/tensor/strided_view.hpp"

namespace convlab {

class NpyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class NpyDtype { Float32, Float64 };

// numpy's spelling: "<f4" or "<f8".
const char* npy_descr(NpyDtype dtype);

struct NpyArray {
  std::vector<Index> shape;
  std::variant<std::vector<float>, std::vector<double>> values;

  NpyDtype dtype() const { return values.index() == 0 ? NpyDtype::Float32 : NpyDtype::Float64; }
  Index element_count() const;
  // The values as T; throws NpyError when the array holds the other type.
  template <typename T>
  const std::vector<T>& as() const;
  // "(2, 3, 4)", numpy's way (a 1-D shape prints as "(5,)").
  std::string shape_text() const;
};

// "(2, 3, 4)", numpy's way (a 1-D shape prints as "(5,)"): how errors name an array's shape.
std::string shape_text(std::span<const Index> shape);

NpyArray read_npy(const std::filesystem::path& path);

template <typename T>
void write_npy(const std::filesystem::path& path, std::span<const Index> shape, std::span<const T> values);

// The bytes of a .npy file holding `values` in `shape` (what write_npy writes; also a member of a .npz);
// `name` names the array in errors.
template <typename T>
std::string npy_bytes(std::span<const Index> shape, std::span<const T> values, const std::string& name);

}  // namespace convlab
