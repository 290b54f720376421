// The benchmark suite's cases (see bench_plan.hpp).
#include "bench/bench_plan.hpp"

#include <algorithm>
#include <sstream>

namespace convlab::bench {

ConvShape BenchCase::with_batch() const {
  ConvShape s = shape->shape;
  s.batch = batch;
  return s;
}

double BenchCase::flops() const {
  const ConvShape s = with_batch();
  switch (pass) {
    case Pass::forward: return s.forward_flops();
    case Pass::backward_input: return s.backward_input_flops();
    case Pass::backward_weights: return s.backward_weights_flops();
  }
  return 0;
}

double BenchCase::arithmetic_intensity(std::size_t element_size) const {
  const ConvShape s = with_batch();
  const double in = double(s.input_size()), w = double(s.weight_size()), out = double(s.output_size());
  // Every pass reads two of the three tensors and writes the third (bias and its gradient are negligible).
  return flops() / ((in + w + out) * double(element_size));
}

std::string BenchCase::name(const std::string& impl, const std::string& dtype, int threads) const {
  std::ostringstream text;
  text << "conv/" << impl << "/" << pass_name(pass) << "/" << shape->id << "/" << dtype << "/batch:" << batch
       << "/threads:" << threads;
  return text.str();
}

namespace {

// The lecture layer's id in mnist.txt: the summary's targets are about it.
constexpr const char* kLectureShapeId = "lecture1";

std::vector<Index> batches_for(const BenchShape& shape, Pass pass, const PlanRequest& request) {
  std::vector<Index> batches;
  const bool standard = request.shape_files.empty() && request.descriptors.empty();
  if (!(standard && request.quick)) batches.push_back(1);
  batches.push_back(shape.shape.batch);
  if (standard && shape.id == kLectureShapeId) {
    batches.push_back(1000);
    // The lecture's forward pass over the whole test set at once, as the lecture does it.
    if (!request.quick && pass == Pass::forward) batches.push_back(10000);
  }
  std::sort(batches.begin(), batches.end());  // the peers predict a case's time from the smaller batches
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());
  return batches;
}

// JSON string literal: names and descriptors are printable ASCII, but may hold a backslash.
std::string json_string(const std::string& text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

BenchPlan make_bench_plan(const PlanRequest& request) {
  ShapeCollection shapes;
  if (request.shape_files.empty() && request.descriptors.empty()) {
    for (const char* suite : kStandardSuites) {
      shapes.add_standard_suite(suite);
      if (request.quick) break;
    }
  } else {
    for (const std::string& file : request.shape_files) shapes.add_file(file);
    for (const std::string& descriptor : request.descriptors) shapes.add_descriptor(descriptor);
  }
  BenchPlan plan;
  plan.quick = request.quick;
  plan.shapes = shapes.shapes();
  for (const auto& shape : plan.shapes) {
    for (Pass pass : kAllPasses) {
      for (Index batch : batches_for(*shape, pass, request)) plan.cases.push_back(BenchCase{shape.get(), pass, batch});
    }
  }
  return plan;
}

std::string bench_plan_json(const BenchPlan& plan) {
  std::ostringstream json;
  json.precision(17);
  json << "{\n  \"quick\": " << (plan.quick ? "true" : "false") << ",\n  \"thread_counts\": [";
  for (std::size_t i = 0; i < plan.thread_counts.size(); ++i) json << (i ? ", " : "") << plan.thread_counts[i];
  json << "],\n  \"cases\": [\n";
  for (std::size_t i = 0; i < plan.cases.size(); ++i) {
    const BenchCase& c = plan.cases[i];
    const ConvShape s = c.with_batch();
    // "stride" and "padding" (the row values) stay for readers of older plans.
    json << "    {\"shape_id\": " << json_string(c.shape->id) << ", \"suite\": " << json_string(c.shape->suite)
         << ", \"name\": " << json_string(c.shape->name) << ", \"pass\": \"" << pass_name(c.pass)
         << "\", \"batch\": " << s.batch << ", \"in_channels\": " << s.in_channels
         << ", \"in_height\": " << s.in_height << ", \"in_width\": " << s.in_width
         << ", \"out_channels\": " << s.out_channels << ", \"kernel_height\": " << s.kernel_height
         << ", \"kernel_width\": " << s.kernel_width << ", \"stride\": " << s.stride_height
         << ", \"padding\": " << s.pad_height << ", \"stride_height\": " << s.stride_height
         << ", \"stride_width\": " << s.stride_width << ", \"pad_height\": " << s.pad_height
         << ", \"pad_width\": " << s.pad_width << ", \"flops\": " << c.flops()
         << ", \"arithmetic_intensity\": " << c.arithmetic_intensity(4)
         << ", \"describe\": " << json_string(s.describe()) << "}" << (i + 1 < plan.cases.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
  return json.str();
}

}  // namespace convlab::bench
