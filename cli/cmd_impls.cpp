// `convlab impls`: what implementations exist, the idea each adds, and the flags each was built with.
#include <iomanip>
#include <iostream>
#include <string>
#include <utility>

#include "cli/commands.hpp"
#include "common/conv/conv_registry.hpp"

namespace convlab::cli {

void add_impls_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand("impls", "List the registered convolution implementations");
  command->callback([] {
    for (const ConvImplInfo& info : conv_implementations()) {
      std::cout << std::left << std::setw(8) << info.name << "  " << info.summary << "\n"
                << std::setw(8) << "" << "  built with: " << info.build_flags
                << (info.uses_threads ? "  (OpenMP threads)" : "") << "\n";
      const ConvImplInfo::ReferenceOrder& order = info.reference_order;
      std::string passes;
      for (const auto& [kept, pass] : {std::pair{order.forward, "forward"}, {order.backward_input, "input gradient"},
                                       {order.weight_gradient, "weight gradient"}, {order.bias_gradient, "bias gradient"}}) {
        if (kept) passes += (passes.empty() ? "" : ", ") + std::string(pass);
      }
      if (!passes.empty()) std::cout << std::setw(8) << "" << "  bitwise naive's (same summation order): " << passes << "\n";
    }
  });
}

}  // namespace convlab::cli
