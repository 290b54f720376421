// The suite's shapes from descriptor files and flags (see bench_shapes.hpp).
#include "bench/bench_shapes.hpp"

#include "common/conv/conv_descriptor.hpp"

namespace convlab::bench {

// Installed (cmake --install), the shape files sit in <prefix>/share/convlab/shapes beside <prefix>/bin; from
// the build tree they are read in the source tree.
std::filesystem::path standard_shapes_dir() {
  std::error_code error;
  const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const std::filesystem::path installed = program.parent_path().parent_path() / "share" / "convlab" / "shapes";
    if (std::filesystem::is_directory(installed, error)) return installed;
  }
  return CONVLAB_BENCH_SHAPES_DIR;
}

std::string shape_id_from_name(std::string_view name) {
  std::string id(name);
  for (char& c : id) {
    const bool safe = c > ' ' && c < 0x7f && c != '/' && c != ':' && c != '"' && c != '\\';
    if (!safe) c = '_';
  }
  return id;
}

void ShapeCollection::add(BenchShape shape) {
  const auto [existing, inserted] = origin_of_id_.emplace(shape.id, shape.origin);
  if (!inserted) {
    throw BenchPlanError(shape.origin + ": shape id '" + shape.id + "' is already used by " + existing->second +
                         " (names must stay distinct once '/', ':' and blanks become '_'; rename one with n\"...\")");
  }
  shapes_.push_back(std::make_shared<const BenchShape>(std::move(shape)));
}

void ShapeCollection::add_file(const std::filesystem::path& path) {
  const std::string suite = path.stem().string();
  for (const ConvDescriptor& descriptor : read_conv_descriptor_file(path, kUserDefaultBatch)) {
    add(BenchShape{shape_id_from_name(descriptor.name), descriptor.name, suite,
                   path.string() + ":" + std::to_string(descriptor.line), descriptor.shape});
  }
}

void ShapeCollection::add_standard_suite(const std::string& suite) {
  add_file(standard_shapes_dir() / (suite + ".txt"));
}

void ShapeCollection::add_descriptor(const std::string& text) {
  const ConvDescriptor descriptor = parse_conv_descriptor(text, kUserDefaultBatch);
  add(BenchShape{shape_id_from_name(descriptor.name), descriptor.name, "user", "--shape '" + text + "'",
                 descriptor.shape});
}

}  // namespace convlab::bench
