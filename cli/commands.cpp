// The list of subcommands: one line per cli/cmd_<name>.cpp.
#include "cli/commands.hpp"

namespace convlab::cli {

void add_impls_command(CLI::App& app);

const std::vector<AddCommand>& all_commands() {
  static const std::vector<AddCommand> commands = {
      add_impls_command,
  };
  return commands;
}

}  // namespace convlab::cli
