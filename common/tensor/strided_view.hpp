// A checked C++ counterpart of numpy's `as_strided`.
//
// A StridedView is a shape and a stride per axis over a buffer it does not own. Strides are counted in
// elements (byte_strides() gives numpy's byte strides for teaching). Unlike numpy, building a view that
// could reach outside its buffer throws ViewError: the lecture's stride tricks stay safe to play with.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>

namespace convlab {

using Index = std::ptrdiff_t;

class ViewError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

template <typename T, std::size_t Rank>
class StridedView {
 public:
  using Shape = std::array<Index, Rank>;

  // `offset` is where element (0, ..., 0) sits in `buffer`.
  StridedView(std::span<T> buffer, Shape shape, Shape strides, Index offset = 0)
      : buffer_(buffer), shape_(shape), strides_(strides), offset_(offset) {
    check_reach();
  }

  // A contiguous C-order view of the whole shape.
  StridedView(std::span<T> buffer, Shape shape) : StridedView(buffer, shape, c_order_strides(shape)) {}

  static Shape c_order_strides(const Shape& shape) {
    Shape strides{};
    Index step = 1;
    for (std::size_t axis = Rank; axis-- > 0;) {
      strides[axis] = step;
      step *= shape[axis];
    }
    return strides;
  }

  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  Index shape(std::size_t axis) const { return shape_[axis]; }
  Index stride(std::size_t axis) const { return strides_[axis]; }
  Shape byte_strides() const {
    Shape bytes{};
    for (std::size_t axis = 0; axis < Rank; ++axis) bytes[axis] = strides_[axis] * Index(sizeof(T));
    return bytes;
  }
  Index size() const {
    Index count = 1;
    for (Index extent : shape_) count *= extent;
    return count;
  }
  Index offset() const { return offset_; }
  std::span<T> buffer() const { return buffer_; }
  // Pointer to element (0, ..., 0); only meaningful for a non-empty view.
  T* data() const { return buffer_.data() + offset_; }

  template <typename... Indices>
    requires(sizeof...(Indices) == Rank)
  T& operator()(Indices... indices) const {
    const std::array<Index, Rank> at{Index(indices)...};
    Index position = offset_;
    for (std::size_t axis = 0; axis < Rank; ++axis) position += at[axis] * strides_[axis];
    return buffer_[std::size_t(position)];
  }

  // Like operator() but throws ViewError on an index outside the shape.
  template <typename... Indices>
    requires(sizeof...(Indices) == Rank)
  T& at(Indices... indices) const {
    const std::array<Index, Rank> index{Index(indices)...};
    for (std::size_t axis = 0; axis < Rank; ++axis) {
      if (index[axis] < 0 || index[axis] >= shape_[axis]) {
        std::ostringstream message;
        message << "index " << index[axis] << " is out of range for axis " << axis << " of extent "
                << shape_[axis];
        throw ViewError(message.str());
      }
    }
    return (*this)(indices...);
  }

  // Fixes axis `axis` at `position`: a view of rank Rank-1 sharing the same memory.
  StridedView<T, Rank - 1> slice(std::size_t axis, Index position) const
    requires(Rank > 1)
  {
    if (position < 0 || position >= shape_[axis]) throw ViewError("slice position out of range");
    std::array<Index, Rank - 1> shape{}, strides{};
    for (std::size_t from = 0, to = 0; from < Rank; ++from) {
      if (from == axis) continue;
      shape[to] = shape_[from];
      strides[to] = strides_[from];
      ++to;
    }
    return StridedView<T, Rank - 1>(buffer_, shape, strides, offset_ + position * strides_[axis]);
  }

 private:
  // Every element the view can address must lie inside the buffer; computed without overflow by
  // bounding each term before adding it.
  void check_reach() const {
    for (std::size_t axis = 0; axis < Rank; ++axis) {
      if (shape_[axis] < 0) throw ViewError("view shape has a negative extent on axis " + std::to_string(axis));
    }
    if (size() == 0) return;
    const Index limit = Index(buffer_.size());
    if (offset_ < 0 || offset_ >= limit) throw ViewError(describe("its first element lies outside the buffer"));
    Index lowest = offset_, highest = offset_;
    for (std::size_t axis = 0; axis < Rank; ++axis) {
      const Index steps = shape_[axis] - 1;
      const Index stride = strides_[axis];
      if (steps == 0 || stride == 0) continue;
      const Index magnitude = stride < 0 ? -stride : stride;
      if (magnitude > limit || steps > limit / magnitude) throw ViewError(describe("it reaches outside the buffer"));
      const Index reach = steps * magnitude;
      if (stride > 0) highest += reach; else lowest -= reach;
      if (highest >= limit || lowest < 0) throw ViewError(describe("it reaches outside the buffer"));
    }
  }

