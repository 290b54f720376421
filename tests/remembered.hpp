// Results worth computing once for several tests' checks (naive's passes on the sweeps' operands, the slowest
// part of the sweeps under the sanitizers): the values of the last few keys, kept by one test thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace convlab::testing {

// The value for `key`: the remembered one, or make()'s, which then replaces the oldest once `capacity` values
// are kept. The reference stays valid until the next call on the same cache.
template <typename Value, typename Make>
const Value& remembered(std::vector<std::pair<std::string, Value>>& cache, std::size_t capacity,
                        const std::string& key, const Make& make) {
  const auto found = std::find_if(cache.begin(), cache.end(), [&](const auto& entry) { return entry.first == key; });
  if (found != cache.end()) return found->second;
  if (cache.size() == capacity) cache.erase(cache.begin());
  cache.emplace_back(key, make());
  return cache.back().second;
}

}  // namespace convlab::testing
