// AlignedBuffer: cache-line aligned storage, on whole huge pages from 2 MiB on (common/tensor/aligned_buffer.hpp).
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "common/tensor/aligned_buffer.hpp"

namespace {

std::uintptr_t address(const void* pointer) { return reinterpret_cast<std::uintptr_t>(pointer); }

}  // namespace

TEST_CASE("work buffers start on a cache line, and from 2 MiB on at a huge page", "[buffer]") {
  for (const std::size_t count : {std::size_t(1), std::size_t(17), std::size_t(4096)}) {
    convlab::AlignedBuffer<float> small(count);
    CHECK(address(small.data()) % convlab::kBufferAlignment == 0);
  }
  // Exactly one huge page, one float more than one (two pages), and a size that grows past the threshold.
  for (const std::size_t count : {convlab::kHugePageBytes / sizeof(float), convlab::kHugePageBytes / sizeof(float) + 1}) {
    convlab::AlignedBuffer<float> large(count);
    INFO(count << " floats");
    CHECK(address(large.data()) % convlab::kHugePageBytes == 0);
    large[count - 1] = 1.0f;  // the last element is ours (ASan would catch a short allocation)
    CHECK(large[count - 1] == 1.0f);
  }
  convlab::AlignedBuffer<double> grown(100);
  grown.resize(convlab::kHugePageBytes / sizeof(double) * 3);
  CHECK(address(grown.data()) % convlab::kHugePageBytes == 0);
  CHECK(grown.size() == convlab::kHugePageBytes / sizeof(double) * 3);
}

TEST_CASE("a vector reserved on huge pages keeps its elements and has the room asked for", "[buffer]") {
  std::vector<int> values = {3, 1, 4};
  convlab::reserve_on_huge_pages(values, std::size_t(3) << 20);
  CHECK(values == std::vector<int>{3, 1, 4});
  CHECK(values.capacity() >= std::size_t(3) << 20);
  const int* storage = values.data();
  convlab::reserve_on_huge_pages(values, 10);  // already room: nothing moves
  CHECK(values.data() == storage);
  values.resize(std::size_t(3) << 20, 7);
  CHECK(values.back() == 7);
}