  std::string describe(const char* problem) const {
    std::ostringstream message;
    message << "strided view with shape (";
    for (std::size_t axis = 0; axis < Rank; ++axis) message << (axis ? ", " : "") << shape_[axis];
    message << ") and element strides (";
    for (std::size_t axis = 0; axis < Rank; ++axis) message << (axis ? ", " : "") << strides_[axis];
    message << ") at offset " << offset_ << " over a buffer of " << buffer_.size() << " elements is invalid: "
            << problem;
    return message.str();
  }

  std::span<T> buffer_;
  Shape shape_;
  Shape strides_;
  Index offset_;
};

// numpy's as_strided with strides in bytes, as the lecture wrote them; byte strides must be whole elements.
template <typename T, std::size_t Rank>
StridedView<T, Rank> as_strided(std::span<T> buffer, std::array<Index, Rank> shape,
                                std::array<Index, Rank> byte_strides) {
  std::array<Index, Rank> strides{};
  for (std::size_t axis = 0; axis < Rank; ++axis) {
    if (byte_strides[axis] % Index(sizeof(T)) != 0) {
      throw ViewError("byte stride " + std::to_string(byte_strides[axis]) + " on axis " + std::to_string(axis) +
                      " is not a multiple of the element size " + std::to_string(sizeof(T)));
    }
    strides[axis] = byte_strides[axis] / Index(sizeof(T));
  }
  return StridedView<T, Rank>(buffer, shape, strides);
}

struct Window2d {
  Index rows = 1, cols = 1;
};

// The lecture's windows view: images (N, H, W) -> (N, window rows, window cols, rows in window, cols in window).
// Window (n, r, c) starts at pixel (r * stride.rows, c * stride.cols) of image n; no element is copied.
template <typename T>
StridedView<T, 5> sliding_windows(const StridedView<T, 3>& images, Window2d window, Window2d stride) {
  if (window.rows <= 0 || window.cols <= 0) throw ViewError("window shape must be positive");
  if (stride.rows <= 0 || stride.cols <= 0) throw ViewError("window strides must be positive");
  if (window.rows > images.shape(1) || window.cols > images.shape(2)) {
    throw ViewError("window " + std::to_string(window.rows) + "x" + std::to_string(window.cols) +
                    " is larger than the image " + std::to_string(images.shape(1)) + "x" +
                    std::to_string(images.shape(2)));
  }
  const Index grid_rows = (images.shape(1) - window.rows) / stride.rows + 1;
  const Index grid_cols = (images.shape(2) - window.cols) / stride.cols + 1;
  return StridedView<T, 5>(images.buffer(), {images.shape(0), grid_rows, grid_cols, window.rows, window.cols},
                           {images.stride(0), images.stride(1) * stride.rows, images.stride(2) * stride.cols,
                            images.stride(1), images.stride(2)},
                           images.offset());
}

// Multi-channel windows for im2col: images (N, C, H, W) -> (N, window rows, window cols, C, rows in window,
// cols in window). The last three axes are in the order of a weight tensor (F, C, kh, kw).
template <typename T>
StridedView<T, 6> sliding_windows(const StridedView<T, 4>& images, Window2d window, Window2d stride) {
  if (window.rows <= 0 || window.cols <= 0) throw ViewError("window shape must be positive");
  if (stride.rows <= 0 || stride.cols <= 0) throw ViewError("window strides must be positive");
  if (window.rows > images.shape(2) || window.cols > images.shape(3)) {
    throw ViewError("window " + std::to_string(window.rows) + "x" + std::to_string(window.cols) +
                    " is larger than the image " + std::to_string(images.shape(2)) + "x" +
                    std::to_string(images.shape(3)));
  }
  const Index grid_rows = (images.shape(2) - window.rows) / stride.rows + 1;
  const Index grid_cols = (images.shape(3) - window.cols) / stride.cols + 1;
  return StridedView<T, 6>(
      images.buffer(), {images.shape(0), grid_rows, grid_cols, images.shape(1), window.rows, window.cols},
      {images.stride(0), images.stride(2) * stride.rows, images.stride(3) * stride.cols, images.stride(1),
       images.stride(2), images.stride(3)},
      images.offset());
}

}  // namespace convlab
