// Cache-line aligned, uninitialised-by-choice storage for numeric work buffers.
//
// std::vector value-initialises every element, which on this VM means touching (and faulting in) every
// page at allocation time; AlignedBuffer lets hot paths allocate once, keep the buffer, and reuse it.
// A buffer of 2 MiB or more is placed on whole 2 MiB pages and offered to the kernel's transparent huge pages
// (MADV_HUGEPAGE; Debian's default THP mode serves only regions that ask): its first touch then costs one fault
// per 2 MiB instead of one per 4 KiB page, and a fault is what a first touch costs most on a VM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace convlab {

inline constexpr std::size_t kBufferAlignment = 64;
inline constexpr std::size_t kHugePageBytes = std::size_t(2) << 20;

// `bytes` rounded up to a whole number of `unit`s.
constexpr std::size_t round_up_bytes(std::size_t bytes, std::size_t unit) { return (bytes + unit - 1) / unit * unit; }

// Offers the whole 2 MiB pages inside [memory, memory + bytes) to the kernel's transparent huge pages; to be
// called before anything touches them. A hint: where huge pages are off the memory works as before.
inline void advise_huge_pages(void* memory, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(memory);
  const std::uintptr_t begin = round_up_bytes(first, kHugePageBytes);
  const std::uintptr_t end = (first + bytes) / kHugePageBytes * kHugePageBytes;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)memory;
  (void)bytes;
#endif
}

// `bytes` (a multiple of kBufferAlignment) of storage, on whole huge pages when it is at least one.
inline void* allocate_work_buffer(std::size_t bytes) {
  if (bytes < kHugePageBytes) return std::aligned_alloc(kBufferAlignment, bytes);
  const std::size_t whole_pages = round_up_bytes(bytes, kHugePageBytes);
  void* memory = std::aligned_alloc(kHugePageBytes, whole_pages);
  if (memory) advise_huge_pages(memory, whole_pages);
  return memory;
}

// Room for `count` elements in `values`, whose new storage, if it needs new storage, is offered to huge pages
// before the vector touches it (as it grows into it): for the big std::vector arrays, the datasets' bytes and
// inputs.
template <typename T>
void reserve_on_huge_pages(std::vector<T>& values, std::size_t count) {
  if (count <= values.capacity()) return;
  std::vector<T> fresh;
  fresh.reserve(count);
  advise_huge_pages(fresh.data(), count * sizeof(T));
  fresh.insert(fresh.end(), values.begin(), values.end());
  values.swap(fresh);
}

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t count) { resize(count); }
  AlignedBuffer(std::size_t count, T fill) {
    resize(count);
    for (std::size_t i = 0; i < count; ++i) data_[i] = fill;
  }
  AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
    if (size_) std::memcpy(data_.get(), other.data_.get(), size_ * sizeof(T));
  }
  AlignedBuffer& operator=(const AlignedBuffer& other) {
    if (this != &other) {
      AlignedBuffer copy(other);
      swap(copy);
    }
    return *this;
  }
  AlignedBuffer(AlignedBuffer&&) noexcept = default;
  AlignedBuffer& operator=(AlignedBuffer&&) noexcept = default;

  // Grows capacity if needed; contents are unspecified afterwards when it grows.
  void resize(std::size_t count) {
    if (count > capacity_) {
      const std::size_t bytes = round_up_bytes(count * sizeof(T), kBufferAlignment);
      void* memory = allocate_work_buffer(bytes);
      if (!memory) throw std::bad_alloc();
      data_.reset(static_cast<T*>(memory));
      capacity_ = count;
    }
    size_ = count;
  }
  void fill(T value) {
    for (std::size_t i = 0; i < size_; ++i) data_[i] = value;
  }
  void swap(AlignedBuffer& other) noexcept {
    data_.swap(other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  std::span<T> span() { return {data(), size_}; }
  std::span<const T> span() const { return {data(), size_}; }

 private:
  struct Free {
    void operator()(T* pointer) const { std::free(pointer); }
  };
  std::unique_ptr<T[], Free> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace convlab
