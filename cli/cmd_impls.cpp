// `convlab impls`: what implementations exist, the idea each adds, and the flags each was built with.
#include <iomanip>
#include <iostream>

#include "cli/commands.hpp"
#include "common/conv_registry.hpp"

namespace convlab::cli {

void add_impls_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand("impls", "List the registered convolution implementations");
  command->callback([] {
    for (const ConvImplInfo& info : conv_implementations()) {
      std::cout << std::left << std::setw(8) << info.name << "  " << info.summary << "\n"
                << std::setw(8) << "" << "  built with: " << info.build_flags
                << (info.uses_threads ? "  (OpenMP threads)" : "") << "\n";
    }
  });
}

}  // namespace convlab::cli
