// The registry's contract: one reference, names unique, and what each implementation says it computes.
#include <catch2/catch.hpp>
#include <set>

#include "common/conv/conv_registry.hpp"
#include "common/nn/architecture.hpp"

TEST_CASE("registry: exactly one reference, unique names, every fast implementation makeable", "[registry]") {
  std::set<std::string> names;
  int references = 0;
  for (const convlab::ConvImplInfo& info : convlab::conv_implementations()) {
    INFO(info.name);
    CHECK(names.insert(info.name).second);
    CHECK(info.make() != nullptr);
    if (info.role == convlab::ConvRole::reference) ++references;
  }
  CHECK(references == 1);
  const convlab::ConvImplInfo& reference = convlab::reference_implementation();
  CHECK(reference.role == convlab::ConvRole::reference);
  CHECK(reference.role_name() == "reference");
  // The reference computes every valid layer: it is what the others are checked against.
  CHECK_FALSE(reference.unsupported);
}

TEST_CASE("registry: an implementation's refusals name the layer and reach the network check", "[registry]") {
  convlab::ConvImplInfo limited = convlab::reference_implementation();
  limited.name = "only3x3";
  limited.unsupported = [](const convlab::ConvShape& s, convlab::ConvPass pass) -> std::string {
    if (pass == convlab::ConvPass::backward_weights) return {};
    if (s.kernel_height == 3 && s.kernel_width == 3) return {};
    return "needs a 3x3 window; this layer has " + std::to_string(s.kernel_height) + "x" +
           std::to_string(s.kernel_width);
  };
  convlab::ConvShape five{.batch = 1, .in_channels = 1, .in_height = 28, .in_width = 28, .out_channels = 20,
                          .kernel_height = 5, .kernel_width = 5};
  CHECK(limited.supports(five, convlab::ConvPass::backward_weights));
  CHECK_FALSE(limited.supports(five, convlab::ConvPass::forward));
  CHECK(limited.why_unsupported(five) == "needs a 3x3 window; this layer has 5x5");

  const auto lecture = convlab::Architecture::lecture(1, {20, 50}, 10, {28, 28}, {5, 5}, {1, 1});
  CHECK_THAT(convlab::unsupported_layer(limited, lecture, false),
             Catch::StartsWith("implementation 'only3x3' cannot run convolution layer 1 (") &&
                 Catch::EndsWith("): needs a 3x3 window; this layer has 5x5"));
  const auto three = convlab::Architecture::parse("conv8:3x3:p1,conv8:3x3,dense10", 1, 28, 28, 10);
  CHECK(convlab::unsupported_layer(limited, three, true).empty());
  const auto mixed = convlab::Architecture::parse("conv8:3x3:p1,conv8:5x5,dense10", 1, 28, 28, 10);
  CHECK_THAT(convlab::unsupported_layer(limited, mixed, true), Catch::Contains("convolution layer 2 ("));
  CHECK(convlab::unsupported_layer(convlab::reference_implementation(), mixed, true).empty());
}
