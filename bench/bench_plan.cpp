// The benchmark suite's cases (see bench_plan.hpp).
#include "bench/bench_plan.hpp"

#include <sstream>

namespace convlab::bench {

const char* pass_name(Pass pass) {
  switch (pass) {
    case Pass::forward: return "forward";
    case Pass::backward_input: return "backward_input";
    case Pass::backward_weights: return "backward_weights";
  }
  return "unknown";
}

namespace {
ConvShape make_shape(Index channels, Index size, Index filters, Index kernel, Index stride, Index padding) {
  ConvShape s;
  s.in_channels = channels;
  s.in_height = s.in_width = size;
  s.out_channels = filters;
  s.kernel_height = s.kernel_width = kernel;
  s.stride_height = s.stride_width = stride;
  s.pad_height = s.pad_width = padding;
  return s;
}
}  // namespace

const std::vector<BenchShape>& bench_shapes() {
  static const std::vector<BenchShape> shapes = {
      {"lecture1", "the lecture's layer: 1 -> 20 channels, 5x5 windows on 28x28 MNIST digits",
       make_shape(1, 28, 20, 5, 1, 0)},
      {"conv2_s1", "a second layer on its 24x24x20 output: 20 -> 50 channels, 5x5, stride 1",
       make_shape(20, 24, 50, 5, 1, 0)},
      {"conv2_s2", "the same second layer with stride 2", make_shape(20, 24, 50, 5, 2, 0)},
      {"pad3x3", "a padded 3x3 layer: 20 -> 20 channels on 24x24, padding 1", make_shape(20, 24, 20, 3, 1, 1)},
  };
  return shapes;
}

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

BenchPlan make_bench_plan(bool quick) {
  BenchPlan plan;
  plan.quick = quick;
  for (const BenchShape& shape : bench_shapes()) {
    const bool lecture = shape.id == "lecture1";
    for (Pass pass : kAllPasses) {
      std::vector<Index> batches;
      if (quick) {
        batches = {64};
        if (lecture) batches.push_back(1000);
      } else {
        batches = {1, 64, 1000};
        // The lecture's forward pass over the whole test set at once, as the lecture does it.
        if (lecture && pass == Pass::forward) batches.push_back(10000);
      }
      for (Index batch : batches) plan.cases.push_back(BenchCase{&shape, pass, batch});
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
    json << "    {\"shape_id\": \"" << c.shape->id << "\", \"pass\": \"" << pass_name(c.pass)
         << "\", \"batch\": " << s.batch << ", \"in_channels\": " << s.in_channels
         << ", \"in_height\": " << s.in_height << ", \"in_width\": " << s.in_width
         << ", \"out_channels\": " << s.out_channels << ", \"kernel_height\": " << s.kernel_height
         << ", \"kernel_width\": " << s.kernel_width << ", \"stride\": " << s.stride_height
         << ", \"padding\": " << s.pad_height << ", \"flops\": " << c.flops()
         << ", \"arithmetic_intensity\": " << c.arithmetic_intensity(4) << ", \"describe\": \"" << s.describe()
         << "\"}" << (i + 1 < plan.cases.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
  return json.str();
}

}  // namespace convlab::bench
