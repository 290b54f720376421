// `convlab impls`: what implementations exist, the idea each adds, the flags each was built with, its role,
// and which layers and passes it computes. --names prints only the names (for scripts), optionally only
// those of one role or those that compute every pass of a given layer.
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cli/commands.hpp"
#include "common/conv/conv_descriptor.hpp"
#include "common/conv/conv_registry.hpp"

namespace convlab::cli {

namespace {

struct ImplsOptions {
  bool names = false;
  std::string role, shape;
};

void print_details(const ConvImplInfo& info) {
  std::cout << std::left << std::setw(8) << info.name << "  " << info.summary << "\n"
            << std::setw(8) << "" << "  built with: " << info.build_flags
            << (info.uses_threads ? "  (OpenMP threads)" : "") << "\n";
  std::cout << std::setw(8) << "" << "  role: " << info.role_name()
            << (info.unsupported ? " (some layers only: `convlab impls --shape DESC` says which)"
                                 : " (every layer, every pass)")
            << "\n";
  if (!info.delegates.empty()) std::cout << std::setw(8) << "" << "  hands off: " << info.delegates << "\n";
  if (!info.direct_sums) {
    std::cout << std::setw(8) << "" << "  error bound: its own (operands transformed before the products, not a "
              << "direct sum)\n";
  }
  std::string passes;
  for (const std::string& pass : info.reference_order.pass_names()) passes += (passes.empty() ? "" : ", ") + pass;
  if (!passes.empty()) {
    std::cout << std::setw(8) << "" << "  bitwise " << reference_implementation().name
              << "'s (same summation order): " << passes << "\n";
  }
}

void run_impls(const ImplsOptions& options) {
  if (!options.role.empty() && options.role != "reference" && options.role != "fast") {
    throw std::invalid_argument("--role: expected reference or fast, got '" + options.role + "'");
  }
  std::optional<ConvDescriptor> layer;
  if (!options.shape.empty()) layer = parse_conv_descriptor(options.shape, 1);
  for (const ConvImplInfo& info : conv_implementations()) {
    if (!options.role.empty() && info.role_name() != options.role) continue;
    if (layer) {
      const std::string why = info.why_unsupported(layer->shape);
      if (!why.empty()) {
        if (!options.names) std::cout << info.name << ": not for " << layer->shape.describe() << ": " << why << "\n";
        continue;
      }
    }
    if (options.names) {
      std::cout << info.name << "\n";
    } else {
      print_details(info);
    }
  }
}

}  // namespace

void add_impls_command(CLI::App& app) {
  auto options = std::make_shared<ImplsOptions>();
  CLI::App* command = app.add_subcommand("impls", "List the registered convolution implementations");
  command->add_flag("--names", options->names, "Print only the names, one per line");
  command->add_option("--role", options->role, "Only the reference or only the fast implementations");
  command->add_option("--shape", options->shape,
                      "Only those computing every pass of this layer (a benchdnn descriptor, e.g. "
                      "'ic1ih28oc20kh5'); without --names the others are listed with the reason");
  command->callback([options] { run_impls(*options); });
}

}  // namespace convlab::cli
