// The list of subcommands: one line per cli/cmd_<name>.cpp.
#include "cli/commands.hpp"

namespace convlab::cli {

void add_impls_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_conv_command(CLI::App& app);
void add_windows_command(CLI::App& app);
void add_lecture_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_accuracy_command(CLI::App& app);

const std::vector<AddCommand>& all_commands() {
  static const std::vector<AddCommand> commands = {
      add_impls_command,
      add_train_command,
      add_evaluate_command,
      add_conv_command,
      add_windows_command,
      add_lecture_command,
      add_plot_command,
      add_compare_command,
      add_export_command,
      add_accuracy_command,
  };
  return commands;
}

}  // namespace convlab::cli
