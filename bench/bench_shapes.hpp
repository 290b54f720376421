// The layers the benchmark suite times: the standard shape files in bench/shapes/ (benchdnn descriptors, see
// common/conv/conv_descriptor.hpp), or the user's own from --shapes FILE and --shape DESC.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/conv/conv_shape.hpp"

namespace convlab::bench {

class BenchPlanError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct BenchShape {
  std::string id;      // the name made safe for benchmark names, unique in a plan, e.g. "resnet_50_conv1"
  std::string name;    // as the descriptor names it, e.g. "resnet_50:conv1"
  std::string suite;   // the shape file's stem, e.g. "resnet", or "user" for --shape
  std::string origin;  // where it was defined, for messages: "<file>:<line>" or "--shape '<descriptor>'"
  ConvShape shape;     // batch: the descriptor's mb, or kUserDefaultBatch when it has none
};

// The batch of a descriptor without mb: the minibatch size most training uses.
inline constexpr Index kUserDefaultBatch = 64;

// The standard files, in the order the full plan runs them; quick mode runs only the first.
inline constexpr const char* kStandardSuites[] = {"mnist", "resnet", "deepbench", "tails"};
std::filesystem::path standard_shapes_dir();  // bench/shapes in the source tree, wherever the program runs

// '/' ':' and blanks (and anything else a benchmark name or JSON string would trip over) become '_'.
std::string shape_id_from_name(std::string_view name);

// Collects shapes in the order added; throws BenchPlanError (naming both origins) when two get the same id,
// and passes ConvDescriptorError on from the parser.
class ShapeCollection {
 public:
  void add_file(const std::filesystem::path& path);
  void add_standard_suite(const std::string& suite);
  void add_descriptor(const std::string& descriptor);
  const std::vector<std::shared_ptr<const BenchShape>>& shapes() const { return shapes_; }

 private:
  void add(BenchShape shape);
  std::vector<std::shared_ptr<const BenchShape>> shapes_;
  std::map<std::string, std::string> origin_of_id_;
};

}  // namespace convlab::bench
